#include "metrics.h"

#include <cstdio>

namespace relaytrust::hookd {

namespace {

constexpr std::array<std::string_view, kErrorKindCount> kErrorKindNames = {
    "bad_request", "unauthorized", "not_found", "method_not_allowed",
    "timeout",     "too_large",    "engine",    "internal"};

}  // namespace

std::string_view error_kind_name(ErrorKind kind) {
    return kErrorKindNames[static_cast<std::size_t>(kind)];
}

void Metrics::count_request(HookStage stage, Action action, std::chrono::nanoseconds latency) {
    const auto s = static_cast<std::size_t>(stage);
    requests_[s][static_cast<std::size_t>(action)].fetch_add(1, std::memory_order_relaxed);
    latency_[s].record(latency);
}

std::string Metrics::render() const {
    std::string out;
    out.reserve(8192);
    auto line = [&](const std::string& text) {
        out += text;
        out += '\n';
    };

    line(
        "# HELP relaytrust_hookd_requests_total Hook requests answered, by stage and engine "
        "action.");
    line("# TYPE relaytrust_hookd_requests_total counter");
    for (std::size_t s = 0; s < kStages; ++s) {
        for (std::size_t a = 0; a < kActionCount; ++a) {
            line("relaytrust_hookd_requests_total{stage=\"" +
                 std::string(hook_stage_name(static_cast<HookStage>(s))) + "\",action=\"" +
                 std::string(action_name(static_cast<Action>(a))) + "\"} " +
                 std::to_string(requests_[s][a].load(std::memory_order_relaxed)));
        }
    }

    line(
        "# HELP relaytrust_hookd_request_duration_seconds Time from request body read to "
        "response ready, by stage.");
    line("# TYPE relaytrust_hookd_request_duration_seconds histogram");
    for (std::size_t s = 0; s < kStages; ++s) {
        latency_[s].render(
            out, "relaytrust_hookd_request_duration_seconds",
            "stage=\"" + std::string(hook_stage_name(static_cast<HookStage>(s))) + "\"");
    }

    line(
        "# HELP relaytrust_hookd_errors_total Requests answered with an error status, and "
        "engine failures answered with the listener's on_error verdict.");
    line("# TYPE relaytrust_hookd_errors_total counter");
    for (std::size_t k = 0; k < kErrorKindCount; ++k) {
        line("relaytrust_hookd_errors_total{kind=\"" + std::string(kErrorKindNames[k]) + "\"} " +
             std::to_string(errors_[k].load(std::memory_order_relaxed)));
    }

    line(
        "# HELP relaytrust_hookd_policy_generation Successful policy loads since start "
        "(1 = the policy loaded at start).");
    line("# TYPE relaytrust_hookd_policy_generation gauge");
    line("relaytrust_hookd_policy_generation " + std::to_string(policy_generation_.load()));
    line("# HELP relaytrust_hookd_policy_reloads_total SIGHUP reloads by result.");
    line("# TYPE relaytrust_hookd_policy_reloads_total counter");
    line("relaytrust_hookd_policy_reloads_total{result=\"ok\"} " +
         std::to_string(reloads_ok_.load()));
    line("relaytrust_hookd_policy_reloads_total{result=\"error\"} " +
         std::to_string(reloads_failed_.load()));
    return out;
}

}  // namespace relaytrust::hookd
