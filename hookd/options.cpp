#include "options.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace relaytrust::hookd {

namespace {

template <typename Int>
bool parse_int(const std::string& text, Int min, Int max, Int& out) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        return false;
    }
    out = value;
    return true;
}

}  // namespace

bool parse_listen(const std::string& text, std::string& host, std::uint16_t& port) {
    std::string port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return false;
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) return false;  // bare IPv6
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    return !host.empty() && parse_int<std::uint16_t>(port_text, 0, 65535, port);
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    unsigned char v4[4];
    if (inet_pton(AF_INET, host.c_str(), v4) == 1) return v4[0] == 127;
    unsigned char v6[16];
    if (inet_pton(AF_INET6, host.c_str(), v6) == 1) {
        static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(v6, kLoopback, 16) == 0) return true;
        return std::memcmp(v6, kMapped, 12) == 0 && v6[12] == 127;
    }
    return false;
}

std::string usage_text() {
    return "usage: relaytrust-hookd [options]\n"
           "Stalwart MTA-hook endpoint for the relaytrust policy engine.\n"
           "\n"
           "  --policy FILE             policy file (default: the embedded default policy)\n"
           "  --dns HOST:PORT           DNS server for SPF/DKIM/DMARC (default: the policy's,\n"
           "                            else /etc/resolv.conf)\n"
           "  --dns-zone FILE           answer those lookups from a zone file instead (OpenSPF\n"
           "                            zonedata YAML, as relaytrust test --dns-zone)\n"
           "  --listen HOST:PORT        address to listen on (default 127.0.0.1:8686;\n"
           "                            [v6addr]:PORT for IPv6; port 0 picks a free one)\n"
           "  --bearer-token-file FILE  accept \"Authorization: Bearer <first line of FILE>\"\n"
           "  --basic-auth-file FILE    accept Basic auth for \"user:secret\" on FILE's first "
           "line\n"
           "  --no-auth                 no authentication (only on a loopback address)\n"
           "  --tls-cert FILE           serve HTTPS with this PEM certificate (chain)\n"
           "  --tls-key FILE            ... and this PEM private key\n"
           "  --max-body BYTES          largest request body (default 67108864); larger: 413\n"
           "  --threads N               worker threads = concurrent connections (default 32)\n"
           "  --max-queued N            connections waiting for a thread (default 256)\n"
           "  --read-timeout MS         per socket read/write (default 10000)\n"
           "  --request-timeout MS      whole request body (default 30000)\n"
           "  --idle-timeout MS         keep-alive wait for the next request (default 100000)\n"
           "  --verbose                 log every request\n"
           "  --help, --version\n"
           "\n"
           "Signals: SIGHUP reloads the policy (a broken file keeps the old one);\n"
           "SIGTERM/SIGINT stop after the requests in progress.\n";
}

OptionsResult parse_options(const std::vector<std::string>& args) {
    OptionsResult result;
    HookdOptions o;
    std::string listen = kDefaultListen;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) {
                result.error = arg + " needs a value";
                return false;
            }
            out = args[++i];
            return true;
        };
        auto number = [&](auto& out, auto min, auto max) {
            std::string text;
            if (!value(text)) return false;
            using Int = std::remove_reference_t<decltype(out)>;
            if (!parse_int<Int>(text, static_cast<Int>(min), static_cast<Int>(max), out)) {
                result.error = arg + ": expected a number from " + std::to_string(min) + " to " +
                               std::to_string(max) + ", got '" + text + "'";
                return false;
            }
            return true;
        };
        auto milliseconds = [&](std::chrono::milliseconds& out) {
            long long ms = 0;
            if (!number(ms, 1LL, 3'600'000LL)) return false;
            out = std::chrono::milliseconds(ms);
            return true;
        };
        bool ok = true;
        if (arg == "--help" || arg == "-h") {
            result.help = true;
            return result;
        } else if (arg == "--version") {
            result.version = true;
            return result;
        } else if (arg == "--policy") {
            ok = value(o.policy_file);
        } else if (arg == "--dns") {
            ok = value(o.dns_forwarder);
        } else if (arg == "--dns-zone") {
            ok = value(o.dns_zone_file);
        } else if (arg == "--listen") {
            ok = value(listen);
        } else if (arg == "--bearer-token-file") {
            ok = value(o.bearer_token_file);
        } else if (arg == "--basic-auth-file") {
            ok = value(o.basic_auth_file);
        } else if (arg == "--no-auth") {
            o.no_auth = true;
        } else if (arg == "--tls-cert") {
            ok = value(o.server.tls_cert_file);
        } else if (arg == "--tls-key") {
            ok = value(o.server.tls_key_file);
        } else if (arg == "--max-body") {
            ok = number(o.server.max_body, std::size_t{1024}, std::size_t{1} << 32);
        } else if (arg == "--threads") {
            ok = number(o.server.threads, 1, 4096);
        } else if (arg == "--max-queued") {
            ok = number(o.server.max_queued, 1, 65536);
        } else if (arg == "--read-timeout") {
            ok = milliseconds(o.server.read_timeout);
        } else if (arg == "--request-timeout") {
            ok = milliseconds(o.server.request_timeout);
        } else if (arg == "--idle-timeout") {
            ok = milliseconds(o.server.idle_timeout);
        } else if (arg == "--verbose" || arg == "-v") {
            o.verbose = true;
        } else {
            result.error = "unknown option '" + arg + "'";
            return result;
        }
        if (!ok) return result;
    }

    if (!parse_listen(listen, o.server.host, o.server.port)) {
        result.error = "--listen: expected HOST:PORT or [IPv6]:PORT, got '" + listen + "'";
        return result;
    }
    if (o.server.tls_cert_file.empty() != o.server.tls_key_file.empty()) {
        result.error = "--tls-cert and --tls-key go together";
        return result;
    }
    const bool credentials = !o.bearer_token_file.empty() || !o.basic_auth_file.empty();
    if (o.no_auth && credentials) {
        result.error = "--no-auth conflicts with --bearer-token-file/--basic-auth-file";
        return result;
    }
    if (!o.no_auth && !credentials) {
        result.error =
            "authentication is required: give --bearer-token-file FILE (or --no-auth on a "
            "loopback address)";
        return result;
    }
    // Anyone who can reach the port could otherwise steer mail decisions.
    if (o.no_auth && !is_loopback_host(o.server.host)) {
        result.error = "--no-auth is refused on a non-loopback address (" + o.server.host + ")";
        return result;
    }
    result.options = std::move(o);
    return result;
}

}  // namespace relaytrust::hookd
