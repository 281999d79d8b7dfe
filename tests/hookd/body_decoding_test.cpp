// hookd keeps a data request's body JSON-escaped and decodes it only when a DKIM signature
// needs its bytes (hook_request.h, EscapedText). Both paths must give what the engine would
// see from a milter: a signature over a body full of escapes verifies, a changed body fails,
// and an unsigned body is counted at its decoded size.
#include <doctest/doctest.h>
#include <json/json.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "auth/dkim_signer.h"
#include "hook_application.h"
#include "test_dkim_keys.h"

using namespace relaytrust;
using namespace relaytrust::hookd;

namespace {

// Escapes of every kind once the request is JSON: CRLF, quote, backslash, tab, U+00E9 and
// U+1F600 (a surrogate pair, since the writer below emits ASCII only).
const std::string kBody =
    "Line one \"quoted\" and a back\\slash.\r\n"
    "\tTabbed, caf\xc3\xa9, \xf0\x9f\x98\x80.\r\n"
    "\r\n"
    "Last line.\r\n";

class TempFile {
  public:
    TempFile(const std::string& name, const std::string& text)
        : path_(std::filesystem::temp_directory_path() /
                ("relaytrust-" + std::to_string(getpid()) + "-" + name)) {
        std::ofstream(path_) << text;
    }
    ~TempFile() { std::filesystem::remove(path_); }
    std::string path() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

// A Stalwart data-stage request carrying headers and body (as JSON with ASCII-only escapes).
std::string data_request(const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body) {
    Json::Value root;
    Json::Value& context = root["context"];
    context["stage"] = "data";
    context["client"]["ip"] = "192.0.2.1";
    context["client"]["port"] = 40000;
    context["client"]["helo"] = "mail.example.org";
    context["server"]["name"] = "Stalwart v0.16.19";
    context["server"]["port"] = 25;
    context["server"]["ip"] = "::";
    root["envelope"]["from"]["address"] = "alice@example.org";
    root["envelope"]["to"][0]["address"] = "bob@example.net";
    Json::Value& message = root["message"];
    message["headers"] = Json::Value(Json::arrayValue);
    for (const auto& [name, value] : headers) {
        Json::Value pair(Json::arrayValue);
        pair.append(name);
        pair.append(value + "\r\n");
        message["headers"].append(pair);
    }
    message["contents"] = body;
    message["size"] = static_cast<Json::UInt64>(body.size());
    Json::StreamWriterBuilder writer;
    writer["indentation"] = "";
    writer["emitUTF8"] = false;
    return Json::writeString(writer, root);
}

}  // namespace

TEST_SUITE("replay") {
    TEST_CASE("the body is decoded for a DKIM signature and only counted without one") {
        const relaytrust::test::TestKey key = relaytrust::test::make_ed25519_key();
        const TempFile zone("body.zone.yml",
                            "ed._domainkey.example.org:\n  - TXT: \"" + key.record + "\"\n");
        // The rule fires only when nothing hashed the body, and only at its decoded size.
        const TempFile policy("body.policy.jsonc", R"({
            "hostname": "mx.test",
            "listeners": [{"name": "in", "match": {"default": true}}],
            "auth": {"spfVerify": "'disable'", "dkimVerify": "'relaxed'",
                     "dmarcVerify": "'disable'"},
            "rules": [{"name": "size-seen", "stage": "data",
                       "if": "dkim_result == 'none' && body_size == )" +
                                                       std::to_string(kBody.size()) + R"(",
                       "action": "reject",
                       "reply": {"code": 550, "enhanced": "5.7.1", "text": "size seen"}}]
        })");
        PolicyStore policies(policy.path(), "", zone.path());
        REQUIRE(policies.load().empty());
        Authenticator no_auth;
        Metrics metrics;
        HookApplication application(policies, no_auth, metrics);

        const std::vector<std::pair<std::string, std::string>> headers = {
            {"From", " Alice <alice@example.org>"},
            {"To", " bob@example.net"},
            {"Subject", " escapes"},
            {"Date", " Fri, 04 Dec 2026 07:00:00 +0000"},
            {"Message-ID", " <body-1@example.org>"}};
        auth::DkimSignOptions options;
        options.algorithm = auth::DkimAlgorithm::Ed25519Sha256;
        options.domain = "example.org";
        options.selector = "ed";
        options.private_key = key.private_pem;
        const auth::DkimSignResult signature = auth::dkim_sign(headers, kBody, options);
        REQUIRE_MESSAGE(signature.ok, signature.error);
        auto signed_headers = headers;
        signed_headers.insert(signed_headers.begin(), {"DKIM-Signature", signature.header_value});

        const std::string request = data_request(signed_headers, kBody);
        REQUIRE(request.find("\\ud83d\\ude00") != std::string::npos);  // escaped as intended

        SUBCASE("signed: the decoded body verifies") {
            const HttpReply reply = application.answer_hook("/hook", request);
            CHECK(reply.status == 200);
            CHECK(reply.body.find("dkim=pass") != std::string::npos);
            CHECK(reply.body.find("size seen") == std::string::npos);
        }
        SUBCASE("signed, body changed after signing (same size): the hash fails") {
            std::string changed = kBody;
            changed.replace(changed.find("Last"), 4, "Lost");
            const HttpReply reply =
                application.answer_hook("/hook", data_request(signed_headers, changed));
            CHECK(reply.body.find("dkim=fail") != std::string::npos);
            CHECK(reply.body.find("size seen") == std::string::npos);
        }
        SUBCASE("unsigned: not decoded, counted at the decoded size") {
            const HttpReply reply = application.answer_hook("/hook", data_request(headers, kBody));
            CHECK(reply.body.find("\"action\":\"reject\"") != std::string::npos);
            CHECK(reply.body.find("size seen") != std::string::npos);
        }
    }
}
