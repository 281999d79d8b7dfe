// The engine's scenarios end to end: Stalwart-shaped requests over real HTTP to a running
// relaytrust-hookd (embedded default policy), and its answers applied to the message with the
// test-side Stalwart model.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "fixtures.h"
#include "hookd_process.h"
#include "response_validator.h"
#include "stalwart_rules.h"

using namespace relaytrust::hookd::test;

namespace {

struct Connection {
    std::string client_ip = "127.0.0.1";  // the default policy's AV relay
    int server_port = 10025;
    std::string helo = "relay.example.net";
    std::string from = "alice@sender.example";
    std::vector<std::string> to = {"bob@example.org"};
};

// A request as Stalwart 0.16 serializes it (field order, nulls, compact).
std::string request(const std::string& stage, const Connection& c,
                    const std::string& message = "") {
    Json::Value root(Json::objectValue);
    Json::Value& context = root["context"];
    context["stage"] = stage;
    context["client"]["ip"] = c.client_ip;
    context["client"]["port"] = 40000;
    context["client"]["ptr"] =
        stage == "connect" || stage == "ehlo" ? Json::Value() : Json::Value("relay.example.net.");
    context["client"]["helo"] = stage == "connect" ? Json::Value() : Json::Value(c.helo);
    context["client"]["activeConnections"] = 1;
    context["server"]["name"] = "Stalwart v0.16.19";
    context["server"]["port"] = c.server_port;
    context["server"]["ip"] = "::";
    if (stage == "data") context["queue"]["id"] = "1a2b3c";
    context["protocol"]["version"] = 1;
    if (stage == "mail" || stage == "rcpt" || stage == "data") {
        root["envelope"]["from"]["address"] = c.from;
        root["envelope"]["to"] = Json::Value(Json::arrayValue);
        if (stage != "mail") {
            for (const auto& r : c.to) {
                Json::Value a;
                a["address"] = r;
                root["envelope"]["to"].append(a);
            }
        }
    }
    if (stage == "data") {
        const StalwartMessage parsed = parse_stalwart_message(message);
        Json::Value& m = root["message"];
        m["headers"] = Json::Value(Json::arrayValue);
        for (const auto& [name, value] : parsed.headers) {
            Json::Value pair(Json::arrayValue);
            pair.append(name);
            pair.append(value);
            m["headers"].append(pair);
        }
        m["contents"] = parsed.raw_body;
        m["size"] = static_cast<Json::UInt64>(message.size());
    }
    Json::StreamWriterBuilder writer;
    writer["indentation"] = "";
    return Json::writeString(writer, root);
}

// The relay (127.0.0.1) prepended its verdict above its own Received hop; the sender forged
// verdict headers further down, before the relay ever saw the message.
std::string relayed_message(const std::string& relay_verdict) {
    return relay_verdict +
           "Received: from mail.sender.example (mail.sender.example [203.0.113.5])\r\n"
           "\tby relay.example.net (amavisd-new) with ESMTP; Tue, 1 Jan 2030 00:00:00 +0000\r\n"
           "X-Spam-Status: No, score=-10.0 required=5.0\r\n"
           "X-Spam-Flag: NO\r\n"
           "From: Alice <alice@sender.example>\r\n"
           "To: bob@example.org\r\n"
           "Subject: Quarterly numbers\r\n"
           "\r\n"
           "Hello Bob,\r\nthe numbers.\r\n";
}

struct Answer {
    int status = 0;
    Json::Value json;
    std::string body;
};

Answer ask(HookdProcess& hookd, const std::string& path, const std::string& body) {
    const HttpResult r = hookd.post(path, body);
    Answer a{r.status, Json::Value(), r.body};
    if (r.status == 200) {
        for (const auto& p : relaytrust_response_problems(r.body))
            FAIL_CHECK(p);
        a.json = parse_json(r.body);
    }
    return a;
}

std::string delivered(const Answer& a, const std::string& message) {
    REQUIRE(a.json["action"].asString() == "accept");
    return apply_stalwart_modifications(decode_wire_modifications(a.json["modifications"]),
                                        message);
}

int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

}  // namespace

TEST_SUITE("scenarios") {
    TEST_CASE("verdicts from the AV relay on relay-in, over HTTP") {
        HookdProcess hookd({"--no-auth", "--dns-zone", RELAYTRUST_HOOKD_TEST_ZONE});
        Connection relay;

        SUBCASE("connect, ehlo, mail and rcpt from the relay are accepted") {
            for (const char* stage : {"connect", "ehlo", "mail", "rcpt"}) {
                CAPTURE(stage);
                const Answer a = ask(hookd, "/hook/relay-in", request(stage, relay));
                REQUIRE(a.status == 200);
                CHECK(a.json["action"] == "accept");
            }
        }

        SUBCASE("trusted ham: forged headers gone, relay's kept, result header on top") {
            const std::string message =
                relayed_message("X-Spam-Status: No, score=1.2 required=5.0 tests=BAYES_00\r\n");
            const Answer a = ask(hookd, "/hook/relay-in", request("data", relay, message));
            REQUIRE(a.status == 200);
            const std::string out = delivered(a, message);
            CHECK(out.rfind("X-Relaytrust-Result: ", 0) == 0);
            CHECK(out.find(
                      "action=accept; rule=none; listener=relay-in; trusted=yes; relay=av-relay; "
                      "spam=no; score=1.20") != std::string::npos);
            CHECK(out.find("X-Spam-Status: No, score=1.2 required=5.0") != std::string::npos);
            CHECK(out.find("score=-10.0") == std::string::npos);
            CHECK(out.find("X-Spam-Flag") == std::string::npos);
            CHECK(out.find("\r\n\r\nHello Bob,\r\nthe numbers.\r\n") != std::string::npos);
            // SPF for the client the relay saw (origin mode), not for the relay itself.
            CHECK(out.find("spf=pass") != std::string::npos);
        }

        SUBCASE("trusted spam below the quarantine score: subject tagged") {
            const std::string message =
                relayed_message("X-Spam-Status: Yes, score=5.5 required=5.0\r\n");
            const std::string out =
                delivered(ask(hookd, "/hook/relay-in", request("data", relay, message)), message);
            CHECK(out.find("Subject: [SPAM] Quarterly numbers\r\n") != std::string::npos);
            CHECK(count(out, "Subject:") == 1);
            CHECK(out.find("action=accept; rule=spam-tag") != std::string::npos);
            CHECK(count(out, "X-Spam-Status:") == 1);
        }

        SUBCASE("quarantine is kept: accept with the quarantine result header") {
            const std::string message =
                relayed_message("X-Spam-Status: Yes, score=8.1 required=5.0\r\n");
            const Answer a = ask(hookd, "/hook/relay-in", request("data", relay, message));
            CHECK(a.json["action"] == "accept");  // never Stalwart's "quarantine"
            const std::string out = delivered(a, message);
            CHECK(out.rfind("X-Relaytrust-Result: ", 0) == 0);
            CHECK(out.find("action=quarantine; rule=spam-quarantine") != std::string::npos);
            CHECK(out.find("score=-10.0") == std::string::npos);
        }

        SUBCASE("trusted spam over the reject score: 550 5.7.1") {
            const std::string message =
                relayed_message("X-Spam-Status: Yes, score=12.0 required=5.0\r\n");
            const Answer a = ask(hookd, "/hook/relay-in", request("data", relay, message));
            CHECK(a.json["action"] == "reject");
            CHECK(a.json["response"]["status"] == 550);
            CHECK(a.json["response"]["enhanced_status"] == "5.7.1");
            CHECK_FALSE(a.json.isMember("modifications"));
        }

        SUBCASE("a trusted virus report: reject") {
            const std::string message =
                relayed_message("X-Virus-Status: Infected (Eicar-Test-Signature)\r\n");
            const Answer a = ask(hookd, "/hook/relay-in", request("data", relay, message));
            CHECK(a.json["action"] == "reject");
            CHECK(a.json["response"]["message"] == "Message contains a virus");
        }

        SUBCASE("listener by server port when the URL names none") {
            const std::string message =
                relayed_message("X-Spam-Status: Yes, score=12.0 required=5.0\r\n");
            CHECK(ask(hookd, "/", request("data", relay, message)).json["action"] == "reject");
        }
    }

    TEST_CASE("relay-in refuses anyone but the relay, mx strips every verdict header") {
        HookdProcess hookd({"--no-auth", "--dns-zone", RELAYTRUST_HOOKD_TEST_ZONE});
        Connection stranger;
        stranger.client_ip = "192.0.2.7";

        SUBCASE("relay-in from an untrusted IP: reject at connect, and on replay at data") {
            Answer a = ask(hookd, "/hook/relay-in", request("connect", stranger));
            CHECK(a.json["action"] == "reject");
            CHECK(a.json["response"]["status"] == 554);
            CHECK(a.json["response"]["enhanced_status"] == "5.7.1");
            const std::string message = relayed_message("X-Spam-Status: No, score=0.1\r\n");
            a = ask(hookd, "/hook/relay-in", request("data", stranger, message));
            CHECK(a.json["action"] == "reject");
            CHECK(a.json["response"]["status"] == 554);
        }

        SUBCASE("mx: no relay there, so every verdict header is removed") {
            stranger.server_port = 25;
            const std::string message = relayed_message("X-Spam-Status: No, score=0.1\r\n");
            const std::string out =
                delivered(ask(hookd, "/hook/mx", request("data", stranger, message)), message);
            CHECK(out.find("X-Spam-Status") == std::string::npos);
            CHECK(out.find("X-Spam-Flag") == std::string::npos);
            CHECK(out.find("listener=mx; trusted=no") != std::string::npos);
            CHECK(out.find("stripped=3") != std::string::npos);
            // By port, too (25 is nobody's, so the default listener mx).
            CHECK(ask(hookd, "/hook", request("connect", stranger)).json["action"] == "accept");
        }

        SUBCASE("a forged X-Relaytrust-Result never survives") {
            stranger.server_port = 25;
            const std::string message =
                "X-Relaytrust-Result: forged; action=accept\r\n" + relayed_message("");
            const std::string out =
                delivered(ask(hookd, "/hook/mx", request("data", stranger, message)), message);
            CHECK(out.find("forged") == std::string::npos);
            CHECK(count(out, "X-Relaytrust-Result:") == 1);
        }
    }

    TEST_CASE("SIGHUP with a broken policy keeps the old one") {
        const std::string dir = std::filesystem::temp_directory_path() /
                                ("relaytrust-hookd-test-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir);
        const std::string policy = dir + "/policy.jsonc";
        std::filesystem::copy_file(RELAYTRUST_SOURCE_DIR "/shared/policy/default-policy.jsonc",
                                   policy, std::filesystem::copy_options::overwrite_existing);
        {
            HookdProcess hookd(
                {"--no-auth", "--dns-zone", RELAYTRUST_HOOKD_TEST_ZONE, "--policy", policy});
            Connection stranger;
            stranger.client_ip = "192.0.2.7";
            CHECK(ask(hookd, "/hook/relay-in", request("connect", stranger)).json["action"] ==
                  "reject");

            std::ofstream(policy, std::ios::app) << "\n{ broken";
            hookd.signal(SIGHUP);
            CHECK(hookd.wait_for_log("policy reload failed, keeping generation 1: " + policy + ":",
                                     5000));
            CHECK(ask(hookd, "/hook/relay-in", request("connect", stranger)).json["action"] ==
                  "reject");
            CHECK(hookd.get("/metrics").body.find("relaytrust_hookd_policy_generation 1\n") !=
                  std::string::npos);

            // A good file again (now with no connect rule) is picked up.
            std::string text =
                read_file(RELAYTRUST_SOURCE_DIR "/shared/policy/default-policy.jsonc");
            const auto rule = text.find("\"stage\": \"connect\"");
            REQUIRE(rule != std::string::npos);
            text.replace(rule, 18, "\"stage\": \"ehlo\"");
            std::ofstream(policy, std::ios::trunc) << text;
            hookd.signal(SIGHUP);
            CHECK(hookd.wait_for_log("policy reloaded (generation 2)", 5000));
            CHECK(ask(hookd, "/hook/relay-in", request("connect", stranger)).json["action"] ==
                  "accept");
            CHECK(ask(hookd, "/hook/relay-in", request("ehlo", stranger)).json["action"] ==
                  "reject");
            const std::string metrics = hookd.get("/metrics").body;
            CHECK(metrics.find("relaytrust_hookd_policy_generation 2\n") != std::string::npos);
            CHECK(metrics.find("relaytrust_hookd_policy_reloads_total{result=\"error\"} 1\n") !=
                  std::string::npos);
        }
        std::filesystem::remove_all(dir);
    }
}
