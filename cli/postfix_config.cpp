#include "postfix_config.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "net/network_set.h"
#include "policy/policy_loader.h"

namespace relaytrust::cli {

namespace {

// relaytrust-milter's default socket (milter/options.h kDefaultSocket), in Postfix's syntax.
constexpr const char* kDefaultMilterSocket = "inet:127.0.0.1:8895";
// Postfix 3.7's default milter_connect_macros; ours adds what the engine reads at connect
// (milter/macros.cpp kConnectMacros).
constexpr const char* kPostfixConnectMacros = "j {daemon_name} {daemon_addr} v _";
constexpr const char* kExtraConnectMacros =
    "{daemon_port} {client_addr} {client_port} {client_name}";
constexpr long long kPostfixContentTimeoutSeconds = 300;

struct ListenAddress {
    std::string ip;  // "" = every address of inet_interfaces
    std::uint16_t port = 0;
};

struct ConfigOptions {
    std::string policy_file;
    std::string milter = kDefaultMilterSocket;
    std::map<std::string, ListenAddress> listen;  // policy listener -> --listen-address
    bool restrict_relays = false;
    bool chroot = false;
    bool main_cf = false;    // print main.cf
    bool master_cf = false;  // print master.cf
};

bool parse_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

// "[ADDR:]PORT", ADDR an IPv4 address or a bracketed IPv6 address.
bool parse_listen_address(std::string_view text, ListenAddress& a) {
    std::string_view port = text;
    std::string_view ip;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) return false;
        ip = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        ip = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (ip.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets
    }
    if (!ip.empty()) {
        auto parsed = net::IpAddress::parse(ip);
        if (!parsed) return false;
        a.ip = parsed->to_string();
    }
    return parse_port(port, a.port);
}

// A value Postfix takes literally inside `-o name=value`: no whitespace (ends the value), no
// `$` (parameter expansion), no braces or commas (list syntax), nothing unprintable.
bool postfix_literal(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return c > 32 && c < 127 && c != '$' && c != '{' && c != '}' && c != ',' && c != '#';
    });
}

bool valid_milter_socket(const std::string& socket) {
    const bool inet = socket.rfind("inet:", 0) == 0 && socket.size() > 5;
    const bool unix_socket = (socket.rfind("unix:", 0) == 0 && socket.size() > 5) ||
                             (socket.rfind("local:", 0) == 0 && socket.size() > 6);
    return (inet || unix_socket) && postfix_literal(socket);
}

// Parses the arguments; returns "" or the error.
std::string parse(const Args& args, ConfigOptions& o) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        std::string v;
        if (arg == "--policy" && value(v)) {
            o.policy_file = v;
        } else if (arg == "--milter" && value(v)) {
            if (!valid_milter_socket(v)) {
                return "--milter: expected inet:HOST:PORT or unix:PATH (Postfix syntax), got '" +
                       v + "'";
            }
            o.milter = v;
        } else if (arg == "--listen-address" && value(v)) {
            const auto eq = v.find('=');
            ListenAddress a;
            if (eq == std::string::npos || eq == 0 ||
                !parse_listen_address(std::string_view(v).substr(eq + 1), a)) {
                return "--listen-address: expected LISTENER=[ADDR:]PORT (IPv6 as [ADDR]:PORT), "
                       "got '" +
                       v + "'";
            }
            o.listen[v.substr(0, eq)] = a;
        } else if (arg == "--restrict-relays") {
            o.restrict_relays = true;
        } else if (arg == "--chroot") {
            o.chroot = true;
        } else if (arg == "--main-cf") {
            o.main_cf = true;
        } else if (arg == "--master-cf") {
            o.master_cf = true;
        } else {
            return "unknown or incomplete option '" + arg + "'";
        }
    }
    if (!o.main_cf && !o.master_cf) o.main_cf = o.master_cf = true;
    return "";
}

std::string service_name(const std::string& ip, std::uint16_t port) {
    if (ip.empty()) return std::to_string(port);
    if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + std::to_string(port);
    return ip + ":" + std::to_string(port);
}

struct Service {
    std::string name;         // master.cf service name: "smtp", "10025", "127.0.0.1:10025"
    std::string where;        // comment: where the address comes from
    bool recognised_by_port;  // the policy would find the listener by this port and address
};

// The master.cf services for one listener, or an error.
std::string services_for(const Listener& l, const ConfigOptions& o, std::vector<Service>& out) {
    const ListenerMatch& m = l.match;
    auto matches_port = [&](const ListenAddress& a) {
        if (std::find(m.local_ports.begin(), m.local_ports.end(), a.port) == m.local_ports.end())
            return false;
        if (m.local_ips.empty()) return true;
        if (a.ip.empty()) return false;
        return std::any_of(m.local_ips.begin(), m.local_ips.end(), [&](const std::string& ip) {
            auto x = net::IpAddress::parse(ip);
            auto y = net::IpAddress::parse(a.ip);
            return x && y && *x == *y;
        });
    };
    if (auto it = o.listen.find(l.name); it != o.listen.end()) {
        out.push_back(
            {service_name(it->second.ip, it->second.port),
             "--listen-address " + l.name + "=" + service_name(it->second.ip, it->second.port),
             matches_port(it->second)});
    } else if (!m.local_ports.empty()) {
        for (std::uint16_t port : m.local_ports) {
            if (m.local_ips.empty()) {
                out.push_back({service_name("", port),
                               "the policy's local_port, on every address in inet_interfaces\n"
                               "# (to bind one: local_ip in the policy, or --listen-address " +
                                   l.name + "=ADDR:PORT)",
                               true});
            }
            for (const auto& ip : m.local_ips) {
                const std::string canonical = net::IpAddress::parse(ip)->to_string();
                out.push_back(
                    {service_name(canonical, port), "the policy's local_ip and local_port", true});
            }
        }
    } else if (m.is_default) {
        out.push_back({"smtp",
                       "the standard SMTP port 25, in place of the stock \"smtp inet ... smtpd\"\n"
                       "# line (--listen-address " +
                           l.name + "=[ADDR:]PORT picks another)",
                       false});
    } else {
        return "listener '" + l.name +
               "' has no local_port in the policy; give its address with --listen-address " +
               l.name + "=[ADDR:]PORT";
    }
    for (auto& s : out) {
        if (l.proxy_protocol.empty() && s.recognised_by_port) continue;
        s.recognised_by_port = false;
        if (m.daemon_names.empty() && !m.is_default) {
            return "listener '" + l.name + "' has no daemon_name, and the policy would not " +
                   "recognise it on " + s.name +
                   (l.proxy_protocol.empty() ? " by its port" : " behind the PROXY protocol") +
                   "; give it a daemon_name";
        }
    }
    return "";
}

// A network entry ("CIDR" / "!CIDR") in the policy's terms.
struct NetworkEntry {
    net::Cidr cidr;
    bool exclude = false;
};

// The relays' networks as one Postfix match list (first match wins, `!` excludes), or "" with
// *why set when it cannot be written as one. The policy's sets are longest-prefix-wins, so
// entries go longest prefix first (an exclusion before an include of the same prefix).
std::string relay_mynetworks(const Policy& policy, const Listener& l, std::string& why) {
    std::set<std::string> names;
    for (const auto& r : l.relays)
        names.insert(r.network_name);
    std::vector<NetworkEntry> entries;
    bool any_exclusion = false;
    for (const auto& name : names) {
        auto it = policy.network_entries.find(name);
        if (it == policy.network_entries.end()) continue;
        for (std::string_view text : it->second) {
            while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
                text.remove_prefix(1);
            while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
                text.remove_suffix(1);
            NetworkEntry e;
            if (!text.empty() && text.front() == '!') {
                e.exclude = any_exclusion = true;
                text.remove_prefix(1);
            }
            auto cidr = net::Cidr::parse(text);
            if (!cidr) continue;  // the loader has reported it
            e.cidr = *cidr;
            entries.push_back(e);
        }
    }
    if (entries.empty()) {
        why = "the relays' networks are empty";
        return "";
    }
    if (any_exclusion && names.size() > 1) {
        why =
            "the relays' networks have exclusions and are several sets, which one Postfix "
            "list cannot express";
        return "";
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const NetworkEntry& a, const NetworkEntry& b) {
                         if (a.cidr.prefix_len != b.cidr.prefix_len)
                             return a.cidr.prefix_len > b.cidr.prefix_len;
                         return a.exclude && !b.exclude;
                     });
    const auto v4_space = *net::IpAddress::parse("::ffff:0.0.0.0");
    std::vector<std::string> items;
    auto add = [&](std::string item) {
        if (std::find(items.begin(), items.end(), item) == items.end())
            items.push_back(std::move(item));
    };
    for (const auto& e : entries) {
        const std::string bang = e.exclude ? "!" : "";
        std::string text = e.cidr.to_string();
        if (text.find(':') == std::string::npos) {
            add(bang + text);
            continue;
        }
        const auto slash = text.rfind('/');
        add(bang + "[" + text.substr(0, slash) + "]" + text.substr(slash));
        // In the policy an IPv6 prefix this short covers IPv4 too; Postfix matches IPv4
        // clients only against IPv4 patterns.
        if (e.cidr.prefix_len <= 96 && e.cidr.contains(v4_space)) add(bang + "0.0.0.0/0");
    }
    std::string list;
    for (const auto& item : items)
        list += (list.empty() ? "" : ",") + item;
    return list;
}

std::string action_for(const FailureMode& mode) {
    return mode.action == Action::Accept ? "accept" : "tempfail";
}

std::string on_error_text(const FailureMode& mode) {
    return mode.action == Action::Accept
               ? "fail open (on_error accept): milter down -> mail flows unfiltered"
               : "fail closed (on_error tempfail): milter down -> 4xx, the client retries";
}

std::string relay_names(const Listener& l) {
    std::string text;
    for (const auto& r : l.relays) {
        if (!text.empty()) text += ", ";
        text += r.name + " (network " + r.network_name + ")";
    }
    return text;
}

void print_main_cf(std::ostream& out, const Policy& policy, const ConfigOptions& o) {
    const Listener* fallback = nullptr;
    for (const auto& l : policy.listeners) {
        if (l.match.is_default) fallback = &l;
    }
    const long long deadline_s =
        (std::chrono::duration_cast<std::chrono::milliseconds>(policy.auth.deadline).count() +
         999) /
        1000;
    const long long content_timeout = std::max(kPostfixContentTimeoutSeconds, deadline_s + 60);

    out << "# ===== main.cf =====\n"
           "# Add to /etc/postfix/main.cf (or set each line with postconf -e).\n"
           "\n"
           "# Every smtpd service runs the milter. The services in master.cf below set it again\n"
           "# per listener; other smtpd services (e.g. submission) fall to the policy's default\n"
           "# listener \""
        << fallback->name
        << "\". List any other milters you run here too, in order.\n"
           "smtpd_milters = "
        << o.milter
        << "\n"
           "# Mail that does not arrive over SMTP (the sendmail command, pickup) has no listener\n"
           "# and no client for the policy to judge: no milter for it.\n"
           "non_smtpd_milters =\n"
           "# Milter protocol 6 (Postfix >= 2.6): relaytrust-milter asks for its macros itself\n"
           "# (smfi_setsymlist) and needs the header-change actions.\n"
           "milter_protocol = 6\n"
           "# What smtpd does when the milter cannot be reached or does not answer in time, for\n"
           "# services that do not set it (each listener's service below does), as the default\n"
           "# listener: "
        << on_error_text(fallback->on_error)
        << ".\n"
           "# Set it explicitly: Postfix 3.11 changed the built-in default to shutdown.\n"
           "milter_default_action = "
        << action_for(fallback->on_error)
        << "\n"
           "# Connect macros the engine reads: Postfix's default list ("
        << kPostfixConnectMacros << ")\n# plus " << kExtraConnectMacros
        << ". relaytrust-milter also requests\n"
           "# them itself; listed here they reach it even if that request is not honoured.\n"
           "# The HELO, MAIL, RCPT and DATA macros it reads ({tls_version} {cipher}, i\n"
           "# {auth_authen} {mail_addr}, {rcpt_addr}) are in Postfix's default lists already.\n"
           "milter_connect_macros = "
        << kPostfixConnectMacros << " " << kExtraConnectMacros
        << "\n"
           "# Timeouts. At end of data the milter may wait for DNS (SPF, DKIM, DMARC) up to the\n"
           "# policy's auth deadline_ms ("
        << deadline_s
        << " s); milter_content_timeout stays well above it.\n"
           "milter_connect_timeout = 10s\n"
           "milter_command_timeout = 30s\n"
           "milter_content_timeout = "
        << content_timeout << "s\n";
}

std::string service_line(const std::string& name, bool chroot) {
    std::string line = name;
    line.resize(std::max<std::size_t>(name.size() + 1, 10), ' ');
    return line + "inet  n       -       " + (chroot ? "y" : "n") +
           "       -       -       smtpd\n";
}

void print_master_cf(std::ostream& out, const Policy& policy, const ConfigOptions& o,
                     const std::vector<std::vector<Service>>& services) {
    out << "# ===== master.cf =====\n"
           "# Add to /etc/postfix/master.cf: one smtpd service per policy listener (remove any\n"
           "# existing service on the same address). Chroot is "
        << (o.chroot ? "on (--chroot): a unix: milter socket must then lie inside the queue\n"
                       "# directory, named relative to it"
                     : "off: a chrooted smtpd would look for a\n"
                       "# unix: milter socket inside the queue directory (--chroot turns it on)")
        << ".\n";
    for (std::size_t i = 0; i < policy.listeners.size(); ++i) {
        const Listener& l = policy.listeners[i];
        out << "\n# Listener \"" << l.name << "\"";
        if (l.match.is_default) out << ", the policy's default (every session no other claims)";
        out << ".\n";
        if (l.relays.empty()) {
            out << "# No trusted relay: every verdict header arriving here is removed.\n";
        } else {
            out << "# Verdict headers are believed from the trusted relay(s) " << relay_names(l)
                << ".\n";
        }
        std::string mynetworks, why;
        if (!l.relays.empty()) mynetworks = relay_mynetworks(policy, l, why);
        bool first = true;
        for (const auto& s : services[i]) {
            if (!first) out << "\n";
            first = false;
            out << "# Address: " << s.where << ".\n";
            out << service_line(s.name, o.chroot);
            out << "  # Log lines of this service read postfix/" << l.name << "/smtpd.\n"
                << "  -o syslog_name=postfix/" << l.name << "\n";
            if (!l.match.daemon_names.empty()) {
                out << "  # {daemon_name}: how the policy recognises listener \"" << l.name
                    << "\".\n"
                    << "  -o milter_macro_daemon_name=" << l.match.daemon_names.front() << "\n";
            } else if (s.recognised_by_port) {
                out << "  # No daemon_name in the policy: the engine knows the listener by its "
                       "port.\n";
            } else {
                out << "  # No daemon_name in the policy: sessions here go to the default "
                       "listener.\n";
            }
            out << "  # The milter (as in main.cf, repeated so the service stands on its own).\n"
                << "  -o smtpd_milters=" << o.milter << "\n"
                << "  # " << on_error_text(l.on_error) << ".\n"
                << "  -o milter_default_action=" << action_for(l.on_error) << "\n";
            if (!l.proxy_protocol.empty()) {
                out << "  # Connections come through a PROXY-protocol proxy (policy: "
                       "\"proxy_protocol\"); the\n"
                       "  # client the engine checks is the proxied one. Plain SMTP clients "
                       "cannot connect here.\n"
                    << "  -o smtpd_upstream_proxy_protocol=" << l.proxy_protocol << "\n";
            }
            if (!l.relays.empty()) {
                out << "  # Mail handed back by the relay must not go to a content_filter again "
                       "(a loop).\n"
                       "  -o content_filter=\n";
                if (mynetworks.empty()) {
                    out << "  # No client restriction written: " << why << ".\n";
                } else {
                    out << "  # Only the relays' networks may use this service; others are "
                           "refused at RCPT with 554.\n"
                           "  # (mynetworks here applies to this service only.)"
                        << (o.restrict_relays ? "\n" : " Uncomment, or use --restrict-relays.\n")
                        << "  " << (o.restrict_relays ? "" : "#") << "-o mynetworks=" << mynetworks
                        << "\n"
                        << "  " << (o.restrict_relays ? "" : "#")
                        << "-o smtpd_client_restrictions=permit_mynetworks,reject\n";
                }
            }
        }
    }
}

}  // namespace

std::string postfix_config_usage() {
    return "usage: relaytrust postfix-config [--policy FILE] [--milter SOCKET]\n"
           "         [--listen-address LISTENER=[ADDR:]PORT]... [--restrict-relays] [--chroot]\n"
           "         [--main-cf] [--master-cf]\n"
           "Prints the Postfix main.cf settings and one master.cf smtpd service per policy\n"
           "listener, each line commented. --milter is relaytrust-milter's socket in Postfix\n"
           "syntax (default inet:127.0.0.1:8895). A listener's address comes from the policy's\n"
           "local_ip/local_port, else --listen-address; the default listener falls back to the\n"
           "standard smtp service. --restrict-relays limits relay listeners to the relays'\n"
           "networks (written commented out without it). --chroot runs the services chrooted.\n"
           "--main-cf / --master-cf print only that part.\n";
}

int run_postfix_config(const Args& args, std::ostream& out, std::ostream& err) {
    ConfigOptions options;
    if (std::string error = parse(args, options); !error.empty()) {
        err << "relaytrust postfix-config: " << error << "\n" << postfix_config_usage();
        return kExitUsage;
    }
    const std::shared_ptr<const Policy> loaded = load_or_report(options.policy_file, err);
    if (!loaded) return kExitPolicyError;
    const Policy& policy = *loaded;

    for (const auto& [name, ignored] : options.listen) {
        if (!policy.find_listener(name)) {
            err << "relaytrust postfix-config: --listen-address: the policy has no listener '"
                << name << "'\n";
            return kExitUsage;
        }
    }
    std::vector<std::vector<Service>> services;
    std::map<std::string, std::string> taken;  // service name -> listener
    for (const auto& l : policy.listeners) {
        if (!postfix_literal(l.name)) {
            err << "relaytrust postfix-config: listener name '" << l.name
                << "' cannot be written in master.cf (whitespace, $, braces, commas or #)\n";
            return kExitUsage;
        }
        if (!l.match.daemon_names.empty() && !postfix_literal(l.match.daemon_names.front())) {
            err << "relaytrust postfix-config: daemon_name '" << l.match.daemon_names.front()
                << "' of listener '" << l.name
                << "' cannot be written in master.cf (whitespace, $, braces, commas or #)\n";
            return kExitUsage;
        }
        std::vector<Service> list;
        if (std::string error = services_for(l, options, list); !error.empty()) {
            err << "relaytrust postfix-config: " << error << "\n";
            return kExitUsage;
        }
        for (const auto& s : list) {
            auto [it, fresh] = taken.emplace(s.name, l.name);
            if (!fresh) {
                err << "relaytrust postfix-config: listeners '" << it->second << "' and '" << l.name
                    << "' would both use the service " << s.name
                    << "; give one of them --listen-address\n";
                return kExitUsage;
            }
        }
        services.push_back(std::move(list));
    }

    out << "# Postfix settings for relaytrust-milter, written by `relaytrust postfix-config`\n"
           "# from "
        << policy.source << " (" << policy.listeners.size()
        << " listeners).\n"
           "# Start the milter on the same socket: relaytrust-milter --socket "
        << options.milter
        << "\n"
           "# Then run `postfix check` and `postfix reload`.\n";
    if (options.main_cf) {
        out << "\n";
        print_main_cf(out, policy, options);
    }
    if (options.master_cf) {
        out << "\n";
        print_master_cf(out, policy, options, services);
    }
    return kExitAccept;
}

}  // namespace relaytrust::cli
