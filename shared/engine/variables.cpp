#include "engine/variables.h"

#include <array>

namespace relaytrust {

namespace {
// Index = enum value; keep in the order of enum Variable.
constexpr std::array<std::string_view, static_cast<std::size_t>(Variable::Count_)> kNames = {
    "listener",         "remote_ip",    "remote_port",   "local_ip",
    "local_port",       "protocol",     "is_tls",        "helo_domain",
    "authenticated_as", "sender",       "sender_domain", "rcpt",
    "rcpt_domain",      "recipients",   "stage",         "queue_id",
    "tls_version",      "remote_host",  "relay",         "is_relay",
    "spam_trusted",     "spam_verdict", "spam_score",    "spam_required",
    "spam_tests",       "virus_found",  "virus_name",    "stripped_count",
    "body_size",        "spf_result",   "spf_domain",    "dkim_result",
    "dkim_domains",     "dmarc_result", "dmarc_policy",  "dmarc_from",
    "origin_ip",        "origin_helo",  "auth_source",
};
}  // namespace

std::string_view variable_name(Variable v) {
    return kNames[static_cast<std::size_t>(v)];
}

std::optional<Variable> variable_by_name(std::string_view name) {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) return static_cast<Variable>(i);
    }
    return std::nullopt;
}

std::span<const std::string_view> variable_names() {
    return kNames;
}

}  // namespace relaytrust
