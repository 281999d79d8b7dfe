// In-process cost of one hook request in relaytrust-hookd, without HTTP: decode the JSON, run
// the engine, encode the response — each phase timed apart, then the whole answer_hook().
// Complements run.sh (which measures through HTTP and wrk): this shows where the per-request
// CPU goes, and under `valgrind --tool=callgrind` gives repeatable instruction counts.
//
//   relaytrust-hookd-handler-bench REQUEST.json [POLICY.jsonc] [ITERATIONS] [PATH]
//
// REQUEST.json: make_request.py's output. POLICY: "" or absent = the embedded default policy
// (then DNS lookups happen: use bench/hookd/rules-only.policy.jsonc for the CPU cost alone).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "hook_application.h"
#include "hook_request.h"
#include "hook_response.h"
#include "log.h"

namespace {

using relaytrust::hookd::decode_hook_request;
using relaytrust::hookd::encode_hook_response;

double microseconds_per(std::chrono::steady_clock::duration d, long n) {
    return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}

template <typename F>
double time_per_call(long iterations, F&& f) {
    const auto started = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i)
        f();
    return microseconds_per(std::chrono::steady_clock::now() - started, iterations);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " REQUEST.json [POLICY.jsonc] [ITERATIONS] [PATH]\n";
        return 1;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << argv[1] << ": cannot open\n";
        return 1;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string body = buffer.str();
    const std::string policy_file = argc > 2 ? argv[2] : "";
    const long iterations = argc > 3 ? std::atol(argv[3]) : 20000;
    const std::string path = argc > 4 ? argv[4] : "/hook/relay-in";

    relaytrust::hookd::PolicyStore policies(policy_file);
    if (std::string error = policies.load(); !error.empty()) {
        std::cerr << error << "\n";
        return 2;
    }
    relaytrust::hookd::Authenticator no_auth;
    relaytrust::hookd::Metrics metrics;
    relaytrust::hookd::HookApplication application(policies, no_auth, metrics);
    relaytrust::hookd::StageHandler handler(policies);

    auto decoded = decode_hook_request(body);
    if (!decoded.request) {
        std::cerr << "request does not decode: " << decoded.error << "\n";
        return 1;
    }
    const auto outcome = handler.handle(*decoded.request, path);
    const auto reply = application.answer_hook(path, body);
    std::cout << "request " << body.size() << " bytes, action "
              << relaytrust::action_name(outcome.verdict.action) << ", response "
              << reply.body.size() << " bytes, " << iterations << " iterations\n";

    std::size_t sink = 0;  // keeps the optimiser from dropping the work
    const double decode_us = time_per_call(iterations, [&] {
        sink +=
            decode_hook_request(body, relaytrust::hookd::ContentsMode::View).request.has_value();
    });
    const double engine_us = time_per_call(iterations, [&] {
        sink += handler.handle(*decoded.request, path).response.modifications.size();
    });
    const double encode_us =
        time_per_call(iterations, [&] { sink += encode_hook_response(outcome.response).size(); });
    const double whole_us =
        time_per_call(iterations, [&] { sink += application.answer_hook(path, body).body.size(); });
    std::printf("decode %.2f us  engine %.2f us  encode %.2f us  answer_hook %.2f us  (%zu)\n",
                decode_us, engine_us, encode_us, whole_us, sink % 10);
    return 0;
}
