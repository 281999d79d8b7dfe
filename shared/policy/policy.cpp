#include "policy/policy.h"

#include <algorithm>
#include <array>

namespace relaytrust {

expr::Value PolicyExpression::evaluate(const expr::Context& context) const {
    for (const auto& branch : branches) {
        if (branch.condition.evaluate_bool(context)) return branch.value.evaluate(context);
    }
    return otherwise.evaluate(context);
}

namespace {
constexpr std::array<std::string_view, 4> kAuthModeNames = {"disable", "relaxed", "strict",
                                                            "origin"};
}

std::string_view auth_mode_name(AuthMode mode) {
    return kAuthModeNames[static_cast<std::size_t>(mode)];
}

bool parse_auth_mode(std::string_view text, AuthMode& out) {
    for (std::size_t i = 0; i < kAuthModeNames.size(); ++i) {
        if (kAuthModeNames[i] == text) {
            out = static_cast<AuthMode>(i);
            return true;
        }
    }
    return false;
}

const Listener* Policy::find_listener(std::string_view name) const {
    for (const auto& l : listeners) {
        if (l.name == name) return &l;
    }
    return nullptr;
}

namespace {
template <typename T, typename V>
bool has(const std::vector<T>& list, const V& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

bool same_ip(const std::string& a, const std::string& b) {
    auto x = net::IpAddress::parse(a);
    auto y = net::IpAddress::parse(b);
    return x && y && *x == *y;
}
}  // namespace

const Listener* Policy::identify_listener(const Session& session) const {
    // The most explicit clue wins: a name the admin gave the MTA service, then the hook URL,
    // then the local address the client connected to.
    if (!session.clues.daemon_name.empty()) {
        for (const auto& l : listeners) {
            if (has(l.match.daemon_names, session.clues.daemon_name)) return &l;
        }
    }
    if (!session.clues.hook_path.empty()) {
        for (const auto& l : listeners) {
            if (has(l.match.hook_paths, session.clues.hook_path)) return &l;
        }
    }
    if (session.local_port != 0) {
        for (const auto& l : listeners) {
            if (!has(l.match.local_ports, session.local_port)) continue;
            if (l.match.local_ips.empty()) return &l;
            for (const auto& ip : l.match.local_ips) {
                if (same_ip(ip, session.local_ip)) return &l;
            }
        }
    }
    for (const auto& l : listeners) {
        if (l.match.is_default) return &l;
    }
    return nullptr;
}

}  // namespace relaytrust
