// Expression evaluation and verdict-header parsing, the per-message work of the engine.
#include <benchmark/benchmark.h>

#include "engine/transaction.h"
#include "headers/verdict_header_parser.h"
#include "policy/policy_loader.h"

namespace {

using namespace relaytrust;

// A full data stage of the default policy: trust analysis of a relay message, rules, edits.
void BM_DefaultPolicyDataStage(benchmark::State& state) {
    auto policy = load_default_policy().policy;
    for (auto _ : state) {
        Transaction t(policy);
        t.session().listener = "relay-in";
        t.session().remote_ip = "127.0.0.1";
        t.connect();
        t.mail("alice@example.org");
        t.rcpt("bob@example.com");
        t.header("X-Spam-Status",
                 " Yes, score=6.1 required=5.0 tests=BAYES_80,HTML_MESSAGE\r\n"
                 "\tautolearn=no autolearn_force=no version=4.0.0");
        t.header("Received",
                 " from sender.example.org (sender.example.org [203.0.113.7])\r\n"
                 "\tby relay.example.net (Postfix) with ESMTP id 4AbC;"
                 " Sun, 22 Nov 2026 10:00:00 +0000");
        t.header("X-Spam-Status", " No, score=-5.0");
        t.header("Subject", " Quarterly numbers");
        Verdict v = t.data();
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(BM_DefaultPolicyDataStage);

struct BenchContext final : expr::Context {
    expr::Value variable(expr::VariableId id) const override {
        switch (id) {
            case 0:
                return expr::Value::borrowed("relay-in");
            case 1:
                return expr::Value::borrowed("10.0.0.1");
            default:
                return expr::Value(6.1);
        }
    }
    std::optional<std::string_view> header(std::string_view) const override {
        return std::string_view("Quarterly numbers");
    }
};

void BM_ExpressionEvaluate(benchmark::State& state) {
    expr::Symbols symbols;
    symbols.variable = [](std::string_view n) -> std::optional<expr::VariableId> {
        if (n == "listener") return 0;
        if (n == "remote_ip") return 1;
        if (n == "spam_score") return 2;
        return std::nullopt;
    };
    symbols.network = [](std::string_view) -> const net::NetworkSet* { return nullptr; };
    expr::CompileError error;
    auto e = expr::Expression::compile(
        "listener == 'relay-in' && is_ip_in_cidr(remote_ip, '10.0.0.0/8') && spam_score >= 5.0",
        symbols, error);
    BenchContext context;
    for (auto _ : state)
        benchmark::DoNotOptimize(e->evaluate_bool(context));
}
BENCHMARK(BM_ExpressionEvaluate);

void BM_ParseSpamAssassinStatus(benchmark::State& state) {
    const std::string raw =
        " Yes, score=12.3 required=5.0 tests=BAYES_99,BAYES_999,\r\n\tDKIM_ADSP_NXDOMAIN,"
        "HTML_MESSAGE,RCVD_IN_DNSWL_NONE,SPF_HELO_NONE,\r\n\tURIBL_ABUSE_SURBL autolearn=no "
        "autolearn_force=no version=4.0.0";
    for (auto _ : state) {
        auto r = headers::parse_verdict_header(headers::VerdictHeaderKind::SpamStatus, raw);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_ParseSpamAssassinStatus);

void BM_ParseAmavisStatus(benchmark::State& state) {
    const std::string raw =
        " Yes, score=11.234 tagged_above=2 required=6.2\r\n\ttests=[BAYES_99=3.5, "
        "DKIM_INVALID=0.1, RDNS_NONE=1.274,\r\n\tURIBL_BLACK=1.7] autolearn=no autolearn_force=no";
    for (auto _ : state) {
        auto r = headers::parse_verdict_header(headers::VerdictHeaderKind::SpamStatus, raw);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_ParseAmavisStatus);

}  // namespace
