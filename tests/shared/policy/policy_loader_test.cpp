#include "policy/policy_loader.h"

#include <doctest/doctest.h>

#include <string>

using namespace relaytrust;

namespace {

// A valid minimal policy to vary in tests.
const char* kMinimal = R"({
    "networks": {"relays": ["10.0.0.1"]},
    "listeners": [
        {"name": "relay-in", "match": {"daemon_name": "relay-in"},
         "relays": [{"name": "av", "network": "relays"}]},
        {"name": "mx", "match": {"default": true}}
    ]
})";

std::string errors_of(const std::string& text) {
    return load_policy_text(text, "p.jsonc").error_text();
}

}  // namespace

TEST_CASE("policy: the embedded default policy loads and has the documented topology") {
    auto r = load_default_policy();
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    const Policy& p = *r.policy;
    CHECK(p.source == kEmbeddedPolicyName);
    REQUIRE(p.listeners.size() == 2);
    const Listener* relay_in = p.find_listener("relay-in");
    REQUIRE(relay_in != nullptr);
    CHECK(relay_in->match.daemon_names == std::vector<std::string>{"relay-in"});
    CHECK(relay_in->match.local_ports == std::vector<std::uint16_t>{10025});
    CHECK(relay_in->match.hook_paths == std::vector<std::string>{"/hook/relay-in"});
    REQUIRE(relay_in->relays.size() == 1);
    CHECK(relay_in->relays[0].network->contains("127.0.0.1"));
    CHECK(relay_in->relays[0].network->contains("::1"));
    CHECK_FALSE(relay_in->relays[0].network->contains("127.0.0.2"));
    CHECK(p.find_listener("mx")->match.is_default);
    CHECK(p.uses_stage(Stage::Connect));
    CHECK(p.uses_stage(Stage::Data));
    CHECK_FALSE(p.uses_stage(Stage::Rcpt));
    CHECK(p.hostname.empty());  // the default takes the MTA's name at run time
    CHECK(!p.system_hostname.empty());
}

TEST_CASE("policy: comments are allowed and the minimal policy loads") {
    auto r = load_policy_text(std::string("// leading comment\n/* block */") + kMinimal, "p");
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    CHECK(r.policy->listeners.size() == 2);
}

TEST_CASE("policy: JSON syntax errors carry file:line:column") {
    std::string e = errors_of("{\n  \"listeners\": [\n    {\"name\": \"mx\",, }\n  ]\n}");
    CHECK(e.find("p.jsonc:3:") == 0);
    CHECK(e.find("invalid JSON") != std::string::npos);
}

TEST_CASE("policy: unknown keys are errors at their position") {
    std::string text = kMinimal;
    text.replace(text.find("\"networks\""), 0, "\"colour\": \"blue\",\n    ");
    std::string e = errors_of(text);
    CHECK(e.find("p.jsonc:2:15: policy: unknown key 'colour'") != std::string::npos);
    CHECK(e.find("expected one of:") != std::string::npos);
}

TEST_CASE("policy: every error is reported, not only the first") {
    std::string e = errors_of(R"({
        "networks": {"relays": ["10.0.0.1/8", "not-an-ip"]},
        "listeners": [{"name": "mx", "match": {"default": true}, "oops": 1}],
        "rules": [{"name": "r", "stage": "later", "action": "explode"}]
    })");
    CHECK(e.find("host bits") != std::string::npos);
    CHECK(e.find("not-an-ip") != std::string::npos);
    CHECK(e.find("unknown key 'oops'") != std::string::npos);
    CHECK(e.find("expected connect, ehlo, mail, rcpt or data") != std::string::npos);
    CHECK(e.find("expected accept, reject, tempfail, discard or quarantine") != std::string::npos);
}

TEST_CASE("policy: expression errors point inside the string") {
    std::string text = R"({
    "listeners": [{"name": "mx", "match": {"default": true}}],
    "rules": [{"name": "r", "stage": "data", "if": "spam_score >= nosuchvar", "action": "reject"}]
})";
    std::string e = errors_of(text);
    // The string's opening quote is at column 52 of line 3; the unknown name starts 14
    // characters after it, at column 67.
    CHECK_MESSAGE(e.find("p.jsonc:3:67: rule 'r'.if: ") == 0, e);
    CHECK(e.find("nosuchvar") != std::string::npos);
}

TEST_CASE("policy: exactly one default listener") {
    CHECK(errors_of(R"({"listeners": [{"name": "a"}]})").find("exactly one listener") !=
          std::string::npos);
    CHECK(errors_of(R"({"listeners": [{"name": "a", "match": {"default": true}},
                                      {"name": "b", "match": {"default": true}}]})")
              .find("found 2") != std::string::npos);
}

TEST_CASE("policy: relays must name a defined network set") {
    std::string e = errors_of(R"({"listeners": [{"name": "mx", "match": {"default": true},
        "relays": [{"name": "av", "network": "nowhere"}]}]})");
    CHECK(e.find("no network set named 'nowhere'") != std::string::npos);
}

TEST_CASE("policy: replies are validated against the action") {
    auto rule = [](const std::string& action, const std::string& reply) {
        return errors_of(R"({"listeners": [{"name": "mx", "match": {"default": true}}],
            "rules": [{"name": "r", "stage": "data", "action": ")" +
                         action + R"(", "reply": )" + reply + "}]}");
    };
    CHECK(rule("reject", R"({"code": 451})").find("a reject needs a 5xx") != std::string::npos);
    CHECK(rule("tempfail", R"({"code": 550})").find("a tempfail needs a 4xx") != std::string::npos);
    CHECK(rule("reject", R"({"code": 550, "text": "two\nlines"})").find("CR or LF") !=
          std::string::npos);
    CHECK(rule("reject", R"({"code": 550, "enhanced": "4.7.1"})").find("class must match") !=
          std::string::npos);
    CHECK(rule("reject", R"({"code": 554, "enhanced": "5.7.1", "text": "No"})").empty());
    // A code without an enhanced status gets the default one with the matching class.
    auto r = load_policy_text(R"({"listeners": [{"name": "mx", "match": {"default": true}}],
        "rules": [{"name": "r", "stage": "data", "action": "reject", "reply": {"code": 554}}]})",
                              "p");
    REQUIRE(r.ok());
    CHECK(r.policy->rules_by_stage[4][0].reply->enhanced == "5.7.1");
}

TEST_CASE("policy: rules are dispatched per stage in file order") {
    auto r = load_policy_text(R"({
        "listeners": [{"name": "mx", "match": {"default": true}}],
        "rules": [
            {"name": "d1", "stage": "data", "if": "true", "action": "accept"},
            {"name": "c1", "stage": "connect", "if": "false", "action": "reject"},
            {"name": "d2", "stage": "data", "action": "quarantine"}
        ]})",
                              "p");
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    const auto& data = r.policy->rules_by_stage[static_cast<int>(Stage::Data)];
    REQUIRE(data.size() == 2);
    CHECK(data[0].name == "d1");
    CHECK(data[1].name == "d2");
    CHECK(r.policy->rules_by_stage[static_cast<int>(Stage::Connect)].size() == 1);
    CHECK(data[0].source_location == "p:4:13");
}

TEST_CASE("policy: Stalwart match objects in both list and numbered-object form") {
    for (const char* match : {R"([{"if": "listener == 'mx'", "then": "true"}])",
                              R"({"0": {"if": "listener == 'mx'", "then": "true"}})"}) {
        auto r = load_policy_text(std::string(R"({
            "listeners": [{"name": "mx", "match": {"default": true}}],
            "rules": [{"name": "r", "stage": "data", "action": "reject",
                       "if": {"match": )") +
                                      match + R"(, "else": "false"}}]})",
                                  "p");
        REQUIRE_MESSAGE(r.ok(), r.error_text());
        CHECK(r.policy->rules_by_stage[4][0].condition.branches.size() == 1);
    }
    CHECK(errors_of(R"({"listeners": [{"name": "mx", "match": {"default": true}}],
        "rules": [{"name": "r", "stage": "data", "action": "reject",
                   "if": {"match": [{"if": "true"}], "else": "false"}}]})")
              .find("needs \"if\" and \"then\"") != std::string::npos);
}

TEST_CASE("policy: constants cannot shadow built-in variables") {
    CHECK(errors_of(R"({"listeners": [{"name": "mx", "match": {"default": true}}],
                        "constants": {"spam_score": 3}})")
              .find("is a built-in variable") != std::string::npos);
}

TEST_CASE("policy: subject tags only at the data stage") {
    CHECK(errors_of(R"({"listeners": [{"name": "mx", "match": {"default": true}}],
        "rules": [{"name": "r", "stage": "rcpt", "action": "accept", "subject_tag": "[X]"}]})")
              .find("need \"stage\": \"data\"") != std::string::npos);
}

TEST_CASE("policy: a missing file is a clear error") {
    auto r = load_policy_file("/nonexistent/relaytrust.jsonc");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error_text().find("/nonexistent/relaytrust.jsonc: cannot read policy file") == 0);
}

TEST_CASE("policy: listener identification order") {
    auto r = load_policy_text(R"({
        "listeners": [
            {"name": "relay-in", "match": {"daemon_name": "relay-in", "hook_path": "/hook/relay-in",
                                           "local_port": 10025, "local_ip": "127.0.0.1"}},
            {"name": "sub", "match": {"local_port": 587}},
            {"name": "mx", "match": {"default": true, "daemon_name": "mx"}}
        ]})",
                              "p");
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    const Policy& p = *r.policy;
    Session s;
    CHECK(p.identify_listener(s)->name == "mx");
    s.clues.daemon_name = "relay-in";
    CHECK(p.identify_listener(s)->name == "relay-in");
    s = {};
    s.clues.hook_path = "/hook/relay-in";
    CHECK(p.identify_listener(s)->name == "relay-in");
    s = {};
    s.local_port = 587;
    CHECK(p.identify_listener(s)->name == "sub");
    s.local_port = 10025;
    s.local_ip = "127.0.0.2";  // port matches but the address does not
    CHECK(p.identify_listener(s)->name == "mx");
    s.local_ip = "127.0.0.1";
    CHECK(p.identify_listener(s)->name == "relay-in");
    // An explicit daemon name beats the port.
    s.clues.daemon_name = "mx";
    CHECK(p.identify_listener(s)->name == "mx");
}

TEST_CASE("policy: proxy_protocol on a listener") {
    auto r = load_policy_text(R"({
        "networks": {"relays": ["10.0.0.1", "!10.0.0.0/31", "2001:db8::/32"]},
        "listeners": [
            {"name": "relay-in", "match": {"daemon_name": "relay-in", "local_port": 10026},
             "relays": [{"name": "av", "network": "relays"}], "proxy_protocol": "haproxy"},
            {"name": "mx", "match": {"default": true}, "proxy_protocol": "haproxy"},
            {"name": "sub", "match": {"local_port": 587}}
        ]})",
                              "p");
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    const Policy& p = *r.policy;
    CHECK(p.find_listener("relay-in")->proxy_protocol == "haproxy");
    CHECK(p.find_listener("mx")->proxy_protocol == "haproxy");  // the default needs no name
    CHECK(p.find_listener("sub")->proxy_protocol.empty());
    // The entries as written are kept for generated MTA configuration.
    CHECK(p.network_entries.at("relays") ==
          std::vector<std::string>{"10.0.0.1", "!10.0.0.0/31", "2001:db8::/32"});

    // Only "haproxy" is known.
    std::string e = errors_of(R"({"listeners": [
        {"name": "mx", "match": {"default": true}, "proxy_protocol": "v2"}]})");
    CHECK(e.find("p.jsonc:2:") == 0);
    CHECK(e.find("proxy_protocol: expected \"haproxy\"") != std::string::npos);
    CHECK(errors_of(R"({"listeners": [
        {"name": "mx", "match": {"default": true}, "proxy_protocol": true}]})")
              .find("proxy_protocol") != std::string::npos);

    // Behind PROXY the local port is the proxied destination: a port-only listener is refused.
    e = errors_of(R"({"listeners": [
        {"name": "relay-in", "match": {"local_port": 10026}, "proxy_protocol": "haproxy"},
        {"name": "mx", "match": {"default": true}}]})");
    CHECK(e.find("cannot be recognised by local_port") != std::string::npos);
    CHECK(e.find("p.jsonc:2:") == 0);
}
