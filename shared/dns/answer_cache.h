// Answers kept for their DNS TTL, so that a lookup repeated within it is answered on the
// calling thread. libunbound caches too, but even a cached answer from it travels through its
// worker thread and back through UnboundResolver's service thread: at mail-server rates (the
// same sender domains, DKIM keys and DMARC records over and over) those thread hand-offs, not
// DNS, bounded throughput. Only definite answers are kept (records, NODATA, NXDOMAIN), never
// failures, and never longer than the TTL the answer came with (capped at max_ttl).
//
// Bounded: past max_entries, expired entries are dropped first, then the oldest ones.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dns/resolver.h"

namespace relaytrust::dns {

class AnswerCache {
  public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        std::size_t max_entries = 10000;  // 0: keep nothing
        std::chrono::seconds max_ttl{3600};
    };

    explicit AnswerCache(Limits limits) : limits_(limits) {}

    // The answer stored for name (case and one trailing dot ignored) and type, unless expired.
    std::optional<Answer> find(std::string_view name, RecordType type,
                               Clock::time_point now = Clock::now());

    // Keeps answer for ttl (capped at max_ttl) when it is definite (Status::Ok or NxDomain)
    // and ttl is positive; anything else is not stored.
    void store(std::string_view name, RecordType type, const Answer& answer,
               std::chrono::seconds ttl, Clock::time_point now = Clock::now());

    std::size_t size() const;

  private:
    struct Entry {
        Answer answer;
        Clock::time_point expires;
        std::uint64_t sequence = 0;  // which insertion order_ entry is this one's
    };

    static std::string key_of(std::string_view name, RecordType type);
    void evict_oldest_while_full();
    void drop_stale(Clock::time_point now);  // stale order_ records and expired entries

    const Limits limits_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::deque<std::pair<std::string, std::uint64_t>> order_;  // oldest insertion first
    std::uint64_t next_sequence_ = 0;
};

}  // namespace relaytrust::dns
