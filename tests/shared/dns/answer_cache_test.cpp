// AnswerCache on its own, with the clock passed in: what is kept, for how long, how much.
#include "dns/answer_cache.h"

#include <doctest/doctest.h>

using namespace relaytrust;
using dns::AnswerCache;
using dns::RecordType;
using dns::Status;
using namespace std::chrono_literals;

namespace {

dns::Answer with_status(Status status, std::string text = "") {
    dns::Answer answer;
    answer.status = status;
    if (!text.empty()) answer.texts.push_back(std::move(text));
    return answer;
}

}  // namespace

TEST_SUITE("dns") {
    TEST_CASE("dns: AnswerCache keeps definite answers for their TTL") {
        AnswerCache cache(AnswerCache::Limits{});
        const auto t0 = AnswerCache::Clock::now();
        cache.store("Example.NET.", RecordType::TXT, with_status(Status::Ok, "v=spf1 -all"), 60s,
                    t0);
        cache.store("gone.example", RecordType::A, with_status(Status::NxDomain), 30s, t0);

        const auto found = cache.find("example.net", RecordType::TXT, t0 + 59s);
        REQUIRE(found);
        CHECK(found->texts == std::vector<std::string>{"v=spf1 -all"});
        CHECK_FALSE(cache.find("example.net", RecordType::A, t0));  // another type
        CHECK(cache.find("GONE.example.", RecordType::A, t0)->status == Status::NxDomain);
        // Expired: gone, and forgotten.
        CHECK_FALSE(cache.find("example.net", RecordType::TXT, t0 + 60s));
        CHECK_FALSE(cache.find("gone.example", RecordType::A, t0 + 31s));
        CHECK(cache.size() == 0);

        // A later answer replaces the earlier one.
        cache.store("example.net", RecordType::TXT, with_status(Status::Ok, "old"), 60s, t0);
        cache.store("example.net", RecordType::TXT, with_status(Status::Ok, "new"), 60s, t0);
        CHECK(cache.find("example.net", RecordType::TXT, t0)->texts ==
              std::vector<std::string>{"new"});
    }

    TEST_CASE("dns: AnswerCache keeps no failures, no TTL 0, nothing past max_ttl") {
        AnswerCache cache(AnswerCache::Limits{100, 10s});
        const auto t0 = AnswerCache::Clock::now();
        for (const Status failure : {Status::ServFail, Status::Timeout, Status::Error})
            cache.store("example.net", RecordType::TXT, with_status(failure), 60s, t0);
        cache.store("zero.example", RecordType::TXT, with_status(Status::Ok, "x"), 0s, t0);
        CHECK(cache.size() == 0);
        cache.store("long.example", RecordType::TXT, with_status(Status::Ok, "x"), 86400s, t0);
        CHECK(cache.find("long.example", RecordType::TXT, t0 + 9s));
        CHECK_FALSE(cache.find("long.example", RecordType::TXT, t0 + 10s));

        AnswerCache off(AnswerCache::Limits{0});
        off.store("example.net", RecordType::TXT, with_status(Status::Ok, "x"), 60s, t0);
        CHECK_FALSE(off.find("example.net", RecordType::TXT, t0));
    }

    TEST_CASE("dns: AnswerCache stays within max_entries, dropping the oldest first") {
        AnswerCache cache(AnswerCache::Limits{3});
        const auto t0 = AnswerCache::Clock::now();
        for (const char* name : {"a.example", "b.example", "c.example", "d.example"})
            cache.store(name, RecordType::A, with_status(Status::Ok, name), 60s, t0);
        CHECK(cache.size() == 3);
        CHECK_FALSE(cache.find("a.example", RecordType::A, t0));
        CHECK(cache.find("d.example", RecordType::A, t0));
        // The same names stored over and over: the bound holds and the latest answers stay.
        for (int round = 0; round < 50; ++round) {
            for (const char* name : {"b.example", "c.example", "d.example"})
                cache.store(name, RecordType::A, with_status(Status::Ok, std::to_string(round)),
                            60s, t0);
        }
        CHECK(cache.size() == 3);
        CHECK(cache.find("c.example", RecordType::A, t0)->texts == std::vector<std::string>{"49"});
    }
}
