#include "options.h"

#include <charconv>
#include <cstdio>
#include <vector>

namespace relaytrust::milter {

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

bool valid_port(std::string_view s) {
    unsigned value = 0;
    if (!all_digits(s) || s.size() > 5) return false;
    std::from_chars(s.data(), s.data() + s.size(), value);
    return value >= 1 && value <= 65535;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string libmilter_socket_spec(std::string_view socket, std::string& error) {
    for (std::string_view prefix : {"unix:", "local:"}) {
        if (starts_with(socket, prefix)) {
            if (socket.size() == prefix.size() || socket[prefix.size()] != '/') {
                error = "unix socket path must be absolute: " + std::string(socket);
                return "";
            }
            return std::string(socket);
        }
    }
    bool inet6 = starts_with(socket, "inet6:");
    if (!inet6 && !starts_with(socket, "inet:")) {
        error = "socket must be inet:HOST:PORT, inet:[IPV6]:PORT or unix:PATH, not " +
                std::string(socket);
        return "";
    }
    std::string_view rest = socket.substr(inet6 ? 6 : 5);
    // libmilter's own syntax is passed through untouched.
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        if (!valid_port(rest.substr(0, at)) || at + 1 == rest.size()) {
            error = "bad libmilter socket " + std::string(socket);
            return "";
        }
        return std::string(socket);
    }
    std::string_view host, port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            error = "bad socket " + std::string(socket) + ": expected inet:[IPV6]:PORT";
            return "";
        }
        host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
        inet6 = true;
    } else {
        auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            // "inet:PORT" alone: libmilter then listens on every address; refuse, since a policy
            // milter has no business on a public interface by accident.
            error = "socket " + std::string(socket) + " names no host; use inet:127.0.0.1:PORT";
            return "";
        }
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) inet6 = true;  // bare IPv6 address
    }
    if (host.empty() || !valid_port(port)) {
        error = "bad socket " + std::string(socket) + ": expected inet:HOST:PORT with PORT 1-65535";
        return "";
    }
    return std::string(inet6 ? "inet6:" : "inet:") + std::string(port) + "@" + std::string(host);
}

std::string unix_socket_path(std::string_view socket) {
    for (std::string_view prefix : {"unix:", "local:"}) {
        if (starts_with(socket, prefix)) return std::string(socket.substr(prefix.size()));
    }
    return "";
}

std::string usage_text() {
    std::string text =
        "usage: relaytrust-milter [options]\n"
        "  --policy FILE        policy file (default: the embedded default policy)\n"
        "  --socket SPEC        inet:HOST:PORT, inet:[IPV6]:PORT or unix:PATH\n"
        "                       (default: ";
    text += kDefaultSocket;
    text +=
        ")\n"
        "  --socket-mode OCTAL  permissions of a unix socket (default: 0660)\n"
        "  --foreground         do not detach; log to stderr unless --log says otherwise\n"
        "  --user USER          drop privileges to USER after opening the socket\n"
        "  --pidfile FILE       write the daemon's process id to FILE\n"
        "  --log stderr|syslog  where decisions and errors go (syslog facility mail)\n"
        "  --timeout SECONDS    MTA read/write timeout (default: libmilter's 7210)\n"
        "  --verbose            also log macros and headers of every connection\n"
        "  --no-tcp-nodelay     leave libmilter's TCP socket as shipped (for benchmarks)\n"
        "  --dns HOST:PORT      DNS server for SPF/DKIM/DMARC (default: the policy's, else\n"
        "                       /etc/resolv.conf)\n"
        "  --no-auth            skip SPF/DKIM/DMARC whatever the policy says\n"
        "  --metrics HOST:PORT  serve GET /metrics (Prometheus) and GET /healthz over HTTP\n"
        "                       (default: off; loopback only unless --metrics-public)\n"
        "  --metrics-public     allow --metrics on a non-loopback address (no authentication!)\n"
        "  --check              load the policy, report errors as file:line:col, and exit\n"
        "  --help, --version\n"
        "Signals: SIGHUP reloads the policy (a broken file keeps the old one); SIGTERM stops.\n";
    return text;
}

ParseResult parse_options(int argc, char** argv) {
    ParseResult result;
    Options options;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view value;
        bool has_inline_value = false;
        if (starts_with(arg, "--")) {
            if (auto eq = arg.find('='); eq != std::string_view::npos) {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_inline_value = true;
            }
        }
        auto take_value = [&]() -> bool {
            if (has_inline_value) return true;
            if (i + 1 >= args.size()) {
                result.error = std::string(arg) + " needs a value";
                return false;
            }
            value = args[++i];
            return true;
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage_text().c_str(), stdout);
            result.exit_now = true;
            return result;
        } else if (arg == "--version") {
            std::printf("relaytrust-milter %s\n", RELAYTRUST_VERSION);
            result.exit_now = true;
            return result;
        } else if (arg == "--policy") {
            if (!take_value()) return result;
            options.policy_path = value;
        } else if (arg == "--socket") {
            if (!take_value()) return result;
            options.socket = value;
        } else if (arg == "--socket-mode") {
            if (!take_value()) return result;
            unsigned mode = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), mode, 8);
            if (ec != std::errc{} || end != value.data() + value.size() || mode > 0777) {
                result.error = "--socket-mode wants an octal mode such as 0660";
                return result;
            }
            options.socket_mode = static_cast<mode_t>(mode);
        } else if (arg == "--foreground" || arg == "-f") {
            options.foreground = true;
        } else if (arg == "--user") {
            if (!take_value()) return result;
            options.user = value;
        } else if (arg == "--pidfile") {
            if (!take_value()) return result;
            options.pidfile = value;
        } else if (arg == "--log") {
            if (!take_value()) return result;
            if (value == "stderr") {
                options.log = LogTarget::Stderr;
            } else if (value == "syslog") {
                options.log = LogTarget::Syslog;
            } else {
                result.error = "--log wants stderr or syslog";
                return result;
            }
        } else if (arg == "--timeout") {
            if (!take_value()) return result;
            int seconds = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
            if (ec != std::errc{} || end != value.data() + value.size() || seconds < 1) {
                result.error = "--timeout wants a positive number of seconds";
                return result;
            }
            options.timeout_seconds = seconds;
        } else if (arg == "--verbose" || arg == "-v") {
            options.verbose = true;
        } else if (arg == "--no-tcp-nodelay") {
            options.tcp_nodelay = false;
        } else if (arg == "--dns") {
            if (!take_value()) return result;
            options.dns = value;
        } else if (arg == "--no-auth") {
            options.no_auth = true;
        } else if (arg == "--metrics") {
            if (!take_value()) return result;
            MetricsEndpoint endpoint;
            if (!parse_metrics_endpoint(value, endpoint, result.error)) return result;
            options.metrics = std::move(endpoint);
        } else if (arg == "--metrics-public") {
            options.metrics_public = true;
        } else if (arg == "--check") {
            options.check = true;
        } else {
            result.error = "unknown option " + std::string(arg);
            return result;
        }
    }
    if (!options.check) {
        std::string error;
        if (libmilter_socket_spec(options.socket, error).empty()) {
            result.error = error;
            return result;
        }
    }
    // The endpoint has no authentication and tells anyone who can reach it how much mail
    // flows and what is refused: loopback only, unless the admin says otherwise.
    if (options.metrics && !options.metrics_public && !is_loopback_host(options.metrics->host)) {
        result.error = "--metrics " + options.metrics->host +
                       " is not a loopback address; add --metrics-public to serve metrics there";
        return result;
    }
    if (options.metrics_public && !options.metrics) {
        result.error = "--metrics-public needs --metrics HOST:PORT";
        return result;
    }
    if (!options.foreground && !options.check && options.log == LogTarget::Stderr) {
        result.error = "--log stderr needs --foreground (a daemon has no stderr)";
        return result;
    }
    result.options = std::move(options);
    return result;
}

}  // namespace relaytrust::milter
