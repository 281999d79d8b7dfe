// Every response shape hookd can emit passes the validator written from Stalwart's field
// rules; the validator itself catches the docs' broken example.
#include <doctest/doctest.h>

#include "fixtures.h"
#include "hook_application.h"
#include "hook_response.h"
#include "response_validator.h"
#include "verdict_mapping.h"

using namespace relaytrust;
using namespace relaytrust::hookd;
using namespace relaytrust::hookd::test;
using Kind = Modification::Kind;

namespace {

const std::vector<HookStage> kStages = {HookStage::Connect, HookStage::Ehlo, HookStage::Auth,
                                        HookStage::Mail,    HookStage::Rcpt, HookStage::Data};

const std::vector<Header> kHeaders = {
    {"Received", " from a by b; Tue, 1 Jan 2030"}, {"Subject", " hi"}, {"X-Spam-Status", " No"}};

std::vector<Verdict> every_verdict_shape() {
    std::vector<Verdict> v;
    v.push_back({});  // plain accept
    Verdict accept_all_edits;
    accept_all_edits.modifications = {
        {Kind::AddHeader, "X-Appended", "a", 0},
        {Kind::InsertHeader, "X-Relaytrust-Result", "h; action=accept", 0},
        {Kind::ChangeHeader, "Subject", "[SPAM] hi", 1},
        {Kind::ChangeHeader, "X-Absent", "added", 1},
        {Kind::DeleteHeader, "X-Spam-Status", "", 1},
        {Kind::ChangeSender, "", "new@example.org", 0},
        {Kind::ChangeSender, "", "", 0},
        {Kind::AddRecipient, "", "r@example.org", 0},
        {Kind::DeleteRecipient, "", "Old@Example.org", 0},
        {Kind::ReplaceBody, "", "body\r\n", 0}};
    v.push_back(accept_all_edits);
    Verdict inserts_only;
    inserts_only.modifications = {{Kind::InsertHeader, "X-A", "1", 0},
                                  {Kind::InsertHeader, "X-B", "2", 0}};
    v.push_back(inserts_only);
    Verdict quarantine = accept_all_edits;
    quarantine.action = Action::Quarantine;
    v.push_back(quarantine);
    v.push_back({Action::Reject, std::nullopt, {}, {}, ""});
    v.push_back({Action::Reject, SmtpReply{554, "5.7.1", "Relay only"}, {}, {}, "r"});
    v.push_back({Action::Reject, SmtpReply{550, "", "no enhanced code"}, {}, {}, "r"});
    v.push_back({Action::Tempfail, std::nullopt, {}, {}, ""});
    v.push_back({Action::Tempfail,
                 SmtpReply{451, "4.3.0", "Temporary policy failure"},
                 {},
                 {},
                 "on_error"});
    v.push_back({Action::Discard, std::nullopt, {}, {}, ""});
    v.push_back({Action::Discard, SmtpReply{250, "2.0.0", "Gone"}, {}, {}, ""});
    // Hostile or broken text must still give a valid response.
    v.push_back({Action::Reject,
                 SmtpReply{550, "5.7.1", "line\r\nbreak \"quoted\" \x01 \xff\xfe"},
                 {},
                 {},
                 ""});
    v.push_back({Action::Reject, SmtpReply{250, "2.0.0", "a 2xx reject is replaced"}, {}, {}, ""});
    v.push_back(
        {Action::Tempfail, SmtpReply{550, "5.0.0", "a 5xx tempfail is replaced"}, {}, {}, ""});
    Verdict bad_bytes;
    bad_bytes.modifications = {
        {Kind::InsertHeader, "X-Bytes", "\xc3\x28 \xe2\x82 \xf0\x9f\x98\x80", 0},
        {Kind::ReplaceBody, "", std::string("nul\0byte", 8), 0}};
    v.push_back(bad_bytes);
    return v;
}

void check_valid(const std::string& body) {
    CAPTURE(body);
    const auto problems = relaytrust_response_problems(body);
    for (const auto& p : problems)
        FAIL_CHECK(p);
}

}  // namespace

TEST_SUITE("contract") {
    TEST_CASE("every verdict shape at every stage gives a response Stalwart accepts") {
        for (const auto& verdict : every_verdict_shape()) {
            for (HookStage stage : kStages) {
                CAPTURE(hook_stage_name(stage));
                check_valid(encode_hook_response(map_verdict(verdict, stage, kHeaders)));
            }
        }
    }

    TEST_CASE("the mapping: tempfail is a 4xx reject, quarantine an accept with edits") {
        Verdict tempfail{Action::Tempfail, SmtpReply{451, "4.3.0", "later"}, {}, {}, ""};
        CHECK(encode_hook_response(map_verdict(tempfail, HookStage::Rcpt, {})) ==
              R"({"action":"reject","response":{"status":451,"enhanced_status":"4.3.0",)"
              R"("message":"later","disconnect":false}})");
        Verdict quarantine;
        quarantine.action = Action::Quarantine;
        quarantine.modifications = {
            {Kind::InsertHeader, "X-Relaytrust-Result", "h; action=quarantine", 0}};
        CHECK(encode_hook_response(map_verdict(quarantine, HookStage::Data, {})) ==
              R"({"action":"accept","modifications":[{"type":"addHeader",)"
              R"("name":"X-Relaytrust-Result","value":"h; action=quarantine"}]})");
        // Before data Stalwart ignores modifications: none are sent.
        CHECK(encode_hook_response(map_verdict(quarantine, HookStage::Rcpt, {})) ==
              R"({"action":"accept"})");
        CHECK(encode_hook_response(map_verdict({Action::Discard, {}, {}, {}, ""}, HookStage::Data,
                                               {})) == R"({"action":"discard"})");
    }

    TEST_CASE("the validator rejects the docs' response example") {
        const auto problems =
            stalwart_response_problems(read_fixture("docs-response-example.json"));
        auto has = [&](const std::string& text) {
            for (const auto& p : problems) {
                if (p.find(text) != std::string::npos) return true;
            }
            return false;
        };
        CHECK(has("enhancedStatus"));
        CHECK(has("modifications[0].parameters.size: values must be strings"));
        CHECK(has("modifications[1].parameters: null is rejected"));
    }

    TEST_CASE("the validator accepts the responses of Stalwart's own mock hook") {
        const Json::Value mock = parse_json(read_fixture("derived/test-mock-responses.json"));
        Json::StreamWriterBuilder writer;
        for (const auto& key : mock.getMemberNames()) {
            CAPTURE(key);
            CHECK(stalwart_response_problems(Json::writeString(writer, mock[key])).empty());
        }
        CHECK_FALSE(stalwart_response_problems(R"({"action":"tempfail"})").empty());
        CHECK_FALSE(
            stalwart_response_problems(R"({"action":"accept","modifications":null})").empty());
        CHECK_FALSE(stalwart_response_problems(
                        R"({"action":"accept","modifications":[{"type":"addRcpt","value":"x"}]})")
                        .empty());
        CHECK_FALSE(stalwart_response_problems(R"({"action":"reject","response":{"status":"550"}})")
                        .empty());
        CHECK_FALSE(
            stalwart_response_problems(
                R"({"action":"accept","modifications":[{"type":"deleteHeader","index":-1,"name":"X"}]})")
                .empty());
    }

    TEST_CASE("every fixture request, answered by hookd for each listener, is a valid response") {
        PolicyStore policies("", "", RELAYTRUST_HOOKD_TEST_ZONE);
        REQUIRE(policies.load().empty());
        Authenticator no_auth;
        Metrics metrics;
        HookApplication application(policies, no_auth, metrics);
        for (const auto& file : derived_request_files()) {
            for (const char* path : {"/", "/hook", "/hook/relay-in", "/hook/mx"}) {
                CAPTURE(file);
                CAPTURE(path);
                const HttpReply reply = application.answer_hook(path, read_file(file));
                REQUIRE(reply.status == 200);
                check_valid(reply.body);
            }
        }
    }
}
