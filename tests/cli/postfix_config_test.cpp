// `relaytrust postfix-config`: golden output for the default policy, and the pieces that vary
// with the policy (addresses, fail-open/closed, PROXY, relay networks) and the options.
// Regenerate the golden file after an intended change with
//   RELAYTRUST_UPDATE_GOLDEN=1 build/tests/relaytrust_unit_tests -tc='postfix-config: golden*'
#include "postfix_config.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace relaytrust::cli;

namespace {

const std::string kGolden =
    std::string(RELAYTRUST_SOURCE_DIR) + "/tests/cli/golden/postfix-config-default.txt";

struct PolicyFile {
    std::filesystem::path path;
    explicit PolicyFile(const std::string& content) {
        path =
            std::filesystem::temp_directory_path() /
            ("relaytrust-pfc-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".jsonc");
        std::ofstream(path, std::ios::binary) << content;
    }
    ~PolicyFile() { std::filesystem::remove(path); }
};

struct Run {
    int status;
    std::string out;
    std::string err;
};

Run run(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    const int status = run_postfix_config(args, out, err);
    return {status, out.str(), err.str()};
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

// The text from the master.cf service line `service` up to the next blank line.
std::string service_block(const std::string& text, const std::string& service) {
    const auto start = text.find("\n" + service + " ");
    if (start == std::string::npos) return "";
    const auto end = text.find("\n\n", start + 1);
    return text.substr(start + 1, end == std::string::npos ? std::string::npos : end - start);
}

const char* kPolicy = R"({
    "networks": {
        "relays": ["127.0.0.1", "::1"],
        "alt": ["127.0.0.0/29", "!127.0.0.2", "10.1.0.0/16", "!10.1.2.0/24", "10.1.2.3"],
        "anywhere": ["::/0"]
    },
    "listeners": [
        {"name": "relay-in", "match": {"daemon_name": "relay-in", "local_ip": "127.0.0.1",
                                       "local_port": 10025},
         "relays": [{"name": "av", "network": "relays"}]},
        {"name": "relay-proxy", "match": {"daemon_name": ["relay-proxy", "other"],
                                          "local_ip": ["127.0.0.1", "::1"], "local_port": 10026},
         "relays": [{"name": "av", "network": "relays"}],
         "on_error": {"action": "accept"}, "proxy_protocol": "haproxy"},
        {"name": "alt", "match": {"local_port": [10027, 10028]},
         "relays": [{"name": "alt", "network": "alt"}]},
        {"name": "open", "match": {"daemon_name": "open", "local_port": 10029},
         "relays": [{"name": "any", "network": "anywhere"}]},
        {"name": "mx", "match": {"default": true, "daemon_name": "mx"},
         "on_error": {"action": "accept"}}
    ]
})";

}  // namespace

TEST_CASE("postfix-config: golden output for the default policy") {
    Run r = run({});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.err.empty());
    if (std::getenv("RELAYTRUST_UPDATE_GOLDEN")) {
        std::ofstream(kGolden, std::ios::binary) << r.out;
    }
    std::ifstream in(kGolden, std::ios::binary);
    REQUIRE_MESSAGE(in, "cannot read " << kGolden);
    std::ostringstream golden;
    golden << in.rdbuf();
    CHECK(r.out == golden.str());  // byte for byte
}

TEST_CASE("postfix-config: the default policy's settings") {
    Run r = run({});
    REQUIRE(r.status == 0);
    CHECK(has(r.out, "\nsmtpd_milters = inet:127.0.0.1:8895\n"));
    CHECK(has(r.out, "\nnon_smtpd_milters =\n"));
    CHECK(has(r.out, "\nmilter_protocol = 6\n"));
    CHECK(has(r.out, "\nmilter_default_action = tempfail\n"));
    CHECK(has(r.out,
              "\nmilter_connect_macros = j {daemon_name} {daemon_addr} v _ {daemon_port} "
              "{client_addr} {client_port} {client_name}\n"));
    // relay-in: port 10025 from the policy, named by {daemon_name}, fail closed.
    const std::string relay = service_block(r.out, "10025");
    CHECK(has(relay, "  -o milter_macro_daemon_name=relay-in\n"));
    CHECK(has(relay, "  -o smtpd_milters=inet:127.0.0.1:8895\n"));
    CHECK(has(relay, "  -o milter_default_action=tempfail\n"));
    CHECK(has(relay, "  -o content_filter=\n"));
    CHECK(has(relay, "  #-o mynetworks=127.0.0.1/32,[::1]/128\n"));  // without --restrict-relays
    CHECK_FALSE(has(relay, "smtpd_upstream_proxy_protocol"));
    // mx: the default listener on the standard smtp service.
    const std::string mx = service_block(r.out, "smtp");
    CHECK(has(mx, "smtp      inet  n       -       n       -       -       smtpd\n"));
    CHECK(has(mx, "  -o milter_macro_daemon_name=mx\n"));
    CHECK_FALSE(has(mx, "content_filter"));
    CHECK_FALSE(has(mx, "mynetworks"));
}

TEST_CASE("postfix-config: addresses, fail-open, PROXY and relay networks") {
    PolicyFile policy(kPolicy);
    Run r = run({"--policy", policy.path.string(), "--milter", "unix:/run/relaytrust/milter.sock",
                 "--restrict-relays", "--listen-address", "mx=192.0.2.25:25", "--chroot"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(has(r.out, "\nsmtpd_milters = unix:/run/relaytrust/milter.sock\n"));
    CHECK(has(r.out, "relaytrust-milter --socket unix:/run/relaytrust/milter.sock\n"));
    // The default listener (mx) fails open: main.cf's fallback says so too.
    CHECK(has(r.out, "\nmilter_default_action = accept\n"));

    const std::string relay = service_block(r.out, "127.0.0.1:10025");
    CHECK(has(relay, "127.0.0.1:10025 inet  n       -       y       -       -       smtpd\n"));
    CHECK(has(relay, "  -o milter_default_action=tempfail\n"));
    CHECK(has(relay, "  -o mynetworks=127.0.0.1/32,[::1]/128\n"));
    CHECK(has(relay, "  -o smtpd_client_restrictions=permit_mynetworks,reject\n"));

    // One service per local_ip; the first daemon_name; fail open; PROXY.
    for (const char* name : {"127.0.0.1:10026", "[::1]:10026"}) {
        const std::string proxy = service_block(r.out, name);
        CAPTURE(name);
        CHECK(has(proxy, "  -o milter_macro_daemon_name=relay-proxy\n"));
        CHECK(has(proxy, "  -o milter_default_action=accept\n"));
        CHECK(has(proxy, "  -o smtpd_upstream_proxy_protocol=haproxy\n"));
    }

    // No daemon_name: recognised by port, one service per port; longest prefix first, an
    // exclusion before an include of the same length.
    for (const char* name : {"10027", "10028"}) {
        const std::string alt = service_block(r.out, name);
        CAPTURE(name);
        CHECK_FALSE(has(alt, "milter_macro_daemon_name"));
        CHECK(has(alt, "knows the listener by its port"));
        CHECK(has(alt,
                  "  -o mynetworks=!127.0.0.2/32,10.1.2.3/32,127.0.0.0/29,!10.1.2.0/24,"
                  "10.1.0.0/16\n"));
    }

    // An IPv6 prefix that covers IPv4 in the policy gets an IPv4 pattern in Postfix.
    CHECK(has(service_block(r.out, "10029"), "  -o mynetworks=[::]/0,0.0.0.0/0\n"));

    // --listen-address for the default listener replaces the smtp service.
    const std::string mx = service_block(r.out, "192.0.2.25:25");
    CHECK(has(mx, "  -o milter_macro_daemon_name=mx\n"));
    CHECK(has(r.out, "# Address: --listen-address mx=192.0.2.25:25.\n192.0.2.25:25 "));
    CHECK_FALSE(has(r.out, "\nsmtp "));
}

TEST_CASE("postfix-config: --main-cf and --master-cf print one part") {
    Run main_cf = run({"--main-cf"});
    REQUIRE(main_cf.status == 0);
    CHECK(has(main_cf.out, "===== main.cf ====="));
    CHECK_FALSE(has(main_cf.out, "===== master.cf ====="));
    Run master_cf = run({"--master-cf"});
    REQUIRE(master_cf.status == 0);
    CHECK_FALSE(has(master_cf.out, "===== main.cf ====="));
    CHECK(has(master_cf.out, "===== master.cf ====="));
    // Every line is a comment, a setting or a service: nothing that breaks either file.
    std::istringstream lines(main_cf.out);
    for (std::string line; std::getline(lines, line);) {
        CAPTURE(line);
        CHECK((line.empty() || line[0] == '#' || line.find(" = ") != std::string::npos ||
               line.back() == '='));
    }
}

TEST_CASE("postfix-config: errors") {
    SUBCASE("unknown option") {
        Run r = run({"--bogus"});
        CHECK(r.status == kExitUsage);
        CHECK(has(r.err, "unknown or incomplete option '--bogus'"));
    }
    SUBCASE("bad milter socket") {
        CHECK(run({"--milter", "127.0.0.1:8895"}).status == kExitUsage);
        CHECK(run({"--milter", "inet:$host:1"}).status == kExitUsage);
    }
    SUBCASE("bad --listen-address") {
        CHECK(run({"--listen-address", "mx"}).status == kExitUsage);
        CHECK(run({"--listen-address", "mx=::1:25"}).status == kExitUsage);  // needs brackets
        CHECK(run({"--listen-address", "mx=127.0.0.1:0"}).status == kExitUsage);
        CHECK(run({"--listen-address", "mx=[::1]:2525"}).status == 0);
        Run r = run({"--listen-address", "nobody=2525"});
        CHECK(r.status == kExitUsage);
        CHECK(has(r.err, "the policy has no listener 'nobody'"));
    }
    SUBCASE("two listeners on one service") {
        Run r = run({"--listen-address", "mx=10025"});
        CHECK(r.status == kExitUsage);
        CHECK(has(r.err, "listeners 'relay-in' and 'mx' would both use the service 10025"));
    }
    SUBCASE("a non-default listener without an address") {
        PolicyFile policy(R"({"listeners": [
            {"name": "relay-in", "match": {"daemon_name": "relay-in"}},
            {"name": "mx", "match": {"default": true}}]})");
        Run r = run({"--policy", policy.path.string()});
        CHECK(r.status == kExitUsage);
        CHECK(has(r.err, "give its address with --listen-address relay-in=[ADDR:]PORT"));
        CHECK(
            run({"--policy", policy.path.string(), "--listen-address", "relay-in=10025"}).status ==
            0);
    }
    SUBCASE("a listener the policy could not recognise on the given address") {
        PolicyFile policy(R"({"listeners": [
            {"name": "sub", "match": {"local_port": 587}},
            {"name": "hook", "match": {"hook_path": "/hook/x"}},
            {"name": "mx", "match": {"default": true}}]})");
        Run r = run({"--policy", policy.path.string(), "--listen-address", "sub=2587",
                     "--listen-address", "hook=2000"});
        CHECK(r.status == kExitUsage);
        CHECK(has(r.err, "listener 'sub' has no daemon_name"));
        r = run({"--policy", policy.path.string(), "--listen-address", "sub=127.0.0.1:587",
                 "--listen-address", "hook=2000"});
        CHECK(r.status == kExitUsage);
        CHECK(has(r.err, "listener 'hook' has no daemon_name"));
    }
    SUBCASE("a daemon name Postfix would expand") {
        PolicyFile policy(R"({"listeners": [
            {"name": "mx", "match": {"default": true, "daemon_name": "$myhostname"}}]})");
        Run r = run({"--policy", policy.path.string()});
        CHECK(r.status == kExitUsage);
        CHECK(has(r.err, "daemon_name '$myhostname'"));
    }
    SUBCASE("a broken policy") {
        PolicyFile policy(R"({"listeners": []})");
        Run r = run({"--policy", policy.path.string()});
        CHECK(r.status == kExitPolicyError);
        CHECK(has(r.err, ".jsonc:1:"));
    }
}
