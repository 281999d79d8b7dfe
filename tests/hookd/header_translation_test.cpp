// Engine edits (milter semantics) translated for Stalwart, then applied with the test-side
// Stalwart model, give exactly the message the milter front end would produce.
#include <doctest/doctest.h>

#include "header_edit_translation.h"
#include "stalwart_rules.h"

using namespace relaytrust;
using namespace relaytrust::hookd;
using namespace relaytrust::hookd::test;
using Kind = Modification::Kind;

namespace {

const std::string kMessage =
    "Received: from relay.example by mx.example;\r\n\tTue, 1 Jan 2030 00:00:00 +0000\r\n"
    "X-Spam-Status: No, score=1\r\n"
    "From: a@example.org\r\n"
    "Subject: hello\r\n"
    "X-Spam-Status: Yes, score=99\r\n"
    "To: b@example.org\r\n"
    "\r\n"
    "body\r\n";

// The engine's view of the message: raw values without the final CRLF.
std::vector<Header> engine_headers(const std::string& raw) {
    std::vector<Header> out;
    for (auto& [name, value] : parse_stalwart_message(raw).headers) {
        out.push_back({name, value.substr(0, value.size() - 2)});
    }
    return out;
}

std::vector<WireModification> to_wire(const std::vector<HookModification>& mods) {
    std::vector<WireModification> out;
    for (const auto& m : mods) {
        out.push_back({std::string(hook_modification_type_name(m.type)), m.index, m.name, m.value});
    }
    return out;
}

std::string apply(const std::vector<Modification>& edits, const std::string& raw = kMessage,
                  StalwartEnvelope* envelope = nullptr) {
    return apply_stalwart_modifications(
        to_wire(translate_modifications(edits, engine_headers(raw))), raw, envelope);
}

}  // namespace

TEST_SUITE("translation") {
    TEST_CASE("inserts alone become addHeaders that leave the received block untouched") {
        const std::string quirky = "Subject:no space\r\nTo: b@example.org\r\n\r\nbody\r\n";
        const std::vector<Modification> edits = {{Kind::InsertHeader, "A", "1", 0},
                                                 {Kind::InsertHeader, "B", "2", 0}};
        const auto mods = translate_modifications(edits, engine_headers(quirky));
        REQUIRE(mods.size() == 2);
        CHECK(mods[0].type == HookModification::Type::AddHeader);
        CHECK(mods[1].type == HookModification::Type::AddHeader);
        // Each insert lands on top in turn: B above A. "Subject:no space" survives as sent.
        CHECK(apply(edits, quirky) == "B: 2\r\nA: 1\r\n" + quirky);
    }

    TEST_CASE("strip forged headers, tag the subject, add the result header") {
        const std::vector<Modification> edits = {
            {Kind::DeleteHeader, "X-Spam-Status", "", 2},
            {Kind::DeleteHeader, "X-Spam-Status", "", 1},
            {Kind::ChangeHeader, "Subject", "[SPAM] hello", 1},
            {Kind::InsertHeader, "X-Relaytrust-Result", "r; action=accept", 0}};
        CHECK(apply(edits) ==
              "X-Relaytrust-Result: r; action=accept\r\n"
              "Received: from relay.example by mx.example;\r\n\tTue, 1 Jan 2030 00:00:00 +0000\r\n"
              "From: a@example.org\r\n"
              "Subject: [SPAM] hello\r\n"
              "To: b@example.org\r\n"
              "\r\n"
              "body\r\n");
    }

    TEST_CASE("an appended header lands after the last header, byte for byte") {
        const auto mods = translate_modifications({{Kind::AddHeader, "X-Appended", "v", 0}},
                                                  engine_headers(kMessage));
        REQUIRE(mods.size() == 1);
        CHECK(mods[0].type == HookModification::Type::ChangeHeader);
        CHECK(mods[0].name == "To");
        CHECK(apply({{Kind::AddHeader, "X-Appended", "v", 0}}) ==
              "Received: from relay.example by mx.example;\r\n\tTue, 1 Jan 2030 00:00:00 +0000\r\n"
              "X-Spam-Status: No, score=1\r\n"
              "From: a@example.org\r\n"
              "Subject: hello\r\n"
              "X-Spam-Status: Yes, score=99\r\n"
              "To: b@example.org\r\n"
              "X-Appended: v\r\n"
              "\r\n"
              "body\r\n");
    }

    TEST_CASE("appends follow the block's last header after other edits removed it") {
        CHECK(apply({{Kind::AddHeader, "X-A", "1", 0},
                     {Kind::AddHeader, "X-B", "2", 0},
                     {Kind::InsertHeader, "R", "r", 0},
                     {Kind::DeleteHeader, "To", "", 1}}) ==
              "R: r\r\n"
              "Received: from relay.example by mx.example;\r\n\tTue, 1 Jan 2030 00:00:00 +0000\r\n"
              "X-Spam-Status: No, score=1\r\n"
              "From: a@example.org\r\n"
              "Subject: hello\r\n"
              "X-Spam-Status: Yes, score=99\r\n"
              "X-A: 1\r\n"
              "X-B: 2\r\n"
              "\r\n"
              "body\r\n");
    }

    TEST_CASE("changing a header that does not exist appends it (milter rule)") {
        CHECK(apply({{Kind::ChangeHeader, "X-Missing", "m", 1}}) ==
              kMessage.substr(0, kMessage.find("\r\n\r\n") + 2) + "X-Missing: m\r\n\r\nbody\r\n");
        CHECK(apply({{Kind::ChangeHeader, "Subject", "second", 2}}) ==
              kMessage.substr(0, kMessage.find("\r\n\r\n") + 2) +
                  "Subject: second\r\n\r\nbody\r\n");
    }

    TEST_CASE("editing headers this verdict added") {
        // Inserted, then changed: Stalwart's changeHeader cannot reach it (name not in the
        // original), so the insert carries the final value.
        CHECK(apply({{Kind::InsertHeader, "X-New", "a", 0},
                     {Kind::ChangeHeader, "X-New", "b", 1}}) == "X-New: b\r\n" + kMessage);
        CHECK(apply({{Kind::InsertHeader, "X-New", "a", 0},
                     {Kind::DeleteHeader, "X-New", "", 1}}) == kMessage);
        CHECK(apply({{Kind::AddHeader, "X-A", "1", 0}, {Kind::ChangeHeader, "X-A", "2", 1}}) ==
              kMessage.substr(0, kMessage.find("\r\n\r\n") + 2) + "X-A: 2\r\n\r\nbody\r\n");
        CHECK(apply({{Kind::AddHeader, "X-A", "1", 0}, {Kind::DeleteHeader, "X-A", "", 1}}) ==
              kMessage);
    }

    TEST_CASE("deleting an occurrence that does not exist changes nothing") {
        CHECK(translate_modifications({{Kind::DeleteHeader, "X-Spam-Status", "", 3}},
                                      engine_headers(kMessage))
                  .empty());
    }

    TEST_CASE("a message left without headers still gets its appended header") {
        const std::string raw = "Subject: s\r\n\r\nbody\r\n";
        CHECK(apply({{Kind::DeleteHeader, "Subject", "", 1}, {Kind::AddHeader, "X-Only", "1", 0}},
                    raw) == "X-Only: 1\r\n\r\nbody\r\n");
    }

    TEST_CASE("envelope and body edits") {
        StalwartEnvelope envelope{"a@example.org", {"b@example.org"}};
        const std::string result = apply({{Kind::ChangeSender, "", "", 0},
                                          {Kind::AddRecipient, "", "New@Example.org", 0},
                                          {Kind::DeleteRecipient, "", "B@Example.ORG", 0},
                                          {Kind::ReplaceBody, "", "new\r\n", 0},
                                          {Kind::ReplaceBody, "", "more\r\n", 0}},
                                         kMessage, &envelope);
        CHECK(envelope.from == "");  // "<>" is the null sender
        CHECK(envelope.to == std::vector<std::string>{"new@example.org"});
        CHECK(result == kMessage.substr(0, kMessage.find("\r\n\r\n") + 4) + "new\r\nmore\r\n");
    }
}
