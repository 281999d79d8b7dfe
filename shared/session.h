// The facts an MTA gives about one SMTP connection and the message in flight.
// Front ends (milter, hookd, CLI) fill a Session; the engine only reads it, except for the
// per-message analysis it attaches in engine/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust {

// The SMTP stages the engine decides at. Order matters: a stage's facts include all earlier ones.
enum class Stage : std::uint8_t { Connect, Ehlo, Mail, Rcpt, Data };
inline constexpr std::size_t kStageCount = 5;

std::string_view stage_name(Stage stage);
// Parses "connect", "ehlo", "mail", "rcpt", "data"; returns false on anything else.
bool parse_stage(std::string_view text, Stage& out);

// One header as the MTA handed it over: the name without the colon, and the raw value exactly
// as it stood after the colon (leading space and folding CRLFs kept, no final CRLF).
struct Header {
    std::string name;
    std::string raw_value;
};

// What a front end knows that helps pick the listener (see Policy::identify_listener).
struct ListenerClues {
    std::string daemon_name;  // Postfix/Sendmail {daemon_name}
    std::string hook_path;    // hookd: the request's URL path, e.g. "/hook/relay-in"
};

struct Session {
    // Connection facts (connect stage).
    std::string listener;  // resolved listener name; set from ListenerClues by the front end
    ListenerClues clues;
    std::string remote_ip;  // textual IPv4 or IPv6, no brackets, no zone
    std::uint16_t remote_port = 0;
    std::string remote_host;  // PTR name if the MTA resolved it, else ""
    std::string local_ip;
    std::uint16_t local_port = 0;
    std::string protocol = "smtp";  // "smtp" or "lmtp", as Stalwart names it
    std::string mta_hostname;       // the MTA's own name (milter macro j / Stalwart server.name)

    // TLS and authentication (ehlo/mail stage).
    std::string tls_version;  // "" when not TLS
    std::string tls_cipher;
    std::string helo;
    std::string authenticated_as;  // SASL login, "" when not authenticated

    // Envelope (per message).
    std::string queue_id;
    std::string mail_from;  // without angle brackets; "" for the null sender
    std::vector<std::string> recipients;

    // Content (per message): headers in arrival order. The body is not kept: it streams through
    // Transaction::body().
    std::vector<Header> headers;
    std::uint64_t body_size = 0;

    bool is_tls() const { return !tls_version.empty(); }
    // Clears everything that belongs to one message, keeping connection and HELO facts.
    void reset_message();
};

}  // namespace relaytrust
