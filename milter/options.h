// The relaytrust-milter command line.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "metrics_server.h"

namespace relaytrust::milter {

enum class LogTarget { Stderr, Syslog };

// Postfix-style socket, as admins write it in smtpd_milters: the same text works on both sides.
inline constexpr std::string_view kDefaultSocket = "inet:127.0.0.1:8895";

struct Options {
    std::string policy_path;  // "" = the embedded default policy
    std::string socket{kDefaultSocket};
    bool foreground = false;
    std::string user;              // drop to this user after opening the socket; "" = stay
    std::string pidfile;           // "" = none
    std::optional<LogTarget> log;  // unset: stderr in the foreground, syslog as a daemon
    mode_t socket_mode = 0660;     // unix sockets only
    bool check = false;            // validate the policy and exit
    std::string dns;               // --dns HOST:PORT for SPF/DKIM/DMARC; "" = policy/resolv.conf
    bool no_auth = false;          // --no-auth: skip SPF/DKIM/DMARC
    bool verbose = false;          // also log macros and headers per connection
    int timeout_seconds = 0;       // smfi_settimeout; 0 = libmilter's default (7210 s)
    bool tcp_nodelay = true;       // --no-tcp-nodelay: libmilter as shipped (benchmarks only)
    std::optional<MetricsEndpoint> metrics;  // --metrics HOST:PORT; unset = no HTTP endpoint
    bool metrics_public = false;             // --metrics-public: allow a non-loopback address

    LogTarget effective_log() const {
        return log.value_or(foreground || check ? LogTarget::Stderr : LogTarget::Syslog);
    }
};

struct ParseResult {
    std::optional<Options> options;  // unset on error or when help/version was printed
    std::string error;               // set on error
    bool exit_now = false;           // --help/--version done
};

ParseResult parse_options(int argc, char** argv);
std::string usage_text();

// Translates a Postfix-style socket ("inet:HOST:PORT", "inet:[IPV6]:PORT", "unix:PATH") to the
// form smfi_setconn wants ("inet:PORT@HOST", "inet6:PORT@IPV6", "unix:PATH"). libmilter's own
// forms ("inet:PORT@HOST", "local:PATH", ...) pass through. Returns "" and sets error otherwise.
std::string libmilter_socket_spec(std::string_view socket, std::string& error);

// The unix socket path of a spec, or "" for an inet socket.
std::string unix_socket_path(std::string_view socket);

}  // namespace relaytrust::milter
