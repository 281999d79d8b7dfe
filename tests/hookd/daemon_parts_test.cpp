// Auth, command line and metrics of relaytrust-hookd.
#include <doctest/doctest.h>

#include <chrono>

#include "auth.h"
#include "metrics.h"
#include "options.h"

using namespace relaytrust;
using namespace relaytrust::hookd;

TEST_SUITE("daemon") {
    TEST_CASE("bearer and basic credentials") {
        Authenticator auth;
        CHECK_FALSE(auth.required());
        CHECK(auth.check(""));  // --no-auth
        auth.add_bearer_token("s3cr3t-token");
        auth.add_basic_credentials("stalwart:pa:ss");
        CHECK(auth.required());
        CHECK(auth.check("Bearer s3cr3t-token"));
        CHECK(auth.check("bearer   s3cr3t-token "));  // scheme is case-insensitive
        CHECK_FALSE(auth.check(""));
        CHECK_FALSE(auth.check("Bearer"));
        CHECK_FALSE(auth.check("Bearer s3cr3t-tokem"));
        CHECK_FALSE(auth.check("Bearer s3cr3t-token-longer"));
        CHECK_FALSE(auth.check("Token s3cr3t-token"));
        CHECK(auth.check("Basic c3RhbHdhcnQ6cGE6c3M="));  // stalwart:pa:ss
        CHECK_FALSE(auth.check("Basic c3RhbHdhcnQ6cGE6c3Q="));
        CHECK_FALSE(auth.check("Basic !!!!"));
        CHECK_FALSE(auth.check("Basic s3cr3t-token"));
    }

    TEST_CASE("command line") {
        auto parse = [](std::vector<std::string> args) { return parse_options(args); };
        auto ok = parse({"--bearer-token-file", "/t"});
        REQUIRE(ok.options);
        CHECK(ok.options->server.host == "127.0.0.1");
        CHECK(ok.options->server.port == 8686);
        CHECK(ok.options->server.max_body == 64u << 20);

        auto full = parse({"--policy", "p.jsonc", "--listen", "[::1]:9000", "--no-auth",
                           "--tls-cert", "c.pem", "--tls-key", "k.pem", "--max-body", "1048576",
                           "--threads", "4", "--read-timeout", "500", "--idle-timeout", "60000"});
        REQUIRE(full.options);
        CHECK(full.options->server.host == "::1");
        CHECK(full.options->server.port == 9000);
        CHECK(full.options->server.threads == 4);
        CHECK(full.options->server.read_timeout == std::chrono::milliseconds(500));

        CHECK(parse({}).error.find("authentication is required") == 0);
        CHECK(parse({"--no-auth", "--listen", "0.0.0.0:8686"}).error.find("--no-auth is refused") ==
              0);
        CHECK(parse({"--no-auth", "--listen", "[::]:8686"}).error.find("--no-auth is refused") ==
              0);
        CHECK(
            parse({"--no-auth", "--listen", "192.0.2.1:8686"}).error.find("--no-auth is refused") ==
            0);
        CHECK(parse({"--no-auth", "--listen", "127.0.0.2:1"}).options);
        CHECK(parse({"--no-auth", "--listen", "localhost:1"}).options);
        CHECK(parse({"--no-auth", "--bearer-token-file", "t"}).error.find("conflicts") !=
              std::string::npos);
        CHECK(parse({"--no-auth", "--tls-cert", "c"}).error ==
              "--tls-cert and --tls-key go together");
        CHECK(parse({"--no-auth", "--listen", "::1:80"}).error.find("--listen") == 0);
        CHECK(parse({"--no-auth", "--threads", "0"}).error.find("--threads") == 0);
        CHECK(parse({"--no-auth", "--max-body", "lots"}).error.find("--max-body") == 0);
        CHECK(parse({"--no-auth", "--bogus"}).error == "unknown option '--bogus'");
        CHECK(parse({"--policy"}).error == "--policy needs a value");
        CHECK(parse({"--help"}).help);
    }

    TEST_CASE("loopback detection") {
        CHECK(is_loopback_host("127.0.0.1"));
        CHECK(is_loopback_host("127.255.0.9"));
        CHECK(is_loopback_host("::1"));
        CHECK(is_loopback_host("::ffff:127.0.0.1"));
        CHECK_FALSE(is_loopback_host("0.0.0.0"));
        CHECK_FALSE(is_loopback_host("::"));
        CHECK_FALSE(is_loopback_host("10.0.0.1"));
        CHECK_FALSE(is_loopback_host("example.org"));
    }

    TEST_CASE("Prometheus text: requests by stage and action, histogram, errors, generation") {
        Metrics m;
        m.count_request(HookStage::Data, Action::Reject, std::chrono::microseconds(300));
        m.count_request(HookStage::Data, Action::Accept, std::chrono::milliseconds(2));
        m.count_error(ErrorKind::TooLarge);
        m.set_policy_generation(3);
        m.count_reload(false);
        const std::string text = m.render();
        CHECK(text.find("relaytrust_hookd_requests_total{stage=\"data\",action=\"reject\"} 1\n") !=
              std::string::npos);
        CHECK(text.find("relaytrust_hookd_request_duration_seconds_bucket{stage=\"data\",le=\"0."
                        "0005\"} 1\n") != std::string::npos);
        CHECK(text.find("relaytrust_hookd_request_duration_seconds_bucket{stage=\"data\",le=\"0."
                        "0025\"} 2\n") != std::string::npos);
        CHECK(text.find("relaytrust_hookd_request_duration_seconds_count{stage=\"data\"} 2\n") !=
              std::string::npos);
        CHECK(text.find(
                  "relaytrust_hookd_request_duration_seconds_sum{stage=\"data\"} 0.002300000\n") !=
              std::string::npos);
        CHECK(text.find("relaytrust_hookd_errors_total{kind=\"too_large\"} 1\n") !=
              std::string::npos);
        CHECK(text.find("relaytrust_hookd_policy_generation 3\n") != std::string::npos);
        CHECK(text.find("relaytrust_hookd_policy_reloads_total{result=\"error\"} 1\n") !=
              std::string::npos);
        // Every sample line is "name{labels} value" or "name value".
        std::size_t start = 0;
        while (start < text.size()) {
            const std::size_t end = text.find('\n', start);
            const std::string line = text.substr(start, end - start);
            start = end + 1;
            if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
            CAPTURE(line);
            CHECK(line.rfind("relaytrust_hookd_", 0) == 0);
            CHECK(line.find(' ') != std::string::npos);
        }
    }
}
