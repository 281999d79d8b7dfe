// The stage replay rules of stage_handler.h: each stateless request replays the earlier
// stages from its own data.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "hook_request.h"
#include "policy_store.h"
#include "stage_handler.h"

using namespace relaytrust;
using namespace relaytrust::hookd;

namespace {

constexpr const char* kPolicy = R"({
    "hostname": "mx.test",
    "listeners": [
        {"name": "in", "match": {"default": true, "hook_path": "/hook/in"},
         "on_error": {"action": "accept"}}
    ],
    "rules": [
        {"name": "busy", "stage": "ehlo", "if": "helo_domain == 'busy.example'",
         "action": "tempfail", "reply": {"code": 451, "enhanced": "4.7.1", "text": "Busy"}},
        {"name": "hold", "stage": "mail", "if": "sender == 'hold@example.org'",
         "action": "quarantine"},
        {"name": "ptr", "stage": "mail", "if": "remote_host == 'bad-ptr.example'",
         "action": "reject", "reply": {"code": 550, "enhanced": "5.7.1", "text": "PTR"}},
        {"name": "unknown-user", "stage": "rcpt", "if": "rcpt == 'bad@example.org'",
         "action": "reject", "reply": {"code": 550, "enhanced": "5.1.1", "text": "No such user"}}
    ]
})";

class TempPolicy {
  public:
    TempPolicy()
        : path_(std::filesystem::temp_directory_path() /
                ("relaytrust-replay-" + std::to_string(getpid()) + ".jsonc")) {
        std::ofstream(path_) << kPolicy;
    }
    ~TempPolicy() { std::filesystem::remove(path_); }
    std::string path() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

HookRequest make_request(HookStage stage, std::vector<std::string> to,
                         std::string from = "alice@example.net",
                         std::string helo = "mail.example") {
    HookRequest r;
    r.stage = stage;
    r.client = {"192.0.2.1", 40000, std::string("mail.example."), helo};
    r.server = {"Stalwart v0.16.19", 25, "::"};
    if (stage >= HookStage::Mail) r.envelope = HookEnvelope{std::move(from), std::move(to)};
    if (stage == HookStage::Data) {
        r.queue_id = "abc";
        r.message =
            HookMessage{{{"Subject", " hi\r\n"}}, EscapedText::from_decoded("body\r\n"), 20};
    }
    return r;
}

}  // namespace

TEST_SUITE("replay") {
    TEST_CASE("stage replay") {
        TempPolicy file;
        PolicyStore policies(file.path(), "", RELAYTRUST_HOOKD_TEST_ZONE);
        REQUIRE(policies.load().empty());
        StageHandler handler(policies);

        SUBCASE("rcpt: only the last recipient's verdict counts") {
            auto outcome = handler.handle(
                make_request(HookStage::Rcpt, {"bad@example.org", "ok@example.org"}), "");
            CHECK(outcome.verdict.action == Action::Accept);
            outcome = handler.handle(
                make_request(HookStage::Rcpt, {"ok@example.org", "bad@example.org"}), "");
            CHECK(outcome.verdict.action == Action::Reject);
            REQUIRE(outcome.response.reply);
            CHECK(outcome.response.reply->enhanced_status == "5.1.1");
        }

        SUBCASE("data: a recipient the rcpt rules refuse refuses the message") {
            auto outcome = handler.handle(
                make_request(HookStage::Data, {"ok@example.org", "bad@example.org"}), "");
            CHECK(outcome.verdict.action == Action::Reject);
            CHECK(outcome.response.action == HookAction::Reject);
            CHECK(outcome.response.reply->status == 550);
        }

        SUBCASE("an earlier tempfail is the answer at a later stage") {
            auto outcome = handler.handle(make_request(HookStage::Data, {"ok@example.org"},
                                                       "alice@example.net", "busy.example"),
                                          "");
            CHECK(outcome.verdict.action == Action::Tempfail);
            CHECK(outcome.response.action == HookAction::Reject);
            CHECK(outcome.response.reply->status == 451);
            CHECK(outcome.response.reply->enhanced_status == "4.7.1");
        }

        SUBCASE("quarantine at mail carries into data (as an accept with edits on the wire)") {
            auto outcome =
                handler.handle(make_request(HookStage::Mail, {}, "hold@example.org"), "");
            CHECK(outcome.verdict.action == Action::Quarantine);
            CHECK(outcome.response.action == HookAction::Accept);
            outcome = handler.handle(
                make_request(HookStage::Data, {"ok@example.org"}, "hold@example.org"), "");
            CHECK(outcome.verdict.action == Action::Quarantine);
            CHECK(outcome.response.action == HookAction::Accept);
            CHECK_FALSE(outcome.response.modifications.empty());
        }

        SUBCASE("the PTR name loses Stalwart's trailing dot") {
            auto request = make_request(HookStage::Mail, {});
            request.client.ptr = "bad-ptr.example.";
            CHECK(handler.handle(request, "").verdict.action == Action::Reject);
        }

        SUBCASE("the URL path picks the listener") {
            CHECK(handler.handle(make_request(HookStage::Connect, {}), "/hook/in").listener ==
                  "in");
        }
    }

    TEST_CASE("taking the request's strings decides exactly as copying them") {
        TempPolicy file;
        PolicyStore policies(file.path(), "", RELAYTRUST_HOOKD_TEST_ZONE);
        REQUIRE(policies.load().empty());
        StageHandler handler(policies);
        // Strings longer than the short-string buffer, so that taking them really moves.
        const std::string sender = "a-rather-long-sender-address@example.net";
        const std::string helo = "a-rather-long-helo-name.example";
        std::vector<HookRequest> requests = {
            make_request(HookStage::Rcpt, {"ok@example.org", "bad@example.org"}),
            make_request(HookStage::Data, {"ok@example.org", "bad@example.org"}),
            make_request(HookStage::Data, {"ok@example.org"}, sender, "busy.example"),
            make_request(HookStage::Mail, {}, "hold@example.org"),
            make_request(HookStage::Data, {"first-recipient@example.org", "second@example.org"},
                         "hold@example.org", helo),
            make_request(HookStage::Data, {"first-recipient@example.org"}, sender, helo),
        };
        requests.back().message->headers = {
            {"Received",
             " from a-rather-long-client.example (a-rather-long-client.example\r\n"
             "\t[192.0.2.1]) by mx.test; Tue, 1 Jan 2030 00:00:00 +0000\r\n"},
            {"X-Spam-Status", " Yes, score=12.0 required=5.0 tests=BAYES_99\r\n"},
            {"Subject", " a subject long enough to be on the heap\r\n"}};
        auto ptr_request = make_request(HookStage::Mail, {}, sender, helo);
        ptr_request.client.ptr = "bad-ptr.example.";
        requests.push_back(ptr_request);

        for (const HookRequest& request : requests) {
            CAPTURE(hook_stage_name(request.stage));
            const StageOutcome copied = handler.handle(request, "");
            HookRequest taken_from = request;
            const StageOutcome taken = handler.handle_taking_strings(taken_from, "");
            CHECK(taken.verdict.action == copied.verdict.action);
            CHECK(taken.verdict.rule == copied.verdict.rule);
            CHECK(taken.verdict.reasons == copied.verdict.reasons);
            CHECK(taken.verdict.modifications == copied.verdict.modifications);
            CHECK(encode_hook_response(taken.response) == encode_hook_response(copied.response));
            CHECK(taken.listener == copied.listener);
            if (request.stage == HookStage::Data && taken.verdict.action == Action::Accept) {
                // Taken, as documented (what the log line reads is left in place).
                CHECK(taken_from.message->headers.empty());
                CHECK(taken_from.envelope->from.empty());
                CHECK(taken_from.client.ip == request.client.ip);
            }
        }
    }

    TEST_CASE("no policy: the hookd failure verdict, a 4xx reject") {
        PolicyStore empty("/nonexistent/policy.jsonc", "", RELAYTRUST_HOOKD_TEST_ZONE);
        StageHandler handler(empty);
        const auto outcome = handler.handle(make_request(HookStage::Data, {"a@example.org"}), "");
        CHECK(outcome.engine_error);
        CHECK(outcome.response.action == HookAction::Reject);
        REQUIRE(outcome.response.reply);
        CHECK(outcome.response.reply->status / 100 == 4);
    }
}
