// The test-side Stalwart model reproduces Stalwart's own golden vectors byte for byte, so it
// can be trusted to judge what hookd sends.
#include <doctest/doctest.h>

#include "fixtures.h"
#include "stalwart_rules.h"

using namespace relaytrust::hookd::test;

namespace {

// Stalwart's internal milter enum (externally tagged, as serialized in message.json) to the
// hook wire types it corresponds to (spec §8).
WireModification from_internal(const Json::Value& item) {
    REQUIRE(item.isObject());
    REQUIRE(item.size() == 1);
    const std::string kind = item.getMemberNames().front();
    const Json::Value& v = item[kind];
    WireModification m;
    if (kind == "AddHeader") {
        m = {"addHeader", 0, v["name"].asString(), v["value"].asString()};
    } else if (kind == "InsertHeader") {
        m = {"insertHeader", v["index"].asUInt(), v["name"].asString(), v["value"].asString()};
    } else if (kind == "ChangeHeader") {
        m = {"changeHeader", v["index"].asUInt(), v["name"].asString(), v["value"].asString()};
    } else if (kind == "ReplaceBody") {
        std::string bytes;
        for (const auto& b : v["value"])
            bytes += static_cast<char>(b.asUInt());
        m = {"replaceContents", 0, "", bytes};
    } else if (kind == "Quarantine") {
        // Stalwart turns it into a header added on top.
        m = {"addHeader", 0, "X-Quarantine", v["reason"].asString()};
    } else {
        FAIL("unexpected internal modification " << kind);
    }
    return m;
}

}  // namespace

TEST_SUITE("stalwart_rules") {
    TEST_CASE("the golden vectors of Stalwart's milter tests, byte for byte") {
        const std::string message = read_fixture("stalwart-tests-milter-message.eml");
        const Json::Value vectors =
            parse_json(read_fixture("stalwart-tests-milter-message-modifications.json"));
        REQUIRE(vectors.isArray());
        REQUIRE(vectors.size() == 6);
        for (Json::ArrayIndex i = 0; i < vectors.size(); ++i) {
            CAPTURE(i);
            std::vector<WireModification> mods;
            for (const auto& item : vectors[i]["modifications"])
                mods.push_back(from_internal(item));
            CHECK(apply_stalwart_modifications(mods, message) == vectors[i]["result"].asString());
        }
    }

    TEST_CASE("the mock hook's wire responses give the same messages as their milter vectors") {
        // test-mock-responses.json "0", "2", "3" are vectors 0, 2, 3 in hook wire form.
        const std::string message = read_fixture("stalwart-tests-milter-message.eml");
        const Json::Value vectors =
            parse_json(read_fixture("stalwart-tests-milter-message-modifications.json"));
        const Json::Value mock = parse_json(read_fixture("derived/test-mock-responses.json"));
        for (const char* key : {"0", "2", "3"}) {
            CAPTURE(key);
            const auto mods = decode_wire_modifications(mock[key]["modifications"]);
            CHECK(apply_stalwart_modifications(mods, message) ==
                  vectors[std::stoi(key)]["result"].asString());
        }
    }

    TEST_CASE("the mock's vector 3 on the message Stalwart's session test sends") {
        // mta_hook_session checks "Subject: [SPAM] Saying Hello" and exactly one References.
        const std::string message = read_fixture("stalwart-tests-milter-message.eml");
        const Json::Value mock = parse_json(read_fixture("derived/test-mock-responses.json"));
        const std::string result = apply_stalwart_modifications(
            decode_wire_modifications(mock["3"]["modifications"]), message);
        CHECK(result.find("Subject: [SPAM] Saying Hello\r\n") != std::string::npos);
        CHECK(result.find("References: ") == result.rfind("References: "));
    }

    TEST_CASE("envelope rules: brackets, null sender, exact lowercase delete, no duplicates") {
        const std::string message = "Subject: x\r\n\r\nbody\r\n";
        StalwartEnvelope envelope{"a@example.org", {"b@example.org", "c@example.org"}};
        apply_stalwart_modifications({{"changeFrom", 0, "", " <New@Example.org> "},
                                      {"addRecipient", 0, "", "<D@example.org>"},
                                      {"addRecipient", 0, "", "d@example.org"},
                                      {"addRecipient", 0, "", "no-at-sign"},
                                      {"deleteRecipient", 0, "", "B@example.org"},
                                      {"deleteRecipient", 0, "", "<c@example.org>"}},
                                     message, &envelope);
        CHECK(envelope.from == "New@Example.org");
        // "B@..." is not lowercased by Stalwart, so b@ stays.
        CHECK(envelope.to == std::vector<std::string>{"b@example.org", "d@example.org"});
        apply_stalwart_modifications({{"changeFrom", 0, "", "<>"}}, message, &envelope);
        CHECK(envelope.from == "");
    }
}
