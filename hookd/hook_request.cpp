#include "hook_request.h"

#include <array>
#include <stdexcept>

#include "json_reader.h"

namespace relaytrust::hookd {

namespace {

using json::Document;
using json::Node;

constexpr std::array<std::string_view, 6> kStageNames = {"connect", "ehlo", "auth",
                                                         "mail",    "rcpt", "data"};

struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Where a value sits in the request ("message.headers[3][0]"), spelled out only for an error
// message: building it for every member read cost an allocation each.
struct Path {
    const Path* parent = nullptr;
    std::string_view key;  // empty: an array index
    std::size_t index = 0;

    Path member(std::string_view name) const { return Path{this, name, 0}; }
    Path item(std::size_t i) const { return Path{this, {}, i}; }

    std::string str() const {
        if (!parent) return std::string(key);  // a root: "request", or "" for its members
        std::string text = parent->str();
        if (key.empty()) return text + "[" + std::to_string(index) + "]";
        if (!text.empty()) text += '.';
        return text.append(key);
    }
};

[[noreturn]] void fail(const Path& path, std::string_view expected) {
    throw DecodeError(path.str() + ": expected " + std::string(expected));
}

class RequestDecoder {
  public:
    RequestDecoder(const Document& document, ContentsMode contents_mode)
        : document_(document), contents_mode_(contents_mode) {}

    HookRequest decode() const;

  private:
    const Node& require_member(const Node& object, const Path& path, const char* key) const {
        const Node* member = document_.find(object, key);
        if (!member) throw DecodeError(path.member(key).str() + ": missing");
        return *member;
    }

    // A member that may be absent or null (serde's Option): nullptr for both.
    const Node* optional_member(const Node& object, const char* key) const {
        const Node* member = document_.find(object, key);
        return member && !member->is_null() ? member : nullptr;
    }

    static const Node& require_object(const Node& node, const Path& path) {
        if (!node.is_object()) fail(path, "an object");
        return node;
    }

    void read_string(const Node& node, const Path& path, std::string& out) const {
        if (!node.is_string()) fail(path, "a string");
        document_.decode_into(node, out);
    }

    std::string string_member(const Node& object, const Path& path, const char* key) const {
        std::string out;
        read_string(require_member(object, path, key), path.member(key), out);
        return out;
    }

    std::optional<std::string> nullable_string_member(const Node& object, const Path& path,
                                                      const char* key) const {
        const Node* member = optional_member(object, key);
        if (!member) return std::nullopt;
        std::string out;
        read_string(*member, path.member(key), out);
        return out;
    }

    // serde integer types reject 1.0 and "1": only JSON integers pass.
    static std::uint64_t require_unsigned(const Node& node, const Path& path, std::uint64_t max) {
        if (!node.is_unsigned() || node.magnitude > max) {
            fail(path, "an integer 0.." + std::to_string(max));
        }
        return node.magnitude;
    }

    std::uint16_t port_member(const Node& object, const Path& path) const {
        return static_cast<std::uint16_t>(
            require_unsigned(require_member(object, path, "port"), path.member("port"), 65535));
    }

    HookStage decode_stage(const Node& node, const Path& path) const {
        if (!node.is_string()) fail(path, "a string");
        // A stage name never needs an escape; an escaped one is decoded to compare.
        const std::string decoded = node.escaped ? document_.string(node) : std::string();
        const std::string_view text = node.escaped ? std::string_view(decoded) : node.text;
        for (std::size_t i = 0; i < kStageNames.size(); ++i) {
            if (kStageNames[i] == text) return static_cast<HookStage>(i);
        }
        fail(path, "one of connect|ehlo|auth|mail|rcpt|data (lowercase)");
    }

    HookClient decode_client(const Node& node, const Path& path) const {
        require_object(node, path);
        HookClient client;
        client.ip = string_member(node, path, "ip");
        client.port = port_member(node, path);
        client.ptr = nullable_string_member(node, path, "ptr");
        client.helo = nullable_string_member(node, path, "helo");
        if (const Node* active = optional_member(node, "activeConnections")) {
            require_unsigned(*active, path.member("activeConnections"), UINT32_MAX);
        }
        return client;
    }

    HookServer decode_server(const Node& node, const Path& path) const {
        require_object(node, path);
        HookServer server;
        server.name = string_member(node, path, "name");
        server.port = port_member(node, path);
        server.ip = string_member(node, path, "ip");
        return server;
    }

    std::string decode_address(const Node& node, const Path& path) const {
        require_object(node, path);
        // ESMTP "parameters" are never sent by Stalwart; if a future version sends them they
        // are not needed for a decision, so they are not decoded.
        return string_member(node, path, "address");
    }

    HookEnvelope decode_envelope(const Node& node, const Path& path) const {
        require_object(node, path);
        HookEnvelope envelope;
        envelope.from = decode_address(require_member(node, path, "from"), path.member("from"));
        const Path to_path = path.member("to");
        const Node& to = require_member(node, path, "to");
        if (!to.is_array()) fail(to_path, "an array");
        envelope.to.reserve(to.count);
        std::size_t i = 0;
        for (const Node* item = document_.first_child(to); i < to.count;
             item = document_.next_sibling(*item), ++i) {
            envelope.to.push_back(decode_address(*item, to_path.item(i)));
        }
        return envelope;
    }

    HookMessage decode_message(const Node& node, const Path& path) const {
        require_object(node, path);
        HookMessage message;
        const Path headers_path = path.member("headers");
        const Node& headers = require_member(node, path, "headers");
        if (!headers.is_array()) fail(headers_path, "an array");
        message.headers.resize(headers.count);
        std::size_t i = 0;
        for (const Node* pair = document_.first_child(headers); i < headers.count;
             pair = document_.next_sibling(*pair), ++i) {
            const Path item = headers_path.item(i);
            if (!pair->is_array() || pair->count != 2) {
                fail(item, "a [name, value] pair of strings");
            }
            const Node& name = *document_.first_child(*pair);
            const Node& value = *document_.next_sibling(name);
            read_string(name, item.item(0), message.headers[i].first);
            read_string(value, item.item(1), message.headers[i].second);
            if (message.headers[i].first.empty()) fail(item.item(0), "a non-empty header name");
        }
        const Node& contents = require_member(node, path, "contents");
        if (!contents.is_string()) fail(path.member("contents"), "a string");
        message.contents =
            contents_mode_ == ContentsMode::View
                ? EscapedText::view_of(contents.text, contents.decoded_size, contents.escaped)
                : EscapedText::copy_of(contents.text, contents.decoded_size, contents.escaped);
        message.size =
            require_unsigned(require_member(node, path, "size"), path.member("size"), UINT64_MAX);
        return message;
    }

    const Document& document_;
    ContentsMode contents_mode_;
};

HookRequest RequestDecoder::decode() const {
    const Path request_path{nullptr, "request", 0};
    const Node& root = require_object(document_.root(), request_path);
    HookRequest request;
    // The members of the request are named from the top ("context.stage", not
    // "request.context.stage"), as in Stalwart's reference.
    const Path top{};
    const Path context_path = top.member("context");
    const Node& context =
        require_object(require_member(root, request_path, "context"), context_path);
    request.stage =
        decode_stage(require_member(context, context_path, "stage"), context_path.member("stage"));
    request.client = decode_client(require_member(context, context_path, "client"),
                                   context_path.member("client"));
    request.server = decode_server(require_member(context, context_path, "server"),
                                   context_path.member("server"));
    if (const Node* sasl = optional_member(context, "sasl")) {
        const Path sasl_path = context_path.member("sasl");
        require_object(*sasl, sasl_path);
        request.sasl_login = string_member(*sasl, sasl_path, "login");
    }
    if (const Node* tls = optional_member(context, "tls")) {
        const Path tls_path = context_path.member("tls");
        require_object(*tls, tls_path);
        request.tls = HookTls{string_member(*tls, tls_path, "version"),
                              string_member(*tls, tls_path, "cipher")};
    }
    if (const Node* queue = optional_member(context, "queue")) {
        const Path queue_path = context_path.member("queue");
        require_object(*queue, queue_path);
        request.queue_id = string_member(*queue, queue_path, "id");
    }
    // Version 1 is the only protocol Stalwart speaks; anything else is a different protocol
    // (e.g. the IETF MTA-hooks draft) that must not be half-understood.
    if (const Node* protocol = optional_member(context, "protocol")) {
        const Path protocol_path = context_path.member("protocol");
        require_object(*protocol, protocol_path);
        const Path version_path = protocol_path.member("version");
        const Node& version = require_member(*protocol, protocol_path, "version");
        if (require_unsigned(version, version_path, UINT32_MAX) != 1) fail(version_path, "1");
    }
    if (const Node* envelope = optional_member(root, "envelope")) {
        request.envelope = decode_envelope(*envelope, top.member("envelope"));
    }
    if (const Node* message = optional_member(root, "message")) {
        request.message = decode_message(*message, top.member("message"));
    }

    // What Stalwart always sends with each stage; without it the stage cannot be decided.
    switch (request.stage) {
        case HookStage::Ehlo:
            if (!request.client.helo) {
                fail(context_path.member("client").member("helo"), "a string at stage ehlo");
            }
            break;
        case HookStage::Mail:
            if (!request.envelope) fail(top.member("envelope"), "an object at stage mail");
            break;
        case HookStage::Rcpt:
            if (!request.envelope || request.envelope->to.empty()) {
                fail(top.member("envelope").member("to"), "at least one recipient at stage rcpt");
            }
            break;
        case HookStage::Data:
            if (!request.envelope) fail(top.member("envelope"), "an object at stage data");
            if (!request.message) fail(top.member("message"), "an object at stage data");
            break;
        case HookStage::Connect:
        case HookStage::Auth:
            break;
    }
    return request;
}

}  // namespace

std::string EscapedText::decode() const {
    if (!has_escapes_) return std::string(text());
    std::string out;
    json::decode_validated(text(), out);
    return out;
}

std::string_view hook_stage_name(HookStage stage) {
    return kStageNames[static_cast<std::size_t>(stage)];
}

HookRequestDecodeResult decode_hook_request(std::string_view body, ContentsMode contents) {
    // One document per thread, reused: its node array is the only allocation a parse makes.
    // A huge request does not leave a huge array behind.
    thread_local Document document;
    struct Trim {
        ~Trim() { document.release_if_over(4096); }
    } trim;
    HookRequestDecodeResult result;
    std::string error;
    if (!document.parse(body, error)) {
        result.error = "malformed JSON at " + error;
        return result;
    }
    try {
        result.request = RequestDecoder(document, contents).decode();
    } catch (const DecodeError& e) {
        result.error = e.what();
    }
    return result;
}

}  // namespace relaytrust::hookd
