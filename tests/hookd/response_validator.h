// Checks a hook response body against what Stalwart 0.16's deserializer accepts and acts on,
// written from ../shared/reference/stalwart-mta-hooks.md §4.1-4.2 (not from hookd's encoder).
#pragma once

#include <string>
#include <vector>

namespace relaytrust::hookd::test {

// Problems that make Stalwart reject the whole response (then 451 by default) or silently
// lose part of it. Empty: Stalwart takes the response as meant.
std::vector<std::string> stalwart_response_problems(const std::string& body);

// Stricter rules relaytrust sets for itself on top: never Stalwart's "quarantine" (it drops the
// message), a non-accept always carries its own status + message, a 4xx/5xx status goes with
// "reject", and no SMTP reply text contains CR or LF.
std::vector<std::string> relaytrust_response_problems(const std::string& body);

}  // namespace relaytrust::hookd::test
