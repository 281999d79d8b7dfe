#include "macros.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace relaytrust::milter {

namespace {

// smfi_setsymlist replaces the MTA's list for a stage, so each list holds everything read at
// that stage. `i` is asked for wherever an MTA may know the queue ID.
char kConnectMacros[] =
    "j {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_port} {client_name}";
char kHeloMacros[] = "{tls_version} {cipher}";
char kMailMacros[] = "i {auth_authen} {mail_addr}";
char kRcptMacros[] = "i {rcpt_addr}";
char kDataMacros[] = "i";
char kEomMacros[] = "i";

std::uint16_t parse_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return 0;
    return static_cast<std::uint16_t>(value);
}

void address_of(const sockaddr* addr, std::string& ip, std::uint16_t& port) {
    char text[INET6_ADDRSTRLEN] = "";
    if (addr == nullptr) return;
    if (addr->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
        if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) ip = text;
        port = ntohs(in->sin_port);
    } else if (addr->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
        if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text)) ip = text;
        port = ntohs(in6->sin6_port);
    }
}

}  // namespace

bool request_macros(SMFICTX* ctx) {
    bool ok = true;
    ok &= smfi_setsymlist(ctx, SMFIM_CONNECT, kConnectMacros) == MI_SUCCESS;
    ok &= smfi_setsymlist(ctx, SMFIM_HELO, kHeloMacros) == MI_SUCCESS;
    ok &= smfi_setsymlist(ctx, SMFIM_ENVFROM, kMailMacros) == MI_SUCCESS;
    ok &= smfi_setsymlist(ctx, SMFIM_ENVRCPT, kRcptMacros) == MI_SUCCESS;
    ok &= smfi_setsymlist(ctx, SMFIM_DATA, kDataMacros) == MI_SUCCESS;
    ok &= smfi_setsymlist(ctx, SMFIM_EOM, kEomMacros) == MI_SUCCESS;
    return ok;
}

std::optional<std::string> macro(SMFICTX* ctx, const char* name) {
    const char* value = smfi_getsymval(ctx, const_cast<char*>(name));
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

std::string bare_ip(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    constexpr std::string_view kIpv6Tag = "IPv6:";
    if (text.size() > kIpv6Tag.size()) {
        bool tagged = true;
        for (std::size_t i = 0; i < kIpv6Tag.size(); ++i) {
            if ((text[i] | 0x20) != (kIpv6Tag[i] | 0x20)) tagged = false;
        }
        if (tagged) text.remove_prefix(kIpv6Tag.size());
    }
    return std::string(text);
}

std::string resolved_host_name(std::string_view text) {
    if (text.empty() || text == "unknown" || text.front() == '[') return "";
    return std::string(text);
}

std::string envelope_address(std::string_view arg) {
    // An MTA hands the address as written in MAIL/RCPT, normally in angle brackets.
    while (!arg.empty() && (arg.front() == ' ' || arg.front() == '\t'))
        arg.remove_prefix(1);
    while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\t'))
        arg.remove_suffix(1);
    if (arg.size() >= 2 && arg.front() == '<' && arg.back() == '>') {
        arg = arg.substr(1, arg.size() - 2);
    }
    return std::string(arg);
}

void fill_connect_facts(SMFICTX* ctx, const char* hostname, const sockaddr* hostaddr,
                        Session& session) {
    std::string arg_ip;
    std::uint16_t arg_port = 0;
    address_of(hostaddr, arg_ip, arg_port);

    // {client_addr} is what Postfix reports after PROXY protocol decoding; the socket address
    // argument carries the same, so it is only the fallback.
    auto client_addr = macro(ctx, "{client_addr}");
    session.remote_ip = client_addr && !client_addr->empty() ? bare_ip(*client_addr) : arg_ip;
    auto client_port = macro(ctx, "{client_port}");
    session.remote_port = client_port ? parse_port(*client_port) : 0;
    if (session.remote_port == 0) session.remote_port = arg_port;
    auto client_name = macro(ctx, "{client_name}");
    session.remote_host =
        resolved_host_name(client_name ? *client_name : (hostname ? hostname : ""));

    if (auto v = macro(ctx, "{daemon_addr}")) session.local_ip = bare_ip(*v);
    if (auto v = macro(ctx, "{daemon_port}")) session.local_port = parse_port(*v);
    if (auto v = macro(ctx, "{daemon_name}")) session.clues.daemon_name = *v;
    if (auto v = macro(ctx, "j")) session.mta_hostname = *v;
}

void fill_helo_facts(SMFICTX* ctx, Session& session) {
    // After STARTTLS the MTA sends HELO again with these set; a plain session clears them.
    session.tls_version = macro(ctx, "{tls_version}").value_or("");
    session.tls_cipher = macro(ctx, "{cipher}").value_or("");
}

void fill_mail_facts(SMFICTX* ctx, Session& session) {
    session.authenticated_as = macro(ctx, "{auth_authen}").value_or("");
}

void update_queue_id(SMFICTX* ctx, Session& session) {
    if (auto id = macro(ctx, "i"); id && !id->empty()) session.queue_id = *id;
}

}  // namespace relaytrust::milter
