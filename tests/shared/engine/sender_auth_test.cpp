// MessageAuthentication's SPF in both placements (engine/sender_auth.h, SpfPlacement): the same
// results whether SPF runs on the verifier's pool from MAIL FROM or on the collecting thread at
// finish(), and the same deadline.
#include "engine/sender_auth.h"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "dns/zone_resolver.h"

using namespace relaytrust;
using namespace std::chrono_literals;

namespace {

struct SpfSeen {
    std::string result;
    std::string domain;
    std::string comment;
};

SpfSeen check_spf(const std::shared_ptr<AuthServices>& services, const AuthSettings& settings,
                  const std::string& client_ip, const std::string& mail_from) {
    Session session;
    session.remote_ip = client_ip;
    session.helo = "mail.example.net";
    session.mail_from = mail_from;
    MessageAuthentication authentication(services, settings);
    authentication.set_modes(AuthMode::Relaxed, AuthMode::Disable, AuthMode::Disable, false, "");
    authentication.on_mail(session, "mx.example.org");
    const AuthOutcome& outcome = authentication.finish(session);
    return {outcome.spf_result, outcome.spf_domain, outcome.spf_comment};
}

std::shared_ptr<dns::ZoneResolver> spf_zone(dns::ZoneResolver::Delivery delivery) {
    auto zone = std::make_shared<dns::ZoneResolver>(delivery);
    zone->add_txt("example.net", "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all");
    zone->add_txt("_spf.example.net", "v=spf1 a:relay.example.net -all");
    zone->add_address("relay.example.net", "198.51.100.9");
    zone->add_name("nospf.example");
    return zone;
}

}  // namespace

TEST_SUITE("engine") {
    TEST_CASE("engine: SPF gives the same results on the pool and on the collecting thread") {
        AuthSettings settings;
        for (const auto delivery :
             {dns::ZoneResolver::Delivery::Inline, dns::ZoneResolver::Delivery::WorkerThread}) {
            auto zone = spf_zone(delivery);
            auto pooled = std::make_shared<AuthServices>(zone, settings, SpfPlacement::WorkerPool);
            auto collected =
                std::make_shared<AuthServices>(zone, settings, SpfPlacement::WhenCollected);
            struct Case {
                const char* ip;
                const char* mail_from;
                const char* expected;
            };
            for (const Case c : {Case{"192.0.2.7", "a@example.net", "pass"},
                                 Case{"198.51.100.9", "a@example.net", "pass"},  // include, a
                                 Case{"203.0.113.5", "a@example.net", "fail"},
                                 Case{"203.0.113.5", "a@nospf.example", "none"},
                                 Case{"2001:db8::1", "a@example.net", "fail"}}) {
                CAPTURE(c.ip);
                CAPTURE(c.mail_from);
                const SpfSeen on_pool = check_spf(pooled, settings, c.ip, c.mail_from);
                const SpfSeen here = check_spf(collected, settings, c.ip, c.mail_from);
                CHECK(here.result == c.expected);
                CHECK(here.result == on_pool.result);
                CHECK(here.domain == on_pool.domain);
                CHECK(here.comment == on_pool.comment);
            }
        }
    }

    TEST_CASE("engine: SPF on the collecting thread keeps to the authentication deadline") {
        AuthSettings settings;
        settings.deadline = 150ms;
        auto zone = spf_zone(dns::ZoneResolver::Delivery::WorkerThread);
        zone->set_latency(2000ms);  // no answer within the deadline
        for (const SpfPlacement placement :
             {SpfPlacement::WorkerPool, SpfPlacement::WhenCollected}) {
            CAPTURE(static_cast<int>(placement));
            auto services = std::make_shared<AuthServices>(zone, settings, placement);
            const auto started = std::chrono::steady_clock::now();
            const SpfSeen seen = check_spf(services, settings, "192.0.2.7", "a@example.net");
            const auto waited = std::chrono::steady_clock::now() - started;
            CHECK(seen.result == "temperror");
            CHECK(waited < 1500ms);
        }
    }
}
