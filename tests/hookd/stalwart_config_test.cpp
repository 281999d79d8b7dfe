// `relaytrust stalwart-config` prints MtaHook objects valid per spec §5.1.
#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include "fixtures.h"
#include "stalwart_config.h"

using namespace relaytrust::hookd::test;

namespace {

Json::Value run(const std::vector<std::string>& args, int expected_status = 0) {
    std::ostringstream out, err;
    const int status = relaytrust::cli::run_stalwart_config(args, out, err);
    CAPTURE(err.str());
    REQUIRE(status == expected_status);
    return expected_status == 0 ? parse_json(out.str()) : Json::Value();
}

// The MtaHook encoding rules of spec §5.1.
void check_mta_hook(const Json::Value& hook) {
    static const std::set<std::string> kStages = {"connect", "ehlo", "auth",
                                                  "mail",    "rcpt", "data"};
    REQUIRE(hook.isObject());
    CHECK(hook["url"].isString());
    CHECK_FALSE(hook["url"].asString().empty());
    REQUIRE(hook["stages"].isObject());  // a set: member -> true, never an array
    for (const auto& stage : hook["stages"].getMemberNames()) {
        CHECK(kStages.count(stage));
        CHECK(hook["stages"][stage] == true);
    }
    CHECK(hook["timeout"].isIntegral());  // milliseconds, never "30s"
    CHECK(hook["timeout"].asInt64() >= 100);
    CHECK(hook["tempFailOnError"].isBool());
    CHECK(hook["allowInvalidCerts"].isBool());
    CHECK(hook["maxResponseSize"].isIntegral());
    CHECK(hook["httpHeaders"].isObject());
    const Json::Value& enable = hook["enable"];
    REQUIRE(enable.isObject());
    CHECK(enable["else"].isString());
    if (enable.isMember("match")) {
        REQUIRE(enable["match"].isObject());  // ordered list: keys "0", "1", ...
        CHECK(enable["match"]["0"]["if"].isString());
        CHECK(enable["match"]["0"]["then"].isString());
    }
    const Json::Value& auth = hook["httpAuth"];
    REQUIRE(auth["@type"].isString());
    if (auth["@type"] == "Bearer") {
        const Json::Value& secret = auth["bearerToken"];
        const std::string type = secret["@type"].asString();
        CHECK((type == "Value" || type == "EnvironmentVariable" || type == "File"));
    } else {
        CHECK(auth["@type"] == "Unauthenticated");
    }
}

}  // namespace

TEST_SUITE("stalwart_config") {
    TEST_CASE("one MtaHook per listener of the default policy") {
        const Json::Value hooks = run({"--url", "https://hookd.internal:8686/"});
        REQUIRE(hooks.isArray());
        REQUIRE(hooks.size() == 2);
        for (const auto& hook : hooks)
            check_mta_hook(hook);

        const Json::Value& relay_in = hooks[0];
        CHECK(relay_in["url"] == "https://hookd.internal:8686/hook/relay-in");
        CHECK(relay_in["enable"]["match"]["0"]["if"] == "listener == 'relay-in'");
        CHECK(relay_in["enable"]["else"] == "false");
        CHECK(relay_in["stages"]["connect"] == true);  // the policy has a connect rule
        CHECK(relay_in["stages"]["data"] == true);
        CHECK_FALSE(relay_in["stages"].isMember("rcpt"));
        CHECK(relay_in["timeout"] == 15000);         // auth deadline_ms 10000 + 5000
        CHECK(relay_in["tempFailOnError"] == true);  // on_error: tempfail
        CHECK(relay_in["httpAuth"]["@type"] == "Bearer");
        CHECK(relay_in["httpAuth"]["bearerToken"]["@type"] == "File");
        CHECK(relay_in["httpAuth"]["bearerToken"]["filePath"] == "/etc/relaytrust/hookd.token");

        const Json::Value& mx = hooks[1];
        CHECK(mx["url"] == "https://hookd.internal:8686/hook/mx");
        // The default listener takes every Stalwart listener the others do not.
        CHECK(mx["enable"]["match"]["0"]["if"] == "listener != 'relay-in'");
    }

    TEST_CASE("options: Stalwart listener names, token source, timeout, JMAP request") {
        const Json::Value hooks =
            run({"--listener-name", "mx=smtp", "--listener-name", "relay-in=relay", "--token-env",
                 "HOOK_TOKEN", "--timeout-ms", "2500", "--allow-invalid-certs"});
        CHECK(hooks[0]["enable"]["match"]["0"]["if"] == "listener == 'relay'");
        CHECK(hooks[1]["enable"]["match"]["0"]["if"] == "listener != 'relay'");
        CHECK(hooks[0]["httpAuth"]["bearerToken"]["@type"] == "EnvironmentVariable");
        CHECK(hooks[0]["httpAuth"]["bearerToken"]["variableName"] == "HOOK_TOKEN");
        CHECK(hooks[0]["timeout"] == 2500);
        CHECK(hooks[0]["allowInvalidCerts"] == true);

        CHECK(run({"--no-auth"})[0]["httpAuth"]["@type"] == "Unauthenticated");

        const Json::Value jmap = run({"--jmap"});
        CHECK(jmap["using"][1] == "urn:stalwart:jmap");
        CHECK(jmap["methodCalls"][0][0] == "x:MtaHook/set");
        const Json::Value& create = jmap["methodCalls"][0][1]["create"];
        REQUIRE(create.isMember("relaytrust-relay-in"));
        check_mta_hook(create["relaytrust-relay-in"]);
        check_mta_hook(create["relaytrust-mx"]);
    }

    TEST_CASE("bad arguments") {
        run({"--url", "ftp://x"}, 1);
        run({"--timeout-ms", "30s"}, 1);
        run({"--listener-name", "nosuch=smtp"}, 1);
        run({"--listener-name", "mx=it's"}, 1);
        run({"--policy", "/nonexistent/policy.jsonc"}, 2);
    }
}
