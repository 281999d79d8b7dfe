// A DNS lookup started now and collected later, with a deadline: DKIM key fetches start when
// the DKIM-Signature header arrives and DMARC record lookups when From arrives, and both are
// collected at end of message. Shared by the DKIM and DMARC code.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "dns/resolver.h"

namespace relaytrust::auth {

class PendingLookup {
  public:
    using Clock = std::chrono::steady_clock;

    // Starts `resolver.lookup`. The resolver's callback holds only a shared_ptr to this state,
    // so the owner may drop its handle (e.g. after a deadline) while the query is in flight.
    static std::shared_ptr<PendingLookup> start(dns::Resolver& resolver, std::string name,
                                                dns::RecordType type);

    const std::string& name() const { return name_; }
    dns::RecordType type() const { return type_; }

    // The answer, waiting at most until `deadline`. A missed deadline settles the lookup as
    // Status::Timeout for good: a late answer is dropped so that every caller sees one result.
    dns::Answer wait_until(Clock::time_point deadline);

    bool ready() const;
    // True once answered with no record to use: NXDOMAIN, NODATA, or a failure (a missed
    // deadline included).
    bool answered_without_records() const;

    PendingLookup(std::string name, dns::RecordType type) : name_(std::move(name)), type_(type) {}

  private:
    void deliver(dns::Answer answer);

    const std::string name_;
    const dns::RecordType type_;
    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    std::optional<dns::Answer> answer_;
};

}  // namespace relaytrust::auth
