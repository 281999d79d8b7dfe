// The request Stalwart POSTs to an MTA hook, as its code (not its docs) builds it:
// ../shared/reference/stalwart-mta-hooks.md §3. Plain structs plus one decoder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relaytrust::hookd {

// Stalwart's stage enum. "auth" is a valid value that Stalwart never sends (no call site);
// it still decodes so that a hook registered for it would be answered, not refused.
enum class HookStage : std::uint8_t { Connect, Ehlo, Auth, Mail, Rcpt, Data };

std::string_view hook_stage_name(HookStage stage);

struct HookClient {
    std::string ip;
    std::uint16_t port = 0;
    std::optional<std::string> ptr;   // null until Stalwart's iprev check ran
    std::optional<std::string> helo;  // null before the first EHLO
};

struct HookServer {
    std::string name;  // "Stalwart v0.16.19"
    std::uint16_t port = 0;
    std::string ip;  // the listener's bind address, e.g. "::"
};

struct HookTls {
    std::string version;
    std::string cipher;
};

struct HookEnvelope {
    std::string from;             // lowercased by Stalwart; "" for the null sender
    std::vector<std::string> to;  // at "rcpt" the last one is the recipient being asked about
};

// A JSON string's contents as the request carried them, escapes and all. The message body
// stays this way until something needs its bytes: decoding 10 KB of escaped text cost more
// than the rest of a data request, and the engine reads the body only to hash it for DKIM.
class EscapedText {
  public:
    EscapedText() = default;
    // text: the contents of a JSON string that json::Document validated (Node::text), with
    // its decoded length; anything else decodes to garbage. copy_of keeps a copy; view_of
    // refers to text, which must outlive this object.
    static EscapedText copy_of(std::string_view text, std::size_t decoded_size, bool has_escapes) {
        EscapedText t(decoded_size, has_escapes);
        t.owned_ = text;
        return t;
    }
    static EscapedText view_of(std::string_view text, std::size_t decoded_size, bool has_escapes) {
        EscapedText t(decoded_size, has_escapes);
        t.view_ = text;
        t.is_view_ = true;
        return t;
    }
    // Text that is already decoded (tests, requests built in code).
    static EscapedText from_decoded(std::string text) {
        EscapedText t(text.size(), false);
        t.owned_ = std::move(text);
        return t;
    }

    std::size_t size() const { return decoded_size_; }  // decoded
    std::string decode() const;

  private:
    EscapedText(std::size_t decoded_size, bool has_escapes)
        : decoded_size_(decoded_size), has_escapes_(has_escapes) {}
    std::string_view text() const { return is_view_ ? view_ : std::string_view(owned_); }

    std::string owned_;
    std::string_view view_;
    bool is_view_ = false;
    std::size_t decoded_size_ = 0;
    bool has_escapes_ = false;
};

struct HookMessage {
    // [name, raw value] as received: the value keeps its leading space, folding and final CRLF.
    std::vector<std::pair<std::string, std::string>> headers;
    EscapedText contents;  // the raw body after the blank line
    std::uint64_t size = 0;
};

struct HookRequest {
    HookStage stage = HookStage::Connect;
    HookClient client;
    std::optional<std::string> sasl_login;
    std::optional<HookTls> tls;
    HookServer server;
    std::optional<std::string> queue_id;
    std::optional<HookEnvelope> envelope;
    std::optional<HookMessage> message;
};

struct HookRequestDecodeResult {
    std::optional<HookRequest> request;
    std::string error;  // one line, set when request is empty
};

// Strict: malformed JSON, a wrong type, a missing required member or a stage without the
// data Stalwart always sends with it is an error naming the member. Unknown members are
// ignored, as Stalwart's own serde types ignore them.
//
// contents: Copy gives a request that owns all its data; View leaves message.contents
// referring into body (no copy of the message body), so body must outlive the request: what
// hookd does, whose request lives only inside the call that holds the body.
enum class ContentsMode { Copy, View };
HookRequestDecodeResult decode_hook_request(std::string_view body,
                                            ContentsMode contents = ContentsMode::Copy);

}  // namespace relaytrust::hookd
