// A Prometheus histogram of durations for one label set, shared by relaytrust-milter's and
// relaytrust-hookd's /metrics. Recording is a few relaxed atomic adds (callers are the hot
// path: milter callbacks, hook requests); rendering reads without locks.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

namespace relaytrust::observability {

// kUpperBounds: a constexpr std::array<double, N> of bucket upper bounds in seconds, ascending,
// with static storage; +Inf is implicit.
template <const auto& kUpperBounds>
class LatencyHistogram {
  public:
    static constexpr std::size_t kBuckets =
        std::tuple_size_v<std::remove_cvref_t<decltype(kUpperBounds)>>;

    void record(std::chrono::nanoseconds duration) {
        const auto ns = static_cast<std::uint64_t>(duration.count() < 0 ? 0 : duration.count());
        for (std::size_t b = 0; b < kBuckets; ++b) {
            if (ns <= kBoundsNs[b]) {
                buckets_[b].fetch_add(1, std::memory_order_relaxed);
                break;
            }
        }
        count_.fetch_add(1, std::memory_order_relaxed);
        sum_ns_.fetch_add(ns, std::memory_order_relaxed);
    }

    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

    // Appends NAME_bucket{LABELS,le="…"} (cumulative), NAME_sum and NAME_count lines. labels:
    // the label pairs without braces, e.g. `stage="data"`.
    void render(std::string& out, std::string_view name, std::string_view labels) const {
        // Count first: a call recorded mid-scrape then cannot make a bucket exceed +Inf.
        const std::uint64_t count = count_.load(std::memory_order_relaxed);
        const std::uint64_t sum_ns = sum_ns_.load(std::memory_order_relaxed);
        const std::string prefix = std::string(name) + "_bucket{" + std::string(labels) + ",le=\"";
        std::uint64_t cumulative = 0;
        char number[48];
        for (std::size_t b = 0; b < kBuckets; ++b) {
            cumulative += buckets_[b].load(std::memory_order_relaxed);
            if (cumulative > count) cumulative = count;
            std::snprintf(number, sizeof number, "%g", kUpperBounds[b]);
            out += prefix + number + "\"} " + std::to_string(cumulative) + "\n";
        }
        out += prefix + "+Inf\"} " + std::to_string(count) + "\n";
        std::snprintf(number, sizeof number, "%.9f", static_cast<double>(sum_ns) / 1e9);
        out += std::string(name) + "_sum{" + std::string(labels) + "} " + number + "\n";
        out += std::string(name) + "_count{" + std::string(labels) + "} " + std::to_string(count) +
               "\n";
    }

  private:
    // The bounds in nanoseconds, so recording compares integers.
    static constexpr std::array<std::uint64_t, kBuckets> kBoundsNs = [] {
        std::array<std::uint64_t, kBuckets> out{};
        for (std::size_t i = 0; i < kBuckets; ++i) {
            out[i] = static_cast<std::uint64_t>(kUpperBounds[i] * 1e9 + 0.5);
        }
        return out;
    }();

    std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};  // not cumulative
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace relaytrust::observability
