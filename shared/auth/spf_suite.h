// Readers for the SPF conformance suites in ../shared/conformance/spf (see the README there),
// used by the conformance test and the benchmark:
//   - the OpenSPF suites rfc7208-tests.yml / rfc4408-tests.yml: YAML scenarios, each with its
//     own zone and cases that allow one or several results;
//   - Stalwart mail-auth's resources/spf/*.yml: a line format where records accumulate (and
//     replace earlier ones per name and type) over a whole file and every `expect:` line runs
//     a check with the fields set so far.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/spf.h"
#include "dns/zone_resolver.h"

namespace relaytrust::auth {

struct SpfSuiteCase {
    std::string id;        // OpenSPF test id, or "<scenario> #<n>" for mail-auth
    std::string scenario;  // scenario description / name
    std::string helo;
    std::string mail_from;
    std::string host;                     // client IP as written
    std::vector<SpfResultCode> expected;  // any of these passes; the first is preferred
    std::optional<std::string> explanation;
    int line = 0;
};

struct OpenSpfScenario {
    std::string description;
    std::shared_ptr<dns::ZoneResolver> zone;  // inline delivery, driver rules applied
    std::vector<SpfSuiteCase> cases;          // in file order
};

struct OpenSpfSuite {
    std::vector<OpenSpfScenario> scenarios;
    std::string error;  // "" when the whole file loaded
    std::size_t case_count() const;
};

OpenSpfSuite load_openspf_suite(std::string_view yaml_text);

// The request the OpenSPF driver (pyspf's testspf.py) makes for a case: MAIL FROM identity,
// which for an empty mailfrom checks postmaster@helo. nullopt when `host` is not an IP.
std::optional<SpfRequest> openspf_request(const SpfSuiteCase& test_case);

// Runs one mail-auth file: applies its record lines to `zone` in order and calls `check` at
// each `expect:` line. Also makes names starting with "_dns_error." fail with SERVFAIL (that
// is how the file spells a DNS error). Returns "" or "line N: problem".
std::string run_mail_auth_file(std::string_view text, dns::ZoneResolver& zone,
                               const std::function<void(const SpfSuiteCase&)>& check);

}  // namespace relaytrust::auth
