// SPF macro expansion (RFC 7208 §7).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "auth/spf_record.h"
#include "net/network_set.h"

namespace relaytrust::auth {

// The macro variables of one check_host() call.
struct MacroValues {
    std::string sender;          // s: <sender>, "postmaster@domain" when the local-part is empty
    std::string local_part;      // l
    std::string sender_domain;   // o
    std::string domain;          // d: the current <domain> (changes with include / redirect)
    net::IpAddress client_ip;    // i, c, v
    std::string helo;            // h
    std::string receiver;        // r: "unknown" when empty
    std::int64_t timestamp = 0;  // t
    // p: the validated domain name of the client (§5.5), computed on first use because it
    // costs DNS lookups; returns "unknown" when there is none.
    std::function<std::string(const std::string& domain)> validated_domain;
};

// %{i}: dotted quad for IPv4; for IPv6 32 dot-separated hex nibbles. Nibbles are upper-case,
// as pyspf writes them and the OpenSPF suite's v-macro-ip6 explanation expects; in queries
// case does not matter.
std::string macro_ip(const net::IpAddress& address);

// Expands `macro`. With `for_domain` (domain-specs, §7.3): one trailing dot is dropped and a
// result over 253 characters loses labels from the left until it fits (§7.3 last paragraph).
std::string expand_macros(const MacroString& macro, const MacroValues& values, bool for_domain);

}  // namespace relaytrust::auth
