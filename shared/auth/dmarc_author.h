// The RFC5322.From domain ("Author Domain") that DMARC evaluates.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::auth {

struct FromAddresses {
    bool ok = false;
    std::string error;
    std::vector<std::string> domains;  // one per mailbox, lower-cased, trailing dot removed
};

// Parses an RFC 5322 From value (address-list: display names, quoted strings, comments,
// angle addresses with obsolete routes, groups) and returns each mailbox's domain. Fails when
// there is no mailbox or a mailbox has no usable domain (missing '@', domain literal, invalid
// name).
FromAddresses parse_from_addresses(std::string_view raw_value);

}  // namespace relaytrust::auth
