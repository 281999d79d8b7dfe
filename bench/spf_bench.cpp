// SPF evaluations per second.
//   BM_SpfRfc7208Suite: all 203 cases of the OpenSPF RFC 7208 suite, round-robin, each against
//     its scenario's in-memory zone (inline answers), so the number is evaluator cost without
//     network time. bench/spf/pyspf_compare.sh runs pyspf on the same cases in the same run.
//   BM_SpfTypicalRecord: a record shaped like a large provider's (three levels of include with
//     ip4/ip6 lists), for a passing and for a failing client.
//   BM_SpfParseRecord: the parser alone on that top-level record.
// The suite is read from $RELAYTRUST_SPF_SUITE, else ../shared/conformance/spf beside the
// source tree.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "auth/spf.h"
#include "auth/spf_record.h"
#include "auth/spf_suite.h"
#include "dns/zone_resolver.h"

namespace {

using namespace relaytrust;

std::filesystem::path suite_path() {
    if (const char* configured = std::getenv("RELAYTRUST_SPF_SUITE")) return configured;
    return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "conformance" /
           "spf" / "rfc7208-tests.yml";
}

struct SuiteFixture {
    auth::OpenSpfSuite suite;
    struct Case {
        dns::ZoneResolver* zone;
        auth::SpfRequest request;
    };
    std::vector<Case> cases;
    std::string error;

    SuiteFixture() {
        std::ifstream in(suite_path(), std::ios::binary);
        if (!in) {
            error = "cannot read " + suite_path().string() + " (set RELAYTRUST_SPF_SUITE)";
            return;
        }
        std::stringstream text;
        text << in.rdbuf();
        suite = auth::load_openspf_suite(text.str());
        if (!suite.error.empty()) {
            error = suite.error;
            return;
        }
        for (auto& scenario : suite.scenarios) {
            scenario.zone->set_record_queries(false);  // the log would grow without bound
            for (const auto& test_case : scenario.cases) {
                if (auto request = auth::openspf_request(test_case))
                    cases.push_back(Case{scenario.zone.get(), *request});
            }
        }
    }
};

SuiteFixture& suite_fixture() {
    static SuiteFixture fixture;
    return fixture;
}

void BM_SpfRfc7208Suite(benchmark::State& state) {
    SuiteFixture& fixture = suite_fixture();
    if (!fixture.error.empty()) {
        state.SkipWithError(fixture.error.c_str());
        return;
    }
    auth::SpfOptions options;
    options.default_explanation = "DEFAULT";
    std::size_t index = 0;
    for (auto _ : state) {
        const auto& test_case = fixture.cases[index];
        benchmark::DoNotOptimize(evaluate_spf(*test_case.zone, test_case.request, options));
        if (++index == fixture.cases.size()) index = 0;
    }
    state.SetItemsProcessed(std::int64_t(state.iterations()));
    state.counters["cases"] = double(fixture.cases.size());
}
BENCHMARK(BM_SpfRfc7208Suite);

constexpr const char* kTopRecord =
    "v=spf1 include:_netblocks.example.com include:_netblocks2.example.com "
    "include:_netblocks3.example.com ~all";

std::unique_ptr<dns::ZoneResolver> typical_zone() {
    auto zone = std::make_unique<dns::ZoneResolver>();
    zone->set_record_queries(false);
    zone->add_txt("example.com", "v=spf1 include:_spf.example.com ~all");
    zone->add_txt("_spf.example.com", kTopRecord);
    zone->add_txt("_netblocks.example.com",
                  "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 "
                  "ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:74.125.0.0/16 ip4:108.177.8.0/21 "
                  "ip4:173.194.0.0/16 ip4:209.85.128.0/17 ip4:216.58.192.0/19 "
                  "ip4:216.239.32.0/19 ~all");
    zone->add_txt("_netblocks2.example.com",
                  "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 "
                  "ip6:2607:f8b0:4000::/36 ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 "
                  "ip6:2c0f:fb50:4000::/36 ~all");
    zone->add_txt("_netblocks3.example.com",
                  "v=spf1 ip4:172.217.0.0/19 ip4:172.217.32.0/20 ip4:172.217.128.0/19 "
                  "ip4:172.217.160.0/20 ip4:172.217.192.0/19 ip4:172.253.56.0/21 "
                  "ip4:172.253.112.0/20 ip4:108.177.96.0/19 ip4:35.191.0.0/16 "
                  "ip4:130.211.0.0/22 ~all");
    return zone;
}

void BM_SpfTypicalRecord(benchmark::State& state) {
    const auto zone = typical_zone();
    auth::SpfRequest request;
    request.client_ip = *net::IpAddress::parse(state.range(0) ? "172.217.160.5" : "192.0.2.1");
    request.helo = "mail.example.org";
    request.mail_from = "user@example.com";
    const auth::SpfResultCode expected =
        state.range(0) ? auth::SpfResultCode::Pass : auth::SpfResultCode::SoftFail;
    for (auto _ : state) {
        const auto result = evaluate_spf(*zone, request);
        if (result.code != expected) {
            state.SkipWithError("unexpected SPF result");
            break;
        }
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(std::int64_t(state.iterations()));
    state.SetLabel(state.range(0) ? "pass (third include)" : "softfail (all includes)");
}
BENCHMARK(BM_SpfTypicalRecord)->Arg(1)->Arg(0);

void BM_SpfParseRecord(benchmark::State& state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(auth::parse_spf_record(kTopRecord));
    state.SetItemsProcessed(std::int64_t(state.iterations()));
}
BENCHMARK(BM_SpfParseRecord);

}  // namespace
