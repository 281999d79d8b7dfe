// The immutable policy: listeners, trusted relays, network sets and per-stage rules.
// Loaded once (policy_loader.h), shared by every session as shared_ptr<const Policy> and
// swapped whole on reload; a session keeps the snapshot it started with.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "expr/expression.h"
#include "net/network_set.h"
#include "session.h"
#include "verdict.h"

namespace relaytrust {

// Where a trusted relay writes its verdict headers, relative to the rest of the header block.
enum class VerdictPosition {
    // Content filters (amavis, rspamd proxy, SpamAssassin via content_filter) prepend: the
    // relay's instance stands above the relay's own topmost Received hop.
    AboveReceived,
    // Milters that append with smfi_addheader: the relay's instance is the last in the block.
    LastInstance,
};

struct TrustedRelay {
    std::string name;                          // e.g. "av-relay"; exposed as the `relay` variable
    std::string network_name;                  // the network set the relay's IPs are in
    const net::NetworkSet* network = nullptr;  // points into Policy::networks
    VerdictPosition position = VerdictPosition::AboveReceived;
};

struct ListenerMatch {
    std::vector<std::string> daemon_names;   // Postfix/Sendmail {daemon_name}
    std::vector<std::uint16_t> local_ports;  // milter {daemon_port} / Stalwart server.port
    std::vector<std::string> local_ips;      // with local_ports: daemon address
    std::vector<std::string> hook_paths;     // hookd URL path
    bool is_default = false;                 // catches sessions no other listener claims
};

struct FailureMode {
    Action action = Action::Tempfail;  // Tempfail (fail closed) or Accept (fail open)
    SmtpReply reply{451, "4.3.0", "Temporary policy failure, try again later"};
};

struct Listener {
    std::string name;
    ListenerMatch match;
    std::vector<TrustedRelay> relays;  // empty: verdict headers from this listener never trusted
    FailureMode on_error;
    // "haproxy" when the MTA service behind this listener speaks the PROXY protocol (Postfix
    // smtpd_upstream_proxy_protocol); "" otherwise. Used for generated MTA configuration; the
    // engine itself sees the proxied client either way.
    std::string proxy_protocol;
};

// A policy value that may be a plain expression string, a JSON constant, or Stalwart's
// {"match": [{"if": c, "then": v}, ...], "else": v} form (first true `if` wins).
struct PolicyExpression {
    struct Branch {
        expr::Expression condition;
        expr::Expression value;
    };
    std::vector<Branch> branches;  // empty for a plain expression
    expr::Expression otherwise;    // the plain expression, or the "else" value

    expr::Value evaluate(const expr::Context& context) const;
    bool evaluate_bool(const expr::Context& context) const { return evaluate(context).to_bool(); }
};

struct Rule {
    std::string name;
    Stage stage = Stage::Data;
    PolicyExpression condition;  // evaluated to bool
    Action action = Action::Accept;
    std::optional<SmtpReply> reply;
    std::string subject_tag;  // data stage: prefix for Subject (added once)
    std::vector<std::pair<std::string, std::string>> add_headers;  // data stage
    std::string source_location;  // "file:line:col" of the rule, for messages
};

// How SPF, DKIM and DMARC are evaluated for a session (see engine/sender_auth.h).
enum class AuthMode : std::uint8_t { Disable, Relaxed, Strict, Origin };
std::string_view auth_mode_name(AuthMode mode);
bool parse_auth_mode(std::string_view text, AuthMode& out);

struct AuthSettings {
    // Each evaluates (per session, at MAIL FROM) to 'disable', 'relaxed', 'strict' or 'origin'.
    PolicyExpression spf_verify;
    PolicyExpression dkim_verify;
    PolicyExpression dmarc_verify;
    std::string authserv_id;                        // "" = our host name
    std::vector<std::string> trusted_authserv_ids;  // origin: believe the relay's A-R from these
    unsigned origin_hops = 1;               // which Received below ours records the original client
    bool dmarc_public_suffix_list = false;  // RFC 7489 PSL discovery instead of the tree walk
    std::string dns_forwarder;              // "HOST:PORT"; "" = /etc/resolv.conf
    std::chrono::milliseconds dns_timeout{5000};
    std::chrono::milliseconds deadline{10000};  // longest wait at end of data
    // Strict mode and a DNS temporary failure (temperror).
    FailureMode on_temperror{Action::Tempfail,
                             {451, "4.7.5", "Sender authentication failed temporarily, try later"}};
    SmtpReply spf_fail_reply{550, "5.7.23", "SPF validation failed"};
    SmtpReply dmarc_reject_reply{550, "5.7.1",
                                 "Rejected by the DMARC policy of the sender's domain"};
};

struct ResultHeaderConfig {
    std::string name = "X-Relaytrust-Result";
    bool enabled = true;
};

struct Policy {
    std::string source;    // file path, or "<embedded default policy>"
    std::string hostname;  // our own name as configured; "" = the MTA's name (see Transaction)
    std::string system_hostname;  // the machine's name, the last fallback
    std::map<std::string, net::NetworkSet, std::less<>> networks;
    // The same sets as written ("CIDR" / "!CIDR"), for generated MTA configuration.
    std::map<std::string, std::vector<std::string>, std::less<>> network_entries;
    std::map<std::string, expr::Value, std::less<>> constants;  // usable as variables
    std::vector<Listener> listeners;  // in file order; identify_listener tries them in order
    std::array<std::vector<Rule>, kStageCount> rules_by_stage;  // phase dispatch table
    ResultHeaderConfig result_header;
    AuthSettings auth;
    // Extra header names (beyond the built-in verdict header families) to treat as verdict
    // headers: stripped unless written by a trusted relay.
    std::vector<std::string> extra_verdict_headers;

    const Listener* find_listener(std::string_view name) const;
    // Picks the listener for a connection: daemon_name, then hook path, then local ip:port,
    // then the default listener. Returns nullptr when nothing matches and there is no default.
    const Listener* identify_listener(const Session& session) const;
    bool uses_stage(Stage stage) const { return !rules_by_stage[static_cast<int>(stage)].empty(); }
};

}  // namespace relaytrust
