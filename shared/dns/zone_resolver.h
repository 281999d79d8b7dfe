// In-memory DNS zones for tests, benchmarks and the conformance suites.
//
// Semantics follow real DNS closely enough for SPF/DKIM/DMARC: a name that was never added is
// NXDOMAIN, a name that exists without records of the asked type is NODATA (Status::Ok with no
// records), a CNAME is followed (chains up to 8 links; a loop answers SERVFAIL, as recursive
// servers do). Names compare case-insensitively and one trailing dot is ignored. Failures are
// simulated per name (every type, or one type) or per name prefix ("error." in the OpenSPF
// suites), and the OpenSPF "TIMEOUT" marker is supported with that suite's ordering rule.
//
// Callbacks run inline on the caller's thread by default (deterministic tests, fast benches).
// With Delivery::WorkerThread they run on one internal thread, after an optional latency, to
// exercise code that must not assume an inline answer. All member functions are thread-safe;
// lookups take a shared lock, so concurrent readers do not serialise.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dns/resolver.h"
#include "dns/zone_yaml.h"
#include "net/network_set.h"

namespace relaytrust::dns {

class ZoneResolver final : public Resolver {
  public:
    enum class Delivery { Inline, WorkerThread };

    explicit ZoneResolver(Delivery delivery = Delivery::Inline);
    ~ZoneResolver() override;
    ZoneResolver(const ZoneResolver&) = delete;
    ZoneResolver& operator=(const ZoneResolver&) = delete;

    // --- records (each call appends one record; order is kept) ---
    void add_txt(std::string_view name, std::string_view text);
    // One TXT record made of several character-strings; answers join them without separator.
    void add_txt_strings(std::string_view name, const std::vector<std::string>& strings);
    // A for an IPv4 address, AAAA for IPv6 (an "::ffff:a.b.c.d" spelling stays AAAA). Returns
    // false, adding nothing, when `address` does not parse.
    bool add_address(std::string_view name, std::string_view address);
    void add_mx(std::string_view name, std::uint16_t preference, std::string_view exchange);
    void add_ptr(std::string_view name, std::string_view target);
    // PTR at reverse_lookup_name(address).
    void add_ptr_for(const net::IpAddress& address, std::string_view target);
    void add_cname(std::string_view name, std::string_view target);
    // Makes `name` exist without records (NODATA for every type).
    void add_name(std::string_view name);
    // OpenSPF suite marker: a query for `name` whose type has no record *before* the marker
    // (in insertion order) times out; records of the type added before it are answered.
    void add_timeout_marker(std::string_view name);

    void remove(std::string_view name, RecordType type);  // records of one type, if any
    void remove_name(std::string_view name);              // the name and all its records
    void clear();                                         // everything, failures included

    // --- simulated failures (checked before the records) ---
    // Every query for `name` answers `status` (ServFail, Timeout or Error); with `type`, only
    // queries of that type. Status::Ok removes the failure again.
    void set_failure(std::string_view name, Status status,
                     std::optional<RecordType> type = std::nullopt);
    // Queries for names that start with `prefix` (case-insensitive, e.g. "error.") and are not
    // in the zone answer `status`.
    void fail_names_with_prefix(std::string_view prefix, Status status);
    // WorkerThread delivery only: every answer is delivered this much later.
    void set_latency(std::chrono::milliseconds latency);

    // Loads one scenario's `zonedata:` mapping of the OpenSPF suites (rfc7208-tests.yml,
    // rfc4408-tests.yml), adding to what is there, with that suite's driver rules
    // (../shared/conformance/spf/README.md): SPF records are served as TXT unless the name
    // has a TXT entry; `TXT: NONE` adds nothing; bare `TIMEOUT` is the timeout marker; TXT
    // values may be lists of character-strings; MX values are [preference, exchange]. It also
    // makes names starting with "error." time out, as the suite's driver does. Returns "" or
    // an error naming the owner name.
    std::string load_openspf_zonedata(const yaml::Node& zonedata);

    // --- inspection, for tests that assert what was asked ---
    struct Query {
        std::string name;  // normalized
        RecordType type;
    };
    std::vector<Query> queries() const;  // in order; empty while recording is off
    std::size_t query_count() const;     // counted even while recording is off
    void reset_queries();
    // On by default; benchmarks turn it off so the log does not grow without bound.
    void set_record_queries(bool record);

    // The answer lookup() would deliver, computed synchronously.
    Answer answer(std::string_view name, RecordType type) const;

    void lookup(std::string_view name, RecordType type, Callback callback) override;

  private:
    struct Record {
        RecordType type = RecordType::TXT;
        bool timeout_marker = false;
        std::string value;  // TXT text, address text, PTR/CNAME target (normalized)
        std::uint16_t preference = 0;
    };
    struct Failure {
        Status status;
        std::optional<RecordType> type;
    };

    void add_record(std::string_view name, Record record);
    Answer answer_locked(const std::string& name, RecordType type, int cname_depth) const;

    Delivery delivery_;
    mutable std::shared_mutex zone_mutex_;
    std::unordered_map<std::string, std::vector<Record>> names_;
    std::unordered_map<std::string, std::vector<Failure>> failures_;
    std::vector<std::pair<std::string, Status>> failing_prefixes_;

    mutable std::mutex queries_mutex_;
    mutable std::vector<Query> queries_;
    mutable std::size_t query_count_ = 0;
    bool record_queries_ = true;

    // WorkerThread delivery.
    struct Pending {
        Callback callback;
        Answer answer;
    };
    std::mutex delivery_mutex_;
    std::condition_variable delivery_wakeup_;
    std::multimap<std::chrono::steady_clock::time_point, Pending> delivery_queue_;
    std::chrono::milliseconds latency_{0};
    bool stopping_ = false;
    std::thread delivery_thread_;
    void delivery_loop();
};

}  // namespace relaytrust::dns
