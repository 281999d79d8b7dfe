// Counters for GET /metrics (Prometheus text format 0.0.4), named like relaytrust-hookd's
// (relaytrust_hookd_* there, relaytrust_milter_* here). Everything a milter callback touches is
// a relaxed atomic: counting never takes a lock and never waits for a scrape, and a scrape
// reads the numbers without stopping anyone (they may be a few increments apart, which
// Prometheus does not mind).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "observability/latency_histogram.h"
#include "session.h"
#include "verdict.h"

namespace relaytrust {
struct AuthOutcome;
}

namespace relaytrust::milter {

enum class ErrorKind : std::uint8_t {
    Engine,        // the engine answered with the listener's on_error verdict
    Internal,      // a milter callback threw (allocation failure, a bug): on_error verdict
    MilterApi,     // an smfi_* call failed (edit, quarantine, reply text)
    NoConnection,  // a callback arrived without connection state: temporary failure
    Negotiate,     // the MTA's offer lacked required actions, or set-up failed: refused
};
inline constexpr std::size_t kErrorKindCount = 5;
std::string_view error_kind_name(ErrorKind kind);

// SPF/DKIM/DMARC results as counted; anything else the engine reports counts as "other".
inline constexpr std::array<std::string_view, 9> kAuthResults = {
    "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy", "other"};
inline constexpr std::array<std::string_view, 3> kAuthMethods = {"spf", "dkim", "dmarc"};

// Engine duration bucket bounds in seconds; +Inf is implicit. The engine alone takes
// microseconds; the data stage waits for SPF/DKIM/DMARC lookups, hence the long tail.
inline constexpr std::array<double, 16> kEngineDurationBuckets = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
    0.005,   0.01,     0.025,   0.1,    0.25,    1.0,    2.5,   10.0};

class Metrics {
  public:
    // One engine stage call (every call, whatever its verdict).
    void observe_engine(Stage stage, std::chrono::nanoseconds duration);
    // One logged decision (decision_log.h): exactly one per decision line.
    void count_decision(Stage stage, Action action, bool failure_verdict);
    void count_error(ErrorKind kind);
    // The SPF, DKIM and DMARC results of one end of message.
    void count_auth(const AuthOutcome& outcome);
    void connection_opened();
    void connection_closed();

    // A policy load: at start-up (reload = false) or on SIGHUP.
    void policy_loaded(std::uint64_t generation, bool reload);
    void policy_reload_failed();

    // Tests: the number behind a label set.
    std::uint64_t decisions(Stage stage, Action action) const;
    std::uint64_t errors(ErrorKind kind) const;
    std::uint64_t connections_active() const;

    std::string render() const;

  private:
    std::array<std::array<std::atomic<std::uint64_t>, kActionCount>, kStageCount> decisions_{};
    std::array<std::atomic<std::uint64_t>, kActionCount> failure_verdicts_{};
    std::array<observability::LatencyHistogram<kEngineDurationBuckets>, kStageCount> engine_{};
    std::array<std::atomic<std::uint64_t>, kErrorKindCount> errors_{};
    std::array<std::array<std::atomic<std::uint64_t>, kAuthResults.size()>, kAuthMethods.size()>
        auth_{};
    std::atomic<std::uint64_t> connections_total_{0};
    std::atomic<std::int64_t> connections_active_{0};
    std::atomic<std::uint64_t> policy_generation_{0};
    std::atomic<std::uint64_t> reloads_ok_{0};
    std::atomic<std::uint64_t> reloads_failed_{0};
    std::atomic<int> last_reload_success_{0};
    std::atomic<std::int64_t> last_reload_time_{0};  // unix seconds
};

// The process's metrics, counted by the callbacks and rendered by the metrics endpoint.
Metrics& metrics();

// Counts one live MTA connection for as long as it exists (a member of Connection).
class ConnectionGauge {
  public:
    ConnectionGauge() { metrics().connection_opened(); }
    ~ConnectionGauge() { metrics().connection_closed(); }
    ConnectionGauge(const ConnectionGauge&) = delete;
    ConnectionGauge& operator=(const ConnectionGauge&) = delete;
};

}  // namespace relaytrust::milter
