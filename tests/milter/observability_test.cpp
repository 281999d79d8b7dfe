// Observability of relaytrust-milter: the decision log line (fields, order, quoting, engine
// verdicts, failures), the Prometheus text of /metrics, the HTTP answers of the endpoint, the
// --metrics options and the policy generation. tests/milter/postfix_test.sh checks the same
// end to end through Postfix.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "connection.h"
#include "decision_log.h"
#include "metrics.h"
#include "metrics_server.h"
#include "milter/parse_args.h"
#include "options.h"
#include "policy/policy_loader.h"
#include "policy_holder.h"
#include "test_policies.h"

using namespace relaytrust;
using namespace relaytrust::milter;

namespace {

using relaytrust::testing::default_policy;
using relaytrust::testing::policy_of;

using relaytrust::milter::testing::parse;

std::string field(std::string_view key, std::string_view value) {
    std::string line;
    append_field(line, key, value);
    return line;
}

// The key=value pairs of a decision line, in order (values unquoted and unescaped).
std::vector<std::pair<std::string, std::string>> parse_line(const std::string& line) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    while (i < line.size()) {
        const std::size_t eq = line.find('=', i);
        REQUIRE(eq != std::string::npos);
        std::string key = line.substr(i, eq - i);
        std::string value;
        i = eq + 1;
        if (i < line.size() && line[i] == '"') {
            for (++i; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\') ++i;
                value += line[i];
            }
            ++i;  // closing quote
        } else {
            const std::size_t end = line.find(' ', i);
            value = line.substr(i, end == std::string::npos ? std::string::npos : end - i);
            i = end == std::string::npos ? line.size() : end;
        }
        out.emplace_back(std::move(key), std::move(value));
        if (i < line.size()) {
            REQUIRE(line[i] == ' ');
            ++i;
        }
    }
    return out;
}

std::map<std::string, std::string> fields_of(const std::string& line) {
    std::map<std::string, std::string> out;
    for (auto& [k, v] : parse_line(line))
        out[k] = v;
    return out;
}

std::vector<std::string> keys_of(const std::string& line) {
    std::vector<std::string> out;
    for (auto& [k, v] : parse_line(line))
        out.push_back(k);
    return out;
}

const std::vector<std::string> kFieldOrder = {
    "stage", "action", "listener", "client",  "client_port", "queue",      "from",    "to",
    "rule",  "reply",  "relay",    "trusted", "spam",        "score",      "virus",   "stripped",
    "spf",   "dkim",   "dmarc",    "edits",   "engine_us",   "generation", "failure", "reasons"};

const char* kRelayReceived =
    " from sender.example.org (sender.example.org [203.0.113.7])\r\n\tby av-relay.test.example "
    "(amavisd-new) with ESMTP id R1; Sun, 22 Nov 2026 10:00:00 +0000";

// A relay-in connection from the trusted relay, through MAIL and one RCPT.
void relay_envelope(Connection& c) {
    Session& s = c.transaction.session();
    s.listener = "relay-in";
    s.remote_ip = "127.0.0.1";
    s.remote_port = 41530;
    REQUIRE(c.transaction.connect().action == Action::Accept);
    REQUIRE(c.transaction.ehlo("av-relay.test.example").action == Action::Accept);
    REQUIRE(c.transaction.mail("sender@example.org").action == Action::Accept);
    s.queue_id = "4DkF2x1Qz";
    c.recipient = "bob@example.net";
    REQUIRE(c.transaction.rcpt(c.recipient).action == Action::Accept);
}

std::string http_get(std::uint16_t port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
    std::string response;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
        response.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return response;
}

}  // namespace

TEST_CASE(
    "milter: decision log: values are quoted when empty or with space, '=', '\"' or controls") {
    CHECK(field("rule", "spam-reject") == "rule=spam-reject");
    CHECK(field("from", "<alice@example.org>") == "from=<alice@example.org>");
    CHECK(field("from", "<>") == "from=<>");
    CHECK(field("note", "") == "note=\"\"");
    CHECK(field("reply", "550 5.7.1 No") == "reply=\"550 5.7.1 No\"");
    CHECK(field("from", "<prvs=1234=a@example.org>") == "from=\"<prvs=1234=a@example.org>\"");
    CHECK(field("r", "say \"hi\" \\o/") == "r=\"say \\\"hi\\\" \\\\o/\"");
    CHECK(field("r", "two\r\nlines\tand tab") == "r=\"two  lines and tab\"");
    CHECK(field("r", "back\\slash") == "r=back\\slash");  // no space: left alone
    std::string line = "stage=data";
    append_field(line, "action", "accept");
    CHECK(line == "stage=data action=accept");
}

TEST_CASE("milter: decision log: a data-stage reject made by the engine, every field in order") {
    Connection c(default_policy(), nullptr, 2);
    relay_envelope(c);
    c.transaction.header("X-Spam-Flag", " YES");
    c.transaction.header("X-Spam-Status", " Yes, score=15.0 required=5.0 tests=BAYES_99");
    c.transaction.header("Received", kRelayReceived);
    c.transaction.header("X-Spam-Status", " No, score=-5.0 forged below the relay");
    c.transaction.header("Subject", " hi");
    Verdict v = c.transaction.data();
    REQUIRE(v.action == Action::Reject);
    c.engine_time = std::chrono::nanoseconds(123'456);

    const std::string line = format_decision(c, Stage::Data, v);
    CHECK(keys_of(line) == kFieldOrder);
    CHECK(line.rfind(
              "stage=data action=reject listener=relay-in client=127.0.0.1 client_port=41530 "
              "queue=4DkF2x1Qz from=<sender@example.org> to=- rule=spam-reject "
              "reply=\"550 5.7.1 Message rejected as spam\" relay=av-relay trusted=yes spam=yes "
              "score=15.00 virus=no stripped=1 spf=none dkim=none dmarc=none edits=0 "
              "engine_us=123 generation=2 failure=- reasons=\"",
              0) == 0);
    auto f = fields_of(line);
    CHECK(f["reasons"].find("rule 'spam-reject' matched") != std::string::npos);
}

TEST_CASE("milter: decision log: refusals at connect and rcpt say what is known there") {
    SUBCASE("connect: no sender, no data facts, NOQUEUE") {
        Connection c(default_policy(), nullptr, 1);
        Session& s = c.transaction.session();
        s.listener = "relay-in";
        s.remote_ip = "127.0.0.2";
        s.remote_port = 5000;
        Verdict v = c.transaction.connect();
        REQUIRE(v.action == Action::Reject);
        const std::string line = format_decision(c, Stage::Connect, v);
        CHECK(keys_of(line) == kFieldOrder);
        auto f = fields_of(line);
        CHECK(f["stage"] == "connect");
        CHECK(f["queue"] == "NOQUEUE");
        CHECK(f["client"] == "127.0.0.2");
        CHECK(f["client_port"] == "5000");
        CHECK(f["from"] == "-");
        CHECK(f["to"] == "-");
        CHECK(f["rule"] == "relay-in-only-from-relay");
        CHECK(f["reply"] == "554 5.7.1 This port accepts mail only from the AV relay");
        CHECK(f["relay"] == "-");
        for (const char* key :
             {"trusted", "spam", "score", "virus", "stripped", "spf", "dkim", "dmarc"}) {
            CHECK_MESSAGE(f[key] == "-", key);
        }
        CHECK(f["failure"] == "-");
    }
    SUBCASE("rcpt: the recipient being decided; null sender is <>") {
        auto policy = policy_of(R"({
            "listeners": [{"name": "mx", "match": {"default": true}}],
            "rules": [{"name": "no-postmaster", "stage": "rcpt", "if": "rcpt == 'postmaster@x.example'",
                       "action": "reject", "reply": {"code": 550, "enhanced": "5.1.1", "text": "No such user"}}]
        })");
        Connection c(policy, nullptr, 1);
        c.transaction.session().remote_ip = "2001:db8::7";
        REQUIRE(c.transaction.connect().action == Action::Accept);
        REQUIRE(c.transaction.mail("").action == Action::Accept);
        c.recipient = "postmaster@x.example";
        Verdict v = c.transaction.rcpt(c.recipient);
        REQUIRE(v.action == Action::Reject);
        auto f = fields_of(format_decision(c, Stage::Rcpt, v));
        CHECK(f["stage"] == "rcpt");
        CHECK(f["listener"] == "mx");
        CHECK(f["client"] == "2001:db8::7");
        CHECK(f["client_port"] == "-");
        CHECK(f["from"] == "<>");
        CHECK(f["to"] == "<postmaster@x.example>");
        CHECK(f["reply"] == "550 5.1.1 No such user");
    }
}

TEST_CASE("milter: decision log: on_error verdicts say failure=open or failure=closed") {
    auto open = policy_of(R"({"listeners": [{"name": "mx", "match": {"default": true},
                             "on_error": {"action": "accept"}}]})");
    auto closed = policy_of(R"({"listeners": [{"name": "mx", "match": {"default": true},
                               "on_error": {"action": "tempfail"}}]})");
    for (auto [policy, want_action, want_failure] :
         {std::tuple{open, "accept", "open"}, std::tuple{closed, "tempfail", "closed"}}) {
        Connection c(policy, nullptr, 1);
        c.transaction.session().remote_ip = "192.0.2.1";
        REQUIRE(c.transaction.connect().action == Action::Accept);
        Verdict failure = c.transaction.failure_verdict("engine error at rcpt: boom");
        CHECK(is_failure_verdict(failure));
        auto f = fields_of(format_decision(c, Stage::Mail, failure));
        CHECK(f["action"] == want_action);
        CHECK(f["rule"] == "on_error");
        CHECK(f["failure"] == want_failure);
        CHECK(f["reasons"] == "engine error at rcpt: boom");
        CHECK(f["reply"] ==
              std::string(std::string(want_action) == "accept"
                              ? "-"
                              : "451 4.3.0 Temporary policy failure, try again later"));
    }
}

TEST_CASE("milter: decision log: every logged decision is counted once in the metrics") {
    Connection c(default_policy(), nullptr, 1);
    c.transaction.session().remote_ip = "192.0.2.1";
    REQUIRE(c.transaction.connect().action == Action::Accept);
    const auto before_reject = metrics().decisions(Stage::Rcpt, Action::Reject);
    const auto before_accept = metrics().decisions(Stage::Data, Action::Accept);
    Verdict reject{Action::Reject, SmtpReply{550, "5.1.1", "No"}, {}, {}, "r"};
    log_decision(c, Stage::Rcpt, reject);
    log_decision(c, Stage::Data, Verdict{});
    log_decision(c, Stage::Data, Verdict{});
    CHECK(metrics().decisions(Stage::Rcpt, Action::Reject) == before_reject + 1);
    CHECK(metrics().decisions(Stage::Data, Action::Accept) == before_accept + 2);
}

TEST_CASE(
    "milter: metrics: Prometheus text with every family, cumulative buckets, hookd-style names") {
    Metrics m;
    m.count_decision(Stage::Connect, Action::Reject, false);
    m.count_decision(Stage::Data, Action::Accept, false);
    m.count_decision(Stage::Data, Action::Accept, false);
    m.count_decision(Stage::Data, Action::Tempfail, true);
    m.observe_engine(Stage::Data, std::chrono::microseconds(7));    // <= 10 us
    m.observe_engine(Stage::Data, std::chrono::microseconds(300));  // <= 500 us
    m.observe_engine(Stage::Data, std::chrono::seconds(30));        // +Inf only
    m.count_error(ErrorKind::Engine);
    AuthOutcome auth;
    auth.spf_result = "temperror";
    auth.dkim_result = "pass";
    auth.dmarc_result = "something-new";
    m.count_auth(auth);
    {
        // A connection that is still open, and one that came and went.
        m.connection_opened();
        m.connection_opened();
        m.connection_closed();
    }
    m.policy_loaded(1, false);
    m.policy_reload_failed();
    m.policy_loaded(2, true);
    m.policy_reload_failed();

    const std::string text = m.render();
    auto has = [&](const std::string& line) {
        return text.find("\n" + line + "\n") != std::string::npos;
    };
    CHECK(has("relaytrust_milter_decisions_total{stage=\"connect\",action=\"reject\"} 1"));
    CHECK(has("relaytrust_milter_decisions_total{stage=\"data\",action=\"accept\"} 2"));
    CHECK(has("relaytrust_milter_decisions_total{stage=\"rcpt\",action=\"quarantine\"} 0"));
    CHECK(has("relaytrust_milter_failure_verdicts_total{action=\"tempfail\"} 1"));
    CHECK(has("relaytrust_milter_failure_verdicts_total{action=\"accept\"} 0"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_bucket{stage=\"data\",le=\"1e-05\"} 1"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_bucket{stage=\"data\",le=\"0.00025\"} 1"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_bucket{stage=\"data\",le=\"0.0005\"} 2"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_bucket{stage=\"data\",le=\"10\"} 2"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_bucket{stage=\"data\",le=\"+Inf\"} 3"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_count{stage=\"data\"} 3"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_sum{stage=\"data\"} 30.000307000"));
    CHECK(has("relaytrust_milter_engine_duration_seconds_count{stage=\"ehlo\"} 0"));
    CHECK(has("relaytrust_milter_errors_total{kind=\"engine\"} 1"));
    CHECK(has("relaytrust_milter_errors_total{kind=\"milter_api\"} 0"));
    CHECK(has("relaytrust_milter_auth_results_total{method=\"spf\",result=\"temperror\"} 1"));
    CHECK(has("relaytrust_milter_auth_results_total{method=\"dkim\",result=\"pass\"} 1"));
    CHECK(has("relaytrust_milter_auth_results_total{method=\"dmarc\",result=\"other\"} 1"));
    CHECK(has("relaytrust_milter_connections_total 2"));
    CHECK(has("relaytrust_milter_connections_active 1"));
    CHECK(has("relaytrust_milter_policy_generation 2"));
    CHECK(has("relaytrust_milter_policy_reloads_total{result=\"ok\"} 1"));
    CHECK(has("relaytrust_milter_policy_reloads_total{result=\"error\"} 2"));
    CHECK(has("relaytrust_milter_policy_last_reload_success 0"));

    // Every sample belongs to a family announced with HELP and TYPE, and parses.
    const std::regex sample(
        R"(^([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (\+Inf|-?[0-9]+(\.[0-9]+)?)$)");
    std::map<std::string, std::string> types;
    std::istringstream lines(text);
    int samples = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# HELP ", 0) == 0) continue;
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream words(line.substr(7));
            std::string name, type;
            words >> name >> type;
            CHECK_MESSAGE(name.rfind("relaytrust_milter_", 0) == 0, name);
            types[name] = type;
            continue;
        }
        std::smatch match;
        REQUIRE_MESSAGE(std::regex_match(line, match, sample), line);
        std::string family = match[1];
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            const std::string s(suffix);
            if (!types.count(family) && family.size() > s.size() &&
                family.compare(family.size() - s.size(), s.size(), s) == 0) {
                family.resize(family.size() - s.size());
            }
        }
        CHECK_MESSAGE(types.count(family) == 1, line);
        if (family.ends_with("_total")) CHECK(types[family] == "counter");
        ++samples;
    }
    CHECK(types["relaytrust_milter_engine_duration_seconds"] == "histogram");
    CHECK(types["relaytrust_milter_connections_active"] == "gauge");
    CHECK(samples > 100);
}

TEST_CASE("milter: metrics endpoint: what each request is answered with") {
    auto render = [] { return std::string("relaytrust_milter_x 1\n"); };
    HttpAnswer metrics_answer = answer_metrics_request("GET", "/metrics", render);
    CHECK(metrics_answer.status == 200);
    CHECK(metrics_answer.content_type == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(metrics_answer.body == "relaytrust_milter_x 1\n");
    CHECK(answer_metrics_request("HEAD", "/metrics?x=1", render).status == 200);
    HttpAnswer health = answer_metrics_request("GET", "/healthz", render);
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
    CHECK(answer_metrics_request("GET", "/", render).status == 404);
    CHECK(answer_metrics_request("GET", "/metrics/", render).status == 404);
    HttpAnswer post = answer_metrics_request("POST", "/metrics", render);
    CHECK(post.status == 405);
    CHECK(post.allow == "GET, HEAD");
}

TEST_CASE("milter: metrics endpoint: --metrics and --metrics-public") {
    ParseResult off = parse({});
    REQUIRE(off.options);
    CHECK_FALSE(off.options->metrics);

    ParseResult v4 = parse({"--metrics", "127.0.0.1:9101"});
    REQUIRE(v4.options);
    REQUIRE(v4.options->metrics);
    CHECK(v4.options->metrics->host == "127.0.0.1");
    CHECK(v4.options->metrics->port == 9101);
    ParseResult v6 = parse({"--metrics=[::1]:9101"});
    REQUIRE(v6.options);
    CHECK(v6.options->metrics->host == "::1");
    CHECK(parse({"--metrics", "localhost:9101"}).options);

    ParseResult pub = parse({"--metrics", "192.0.2.10:9101"});
    CHECK_FALSE(pub.options);
    CHECK(pub.error.find("--metrics-public") != std::string::npos);
    CHECK(parse({"--metrics", "192.0.2.10:9101", "--metrics-public"}).options);
    CHECK(parse({"--metrics", "0.0.0.0:9101", "--metrics-public"}).options);
    CHECK_FALSE(parse({"--metrics", "0.0.0.0:9101"}).options);
    CHECK_FALSE(parse({"--metrics-public"}).options);  // needs --metrics
    CHECK_FALSE(parse({"--metrics", "9101"}).options);
    CHECK_FALSE(parse({"--metrics", ":9101"}).options);  // every interface by accident
    CHECK_FALSE(parse({"--metrics", "127.0.0.1:70000"}).options);
    CHECK_FALSE(parse({"--metrics", "::1:9101"}).options);  // IPv6 wants brackets

    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.3.2.1"));
    CHECK(is_loopback_host("::1"));
    CHECK(is_loopback_host("::ffff:127.0.0.1"));
    CHECK(is_loopback_host("localhost"));
    CHECK_FALSE(is_loopback_host("128.0.0.1"));
    CHECK_FALSE(is_loopback_host("::"));
    CHECK_FALSE(is_loopback_host("mx.example.org"));
}

TEST_CASE("milter: metrics endpoint: serves over HTTP on its own threads, then stops") {
    MetricsServer server(MetricsEndpoint{"127.0.0.1", 0},
                         [] { return std::string("relaytrust_milter_test 42\n"); });
    const std::uint16_t port = server.port();
    REQUIRE(port != 0);
    server.start();
    // A second milter on the same port fails instead of sharing it (no SO_REUSEPORT).
    CHECK_THROWS_AS(MetricsServer(MetricsEndpoint{"127.0.0.1", port}, [] { return std::string(); }),
                    std::runtime_error);
    const std::string response = http_get(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
          std::string::npos);
    CHECK(response.ends_with("\r\n\r\nrelaytrust_milter_test 42\n"));
    CHECK(http_get(port, "GET /healthz HTTP/1.0\r\n\r\n").ends_with("\r\n\r\nok\n"));
    CHECK(http_get(port, "DELETE /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 405", 0) == 0);
    server.stop();
    CHECK_THROWS_AS(MetricsServer(MetricsEndpoint{"192.0.2.1", 1}, [] { return std::string(); }),
                    std::runtime_error);
}

TEST_CASE("milter: policy holder: the generation counts successful loads only") {
    char path[] = "/tmp/relaytrust-milter-unit-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    { std::ofstream(path) << R"({"listeners": [{"name": "mx", "match": {"default": true}}]})"; }
    PolicyHolder holder(path);
    CHECK(holder.generation() == 0);
    CHECK_FALSE(holder.current());
    REQUIRE(holder.load().ok());
    CHECK(holder.generation() == 1);
    auto first = holder.current();
    { std::ofstream(path) << R"({"listeners": [], "no_such_key": 1})"; }
    CHECK_FALSE(holder.load().ok());
    CHECK(holder.generation() == 1);
    CHECK(holder.current() == first);
    { std::ofstream(path) << R"({"listeners": [{"name": "mx2", "match": {"default": true}}]})"; }
    REQUIRE(holder.load().ok());
    PolicySnapshot snapshot = holder.snapshot();
    CHECK(snapshot.generation == 2);
    CHECK(snapshot.policy->listeners.front().name == "mx2");
    std::remove(path);
}
