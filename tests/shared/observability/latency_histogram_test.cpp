#include "observability/latency_histogram.h"

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <string>

namespace {

constexpr std::array<double, 3> kBounds = {0.001, 0.01, 0.1};

}  // namespace

using relaytrust::observability::LatencyHistogram;
using namespace std::chrono_literals;

TEST_CASE("observability: latency histogram renders cumulative buckets, sum and count") {
    LatencyHistogram<kBounds> h;
    h.record(500us);  // <= 0.001
    h.record(1ms);    // == bound: counts in that bucket
    h.record(20ms);   // <= 0.1
    h.record(2s);     // +Inf only
    h.record(-5ns);   // clock went backwards: counted as 0
    CHECK(h.count() == 5);
    std::string out;
    h.render(out, "x_seconds", "stage=\"data\"");
    CHECK(out ==
          "x_seconds_bucket{stage=\"data\",le=\"0.001\"} 3\n"
          "x_seconds_bucket{stage=\"data\",le=\"0.01\"} 3\n"
          "x_seconds_bucket{stage=\"data\",le=\"0.1\"} 4\n"
          "x_seconds_bucket{stage=\"data\",le=\"+Inf\"} 5\n"
          "x_seconds_sum{stage=\"data\"} 2.021500000\n"
          "x_seconds_count{stage=\"data\"} 5\n");
}
