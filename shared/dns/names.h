// Domain-name helpers shared by the resolvers and the SPF/DKIM/DMARC code.
#pragma once

#include <string>
#include <string_view>

#include "net/network_set.h"

namespace relaytrust::dns {

// Lower-cases ASCII letters and drops one trailing dot: the form ZoneResolver keys on and the
// form Answer::names and MxRecord::exchange use.
std::string normalize_name(std::string_view name);

// True when `name` (one trailing dot allowed) can be put into a DNS query: 1-253 octets, no
// empty label, no label over 63 octets. Any octet is allowed inside a label (SPF macros can
// produce '%', ' ' or ':'); the resolvers escape what their transport needs.
bool is_queryable_name(std::string_view name);

// The name to ask PTR records for: "4.3.2.1.in-addr.arpa" for IPv4 (including IPv4-mapped
// IPv6), the 32-nibble "...ip6.arpa" form (lower-case hex) for IPv6.
std::string reverse_lookup_name(const net::IpAddress& address);

// ASCII case-insensitive equality of two names, ignoring one trailing dot on either.
bool same_name(std::string_view left, std::string_view right);

}  // namespace relaytrust::dns
