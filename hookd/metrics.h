// Counters for /metrics (Prometheus text format 0.0.4). Lock-free: every request updates
// them, and a scrape reads them without stopping anyone.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "hook_request.h"
#include "observability/latency_histogram.h"
#include "verdict.h"

namespace relaytrust::hookd {

enum class ErrorKind : std::uint8_t {
    BadRequest,        // 400: malformed JSON, wrong types, bad framing
    Unauthorized,      // 401
    NotFound,          // 404
    MethodNotAllowed,  // 405
    Timeout,           // 408 or a connection dropped for slowness
    TooLarge,          // 413
    Engine,            // the engine failed; the listener's on_error verdict was sent
    Internal,          // 500
};
inline constexpr std::size_t kErrorKindCount = 8;

// Request duration bucket bounds in seconds; +Inf is implicit.
inline constexpr std::array<double, 12> kRequestDurationBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

class Metrics {
  public:
    static constexpr std::size_t kStages = 6;  // HookStage values

    void count_request(HookStage stage, Action action, std::chrono::nanoseconds latency);
    void count_error(ErrorKind kind) { errors_[static_cast<std::size_t>(kind)]++; }
    void count_reload(bool ok) { (ok ? reloads_ok_ : reloads_failed_)++; }
    void set_policy_generation(std::uint64_t generation) { policy_generation_ = generation; }

    std::string render() const;

  private:
    std::array<std::array<std::atomic<std::uint64_t>, kActionCount>, kStages> requests_{};
    std::array<observability::LatencyHistogram<kRequestDurationBuckets>, kStages> latency_{};
    std::array<std::atomic<std::uint64_t>, kErrorKindCount> errors_{};
    std::atomic<std::uint64_t> reloads_ok_{0};
    std::atomic<std::uint64_t> reloads_failed_{0};
    std::atomic<std::uint64_t> policy_generation_{0};
};

std::string_view error_kind_name(ErrorKind kind);

}  // namespace relaytrust::hookd
