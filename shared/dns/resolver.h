// DNS lookups for sender authentication (SPF, DKIM keys, DMARC records).
//
// The interface is asynchronous: lookup() returns at once and the callback runs later, on a
// resolver thread, so the engine can start SPF at MAIL FROM and DKIM key fetches as soon as a
// DKIM-Signature header arrives, and DNS time overlaps the message transfer. A blocking
// helper serves code that runs on a worker thread anyway (the conformance suites, the CLI).
//
// Implementations: UnboundResolver (libunbound, production; dns/unbound_resolver.h) and
// ZoneResolver (in-memory zones for tests, with simulated timeouts and SERVFAIL;
// dns/zone_resolver.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::dns {

enum class RecordType : std::uint16_t {
    A = 1,
    NS = 2,
    CNAME = 5,
    PTR = 12,
    MX = 15,
    TXT = 16,
    AAAA = 28,
};

// RFC 7208 distinguishes "no data" (NOERROR, empty) from NXDOMAIN (void lookups count both),
// and temporary failures (SERVFAIL, timeout) from permanent ones.
enum class Status : std::uint8_t {
    Ok,        // NOERROR with records (possibly none of the asked type: see records.empty())
    NxDomain,  // the name does not exist
    ServFail,  // SERVFAIL or another server error: temperror
    Timeout,   // no answer in time: temperror
    Error,     // malformed name, resolver failure: temperror
};

std::string_view status_name(Status status);

struct MxRecord {
    std::uint16_t preference = 0;
    std::string exchange;  // lower-case, no trailing dot
};

struct Answer {
    Status status = Status::Error;
    // Per type, one of these is filled:
    std::vector<std::string> texts;      // TXT: each record's character-strings concatenated
    std::vector<std::string> addresses;  // A / AAAA: textual addresses
    std::vector<MxRecord> mx;            // MX
    std::vector<std::string> names;      // PTR / CNAME / NS: lower-case, no trailing dot
    std::string error;                   // for logs when status is not Ok/NxDomain

    bool ok() const { return status == Status::Ok; }
    bool temporary_failure() const {
        return status == Status::ServFail || status == Status::Timeout || status == Status::Error;
    }
    // NOERROR with no records of the type, or NXDOMAIN (RFC 7208 §4.6.4 "void lookup").
    bool is_void() const;
};

class Resolver {
  public:
    using Callback = std::function<void(Answer)>;
    virtual ~Resolver() = default;

    // Starts a lookup; the callback runs exactly once, on a resolver thread (or inline for
    // answers already known). Thread-safe.
    virtual void lookup(std::string_view name, RecordType type, Callback callback) = 0;

    // Blocks the calling thread until the answer arrives. Never call it on a resolver thread.
    Answer lookup_sync(std::string_view name, RecordType type);
};

}  // namespace relaytrust::dns
