#include "metrics.h"

#include <cstdio>
#include <ctime>

#include "engine/sender_auth.h"

namespace relaytrust::milter {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

constexpr std::array<std::string_view, kErrorKindCount> kErrorKindNames = {
    "engine", "internal", "milter_api", "no_connection", "negotiate"};

std::size_t auth_result_index(std::string_view result) {
    for (std::size_t i = 0; i + 1 < kAuthResults.size(); ++i) {
        if (kAuthResults[i] == result) return i;
    }
    return kAuthResults.size() - 1;  // "other"
}

std::string n(std::uint64_t value) {
    return std::to_string(value);
}

}  // namespace

std::string_view error_kind_name(ErrorKind kind) {
    return kErrorKindNames[static_cast<std::size_t>(kind)];
}

Metrics& metrics() {
    static Metrics instance;
    return instance;
}

void Metrics::observe_engine(Stage stage, std::chrono::nanoseconds duration) {
    engine_[static_cast<std::size_t>(stage)].record(duration);
}

void Metrics::count_decision(Stage stage, Action action, bool failure_verdict) {
    decisions_[static_cast<std::size_t>(stage)][static_cast<std::size_t>(action)].fetch_add(
        1, kRelaxed);
    if (failure_verdict) failure_verdicts_[static_cast<std::size_t>(action)].fetch_add(1, kRelaxed);
}

void Metrics::count_error(ErrorKind kind) {
    errors_[static_cast<std::size_t>(kind)].fetch_add(1, kRelaxed);
}

void Metrics::count_auth(const AuthOutcome& outcome) {
    const std::string* results[] = {&outcome.spf_result, &outcome.dkim_result,
                                    &outcome.dmarc_result};
    for (std::size_t m = 0; m < kAuthMethods.size(); ++m) {
        auth_[m][auth_result_index(*results[m])].fetch_add(1, kRelaxed);
    }
}

void Metrics::connection_opened() {
    connections_total_.fetch_add(1, kRelaxed);
    connections_active_.fetch_add(1, kRelaxed);
}

void Metrics::connection_closed() {
    connections_active_.fetch_sub(1, kRelaxed);
}

void Metrics::policy_loaded(std::uint64_t generation, bool reload) {
    policy_generation_.store(generation, kRelaxed);
    if (reload) reloads_ok_.fetch_add(1, kRelaxed);
    last_reload_success_.store(1, kRelaxed);
    last_reload_time_.store(static_cast<std::int64_t>(std::time(nullptr)), kRelaxed);
}

void Metrics::policy_reload_failed() {
    reloads_failed_.fetch_add(1, kRelaxed);
    last_reload_success_.store(0, kRelaxed);
    last_reload_time_.store(static_cast<std::int64_t>(std::time(nullptr)), kRelaxed);
}

std::uint64_t Metrics::decisions(Stage stage, Action action) const {
    return decisions_[static_cast<std::size_t>(stage)][static_cast<std::size_t>(action)].load(
        kRelaxed);
}

std::uint64_t Metrics::errors(ErrorKind kind) const {
    return errors_[static_cast<std::size_t>(kind)].load(kRelaxed);
}

std::uint64_t Metrics::connections_active() const {
    const std::int64_t active = connections_active_.load(kRelaxed);
    return active < 0 ? 0 : static_cast<std::uint64_t>(active);
}

std::string Metrics::render() const {
    std::string out;
    out.reserve(16384);
    auto line = [&](const std::string& text) {
        out += text;
        out += '\n';
    };
    auto header = [&](std::string_view name, std::string_view type, std::string_view help) {
        line("# HELP " + std::string(name) + " " + std::string(help));
        line("# TYPE " + std::string(name) + " " + std::string(type));
    };

    header("relaytrust_milter_decisions_total", "counter",
           "Decisions logged (one per decision log line), by the stage the MTA was answered at "
           "and the action.");
    for (std::size_t s = 0; s < kStageCount; ++s) {
        for (std::size_t a = 0; a < kActionCount; ++a) {
            line("relaytrust_milter_decisions_total{stage=\"" +
                 std::string(stage_name(static_cast<Stage>(s))) + "\",action=\"" +
                 std::string(action_name(static_cast<Action>(a))) + "\"} " +
                 n(decisions_[s][a].load(kRelaxed)));
        }
    }

    header("relaytrust_milter_failure_verdicts_total", "counter",
           "Decisions made by the listener's on_error (engine or milter failure), by action: "
           "accept = failed open, tempfail or reject = failed closed.");
    for (std::size_t a = 0; a < kActionCount; ++a) {
        line("relaytrust_milter_failure_verdicts_total{action=\"" +
             std::string(action_name(static_cast<Action>(a))) + "\"} " +
             n(failure_verdicts_[a].load(kRelaxed)));
    }

    header("relaytrust_milter_engine_duration_seconds", "histogram",
           "Time the engine took per stage call (every call, whatever the verdict); the data "
           "stage includes waiting for SPF/DKIM/DMARC lookups.");
    for (std::size_t s = 0; s < kStageCount; ++s) {
        engine_[s].render(out, "relaytrust_milter_engine_duration_seconds",
                          "stage=\"" + std::string(stage_name(static_cast<Stage>(s))) + "\"");
    }

    header("relaytrust_milter_errors_total", "counter",
           "Failures by kind: engine (on_error verdict from the engine), internal (a callback "
           "failed), milter_api (an smfi_* call failed), no_connection (a callback without "
           "connection state), negotiate (the MTA's offer was refused).");
    for (std::size_t k = 0; k < kErrorKindCount; ++k) {
        line("relaytrust_milter_errors_total{kind=\"" + std::string(kErrorKindNames[k]) + "\"} " +
             n(errors_[k].load(kRelaxed)));
    }

    header("relaytrust_milter_auth_results_total", "counter",
           "SPF, DKIM and DMARC results at end of message (none when not evaluated).");
    for (std::size_t m = 0; m < kAuthMethods.size(); ++m) {
        for (std::size_t r = 0; r < kAuthResults.size(); ++r) {
            line("relaytrust_milter_auth_results_total{method=\"" + std::string(kAuthMethods[m]) +
                 "\",result=\"" + std::string(kAuthResults[r]) + "\"} " +
                 n(auth_[m][r].load(kRelaxed)));
        }
    }

    header("relaytrust_milter_connections_total", "counter",
           "MTA connections (one per SMTP session) since start.");
    line("relaytrust_milter_connections_total " + n(connections_total_.load(kRelaxed)));
    header("relaytrust_milter_connections_active", "gauge", "MTA connections open now.");
    line("relaytrust_milter_connections_active " + n(connections_active()));

    header("relaytrust_milter_policy_generation", "gauge",
           "Successful policy loads since start (1 = the policy loaded at start).");
    line("relaytrust_milter_policy_generation " + n(policy_generation_.load(kRelaxed)));
    header("relaytrust_milter_policy_reloads_total", "counter", "SIGHUP reloads by result.");
    line("relaytrust_milter_policy_reloads_total{result=\"ok\"} " + n(reloads_ok_.load(kRelaxed)));
    line("relaytrust_milter_policy_reloads_total{result=\"error\"} " +
         n(reloads_failed_.load(kRelaxed)));
    header("relaytrust_milter_policy_last_reload_success", "gauge",
           "1 if the last policy load (start-up or SIGHUP) succeeded, 0 if it failed and the "
           "previous policy is still in force.");
    line("relaytrust_milter_policy_last_reload_success " +
         std::to_string(last_reload_success_.load(kRelaxed)));
    header("relaytrust_milter_policy_last_reload_timestamp_seconds", "gauge",
           "Unix time of the last policy load attempt.");
    line("relaytrust_milter_policy_last_reload_timestamp_seconds " +
         std::to_string(last_reload_time_.load(kRelaxed)));
    return out;
}

}  // namespace relaytrust::milter
