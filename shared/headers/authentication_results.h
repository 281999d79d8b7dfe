// A parser for Authentication-Results (RFC 8601): enough to read who wrote it (authserv-id)
// and what spf/dkim/dmarc results it reports, so that a trusted relay's results can be used
// and forged copies claiming our own authserv-id removed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::headers {

struct AuthResult {
    std::string method;  // "spf", "dkim", "dmarc", ... (lower-case)
    std::string result;  // "pass", "fail", ... (lower-case)
    // ptype.property=value pairs, e.g. {"smtp.mailfrom", "example.org"}, {"header.d", ...}.
    std::vector<std::pair<std::string, std::string>> properties;

    std::string property(std::string_view name) const;  // "" when absent
};

struct AuthenticationResults {
    bool ok = false;
    std::string error;
    std::string authserv_id;  // lower-case
    std::vector<AuthResult> results;

    // The first result for `method`, or nullptr.
    const AuthResult* find(std::string_view method) const;
};

// Parses one raw header value (may be folded; comments allowed anywhere CFWS is).
AuthenticationResults parse_authentication_results(std::string_view raw_value);

}  // namespace relaytrust::headers
