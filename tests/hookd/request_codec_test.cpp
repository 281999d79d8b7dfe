// The request decoder: every Stalwart request fixture decodes to the right values, and bad
// input is refused with a one-line reason naming the member.
#include <doctest/doctest.h>
#include <json/json.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "fixtures.h"
#include "hook_request.h"
#include "json_reader.h"

using namespace relaytrust::hookd;
using namespace relaytrust::hookd::test;

TEST_SUITE("contract") {
    TEST_CASE("every derived Stalwart request fixture decodes") {
        const auto files = derived_request_files();
        REQUIRE(files.size() >= 6);
        for (const auto& file : files) {
            CAPTURE(file);
            const auto result = decode_hook_request(read_file(file));
            CHECK_MESSAGE(result.request.has_value(), result.error);
        }
    }

    TEST_CASE("connect request: nulls before EHLO and iprev") {
        const auto r = decode_hook_request(read_fixture("derived/request-connect.json"));
        REQUIRE(r.request);
        CHECK(r.request->stage == HookStage::Connect);
        CHECK(r.request->client.ip == "192.0.2.1");
        CHECK(r.request->client.port == 50123);
        CHECK_FALSE(r.request->client.ptr);
        CHECK_FALSE(r.request->client.helo);
        CHECK(r.request->server.ip == "::");
        CHECK(r.request->server.port == 25);
        CHECK(r.request->server.name == "Stalwart v0.16.19");
        CHECK_FALSE(r.request->envelope);
        CHECK_FALSE(r.request->message);
    }

    TEST_CASE("mail request with SASL and TLS") {
        const auto r =
            decode_hook_request(read_fixture("derived/request-mail-authenticated-tls.json"));
        REQUIRE(r.request);
        CHECK(r.request->stage == HookStage::Mail);
        CHECK(r.request->sasl_login == "john");
        REQUIRE(r.request->tls);
        CHECK(r.request->tls->version == "TLSv1.3");
        CHECK(r.request->tls->cipher == "TLS13_AES_256_GCM_SHA384");
        REQUIRE(r.request->envelope);
        CHECK(r.request->envelope->from == "john@example.org");
        CHECK(r.request->envelope->to.empty());
    }

    TEST_CASE("rcpt request lists the recipient being asked about last") {
        const auto r = decode_hook_request(read_fixture("derived/request-rcpt.json"));
        REQUIRE(r.request);
        REQUIRE(r.request->envelope);
        CHECK(r.request->envelope->to == std::vector<std::string>{"suzie@shopping.example.net"});
        CHECK(r.request->client.ptr == "client1.football.example.com.");
    }

    TEST_CASE("data request keeps raw header values and the raw body") {
        const auto r = decode_hook_request(read_fixture("derived/request-data.json"));
        REQUIRE(r.request);
        CHECK(r.request->stage == HookStage::Data);
        CHECK(r.request->queue_id == "1a2b3c4d5e6f7081");
        REQUIRE(r.request->message);
        const auto& m = *r.request->message;
        REQUIRE(m.headers.size() == 6);
        CHECK(m.headers[0].first == "Received");
        CHECK(m.headers[0].second.find("\r\n      by submitserver") != std::string::npos);
        CHECK(m.headers[3].first == "Subject");
        CHECK(m.headers[3].second == " Is dinner ready?\r\n");
        CHECK(m.contents.decode() ==
              "Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n");
        CHECK(m.contents.size() == m.contents.decode().size());
        CHECK(m.size == 433);
    }

    TEST_CASE("the docs' request example is not what Stalwart sends, and is refused") {
        // Uppercase stage, client.ehlo, a string protocol version: the code wins (spec §9).
        const auto r = decode_hook_request(read_fixture("docs-request-example.json"));
        CHECK_FALSE(r.request);
        CHECK(r.error.find("context.stage") == 0);
    }
}

TEST_SUITE("codec") {
    const std::string kConnect =
        R"({"context":{"stage":"connect","client":{"ip":"192.0.2.1","port":50123,"ptr":null,)"
        R"("helo":null,"activeConnections":1},"server":{"name":"Stalwart v0.16.19","port":25,)"
        R"("ip":"::"},"protocol":{"version":1}}})";

    std::string replace(std::string text, const std::string& from, const std::string& to) {
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        return text.replace(at, from.size(), to);
    }

    void check_refused(const std::string& body, const std::string& reason_start) {
        const auto r = decode_hook_request(body);
        CAPTURE(body);
        CHECK_FALSE(r.request);
        CHECK_MESSAGE(r.error.rfind(reason_start, 0) == 0, r.error);
        CHECK(r.error.find('\n') == std::string::npos);
    }

    TEST_CASE("a minimal connect request decodes, unknown members are ignored") {
        CHECK(decode_hook_request(kConnect).request);
        CHECK(decode_hook_request(
                  replace(kConnect, R"("ptr":null,)", R"("ptr":null,"future":{"x":[1,2]},)"))
                  .request);
    }

    TEST_CASE("malformed JSON is refused with one line") {
        check_refused(kConnect.substr(0, kConnect.size() / 2), "malformed JSON");
        check_refused("", "malformed JSON");
        check_refused("[]", "request: expected an object");
        check_refused(kConnect + "x", "malformed JSON");
        check_refused(replace(kConnect, R"("ip":"::")", R"("ip":"::","ip":"1.2.3.4")"),
                      "malformed JSON");  // duplicate key
        check_refused(std::string(100000, '[') + std::string(100000, ']'), "malformed JSON");
    }

    TEST_CASE("wrong types are refused naming the member") {
        check_refused(replace(kConnect, R"("port":50123)", R"("port":"50123")"),
                      "context.client.port: expected an integer");
        check_refused(replace(kConnect, R"("port":50123)", R"("port":50123.0)"),
                      "context.client.port");
        check_refused(replace(kConnect, R"("port":50123)", R"("port":70000)"),
                      "context.client.port");
        check_refused(replace(kConnect, R"("port":50123)", R"("port":-1)"), "context.client.port");
        check_refused(replace(kConnect, R"("stage":"connect")", R"("stage":"CONNECT")"),
                      "context.stage");
        check_refused(replace(kConnect, R"("stage":"connect")", R"("stage":1)"), "context.stage");
        check_refused(replace(kConnect, R"("helo":null)", R"("helo":5)"), "context.client.helo");
        check_refused(replace(kConnect, R"("version":1)", R"("version":"1.0")"),
                      "context.protocol.version");
        check_refused(replace(kConnect, R"("version":1)", R"("version":2)"),
                      "context.protocol.version");
        check_refused(replace(kConnect, R"("ip":"192.0.2.1",)", ""), "context.client.ip: missing");
        check_refused(R"({"envelope":{}})", "request.context: missing");
        check_refused(R"({"context":[]})", "context: expected an object");
    }

    TEST_CASE("a stage without the data Stalwart always sends with it is refused") {
        check_refused(replace(kConnect, R"("stage":"connect")", R"("stage":"ehlo")"),
                      "context.client.helo");
        check_refused(replace(kConnect, R"("stage":"connect")", R"("stage":"mail")"), "envelope");
        const std::string rcpt =
            replace(replace(kConnect, R"("stage":"connect")", R"("stage":"rcpt")"), "}}}",
                    R"(}},"envelope":{"from":{"address":"a@b.example"},"to":[]}})");
        check_refused(rcpt, "envelope.to");
        const std::string data =
            replace(replace(kConnect, R"("stage":"connect")", R"("stage":"data")"), "}}}",
                    R"(}},"envelope":{"from":{"address":"a@b.example"},"to":[]}})");
        check_refused(data, "message");
    }

    TEST_CASE("message headers must be [name, value] string pairs") {
        const std::string base = replace(
            replace(kConnect, R"("stage":"connect")", R"("stage":"data")"), "}}}",
            R"(}},"envelope":{"from":{"address":"a@b.example"},"to":[{"address":"c@d.example"}]},)"
            R"("message":{"headers":HEADERS,"contents":"x\r\n","size":10}})");
        CHECK(decode_hook_request(replace(base, "HEADERS", R"([["Subject"," hi\r\n"]])")).request);
        check_refused(replace(base, "HEADERS", R"([["Subject"]])"), "message.headers[0]");
        check_refused(replace(base, "HEADERS", R"([["Subject",1]])"), "message.headers[0][1]");
        check_refused(replace(base, "HEADERS", R"({"Subject":" hi"})"), "message.headers");
        check_refused(replace(base, "HEADERS", R"([["",""]])"), "message.headers[0][0]");
    }
}

TEST_SUITE("codec") {
    TEST_CASE("the JSON reader: strings, escapes, numbers") {
        json::Document doc;
        std::string error;
        REQUIRE(doc.parse(
            R"({"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac\ud83d\ude00","n":[0,-0,7,18446744073709551615,)"
            R"(18446744073709551616,1.5,2e3,-3],"t":true,"f":false,"z":null,"o":{},"a":[],)"
            R"("plain":"no escapes","\u006b":"escaped name"})",
            error));
        const json::Node& v = doc.root();
        CHECK(doc.string(*doc.find(v, "s")) ==
              "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
        CHECK(doc.find(v, "s")->escaped);
        // The size known before decoding (hookd skips decoding a body nobody reads).
        CHECK(doc.find(v, "s")->decoded_size == doc.string(*doc.find(v, "s")).size());
        CHECK_FALSE(doc.find(v, "plain")->escaped);
        CHECK(doc.string(*doc.find(v, "plain")) == "no escapes");
        CHECK(doc.string(*doc.find(v, "k")) == "escaped name");  // names are decoded
        const json::Node& array = *doc.find(v, "n");
        REQUIRE(array.count == 8);
        std::vector<const json::Node*> n;
        for (const json::Node* item = doc.first_child(array); n.size() < array.count;
             item = doc.next_sibling(*item))
            n.push_back(item);
        CHECK(n[0]->is_unsigned());
        CHECK(n[1]->is_unsigned());  // -0 is zero
        CHECK(n[2]->magnitude == 7);
        CHECK(n[3]->magnitude == UINT64_MAX);
        CHECK(n[4]->type == json::Type::Number);  // too big for an integer
        CHECK(n[5]->type == json::Type::Number);
        CHECK(n[6]->type == json::Type::Number);
        CHECK((n[7]->type == json::Type::Integer && n[7]->negative));
        CHECK(doc.find(v, "t")->boolean);
        CHECK(doc.find(v, "z")->is_null());
        CHECK(doc.find(*doc.find(v, "o"), "x") == nullptr);
        CHECK(doc.first_child(*doc.find(v, "a")) == nullptr);
        CHECK(doc.find(v, "missing") == nullptr);
        // The member after the nested array and objects is found: subtrees are skipped whole.
        CHECK(doc.next_sibling(*doc.find(v, "n")) == doc.find(v, "t"));
    }

    TEST_CASE("the JSON reader refuses what RFC 8259 does not allow") {
        for (const char* bad : {"",
                                " ",
                                "{",
                                "{\"a\":1,}",
                                "[1,]",
                                "{\"a\" 1}",
                                "{'a':1}",
                                "{\"a\":1}x",
                                "{\"a\":1,\"a\":2}",
                                "\"\x01\"",
                                "\"\\x\"",
                                "\"\\u12\"",
                                "\"\\ud800\"",
                                "\"\\udc00\"",
                                "01",
                                "1.",
                                "1e",
                                "-",
                                "+1",
                                "tru",
                                "nul",
                                "[1 2]",
                                "/*c*/{}",
                                "\"unterminated"}) {
            CAPTURE(bad);
            json::Document doc;
            std::string error;
            CHECK_FALSE(doc.parse(bad, error));
            CHECK(error.rfind("offset ", 0) == 0);
        }
        json::Document doc;
        std::string error;
        CHECK(doc.parse(std::string(64, '[') + std::string(64, ']'), error));
        CHECK_FALSE(doc.parse(std::string(65, '[') + std::string(65, ']'), error));
        CHECK(error.find("nesting too deep") != std::string::npos);
    }

    TEST_CASE("the JSON reader: escapes at every offset of the 16- and 32-byte scan blocks") {
        // The scanner steps over escapes inside SIMD blocks; an escape straddling a block
        // boundary, a quote right after an escaped backslash, or an error just past a run of
        // escapes must come out as a byte-at-a-time reader (jsoncpp, here) sees them. The
        // empty "escape" gives plain strings of every length, which end inside or past the
        // 16-byte probe for short strings.
        const std::vector<std::string> good = {
            "",        "\\n",     "\\\\",           "\\\"",     "\\/",      "\\r\\n",
            "\\u00e9", "\\u20ac", "\\ud83d\\ude00", "\\\\\\\"", "\\t\\b\\f"};
        const std::vector<std::string> bad = {"\x01",     "\\x",     "\\u12G4",
                                              "\\ud800x", "\\udc00", "\\q"};
        Json::CharReaderBuilder builder;
        builder["collectComments"] = false;
        const std::unique_ptr<Json::CharReader> reference(builder.newCharReader());
        json::Document doc;
        std::string error;
        for (std::size_t offset = 0; offset < 70; ++offset) {
            const std::string prefix(offset, 'a');
            for (const std::string& escape : good) {
                for (const std::string suffix :
                     {"", "b", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}) {
                    const std::string text = "[\"" + prefix + escape + suffix + "\"]";
                    CAPTURE(text);
                    REQUIRE(doc.parse(text, error));
                    Json::Value expected;
                    REQUIRE(reference->parse(text.data(), text.data() + text.size(), &expected,
                                             nullptr));
                    const json::Node& node = *doc.first_child(doc.root());
                    CHECK(doc.string(node) == expected[0].asString());
                    CHECK(node.decoded_size == expected[0].asString().size());
                }
            }
            for (const std::string& escape : bad) {
                const std::string text = "[\"" + prefix + "\\r\\n" + escape + "tail\"]";
                CAPTURE(text);
                CHECK_FALSE(doc.parse(text, error));
            }
            // A control character where the probe for short strings looks, and past it.
            CHECK_FALSE(doc.parse("[\"" + prefix + "\x01tail\"]", error));
            CHECK_FALSE(doc.parse("[\"" + prefix + "\ttail\"]", error));
            // An escaped quote where the string should end: unterminated.
            CHECK_FALSE(doc.parse("[\"" + prefix + "\\r\\n\\\"]", error));
        }
    }

    TEST_CASE("the JSON reader: long strings with escapes anywhere, against jsoncpp") {
        // Long strings (message bodies) are scanned in SIMD blocks that step over escapes
        // inside them. Random strings of random lengths put backslash runs, \u escapes,
        // escaped quotes and errors on every side of the block edges; each must come out as
        // jsoncpp reads it, or be refused.
        const std::vector<std::string> pieces = {
            "a",        "plain text ", "\\r\\n",
            "\\\\",     "\\\\\\\\",    "\\\"",
            "\\\\\\\"", "\\/",         "\\t",
            "\\u00e9",  "\\u20ac",     "\\ud83d\\ude00",
            "\\b\\f",   "\xc3\xa9",    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
        const std::vector<std::string> errors = {"\x01",     "\x1f",    "\n",  "\\x",   "\\u12G4",
                                                 "\\ud800x", "\\udc00", "\\q", "\\\x01"};
        Json::CharReaderBuilder builder;
        builder["collectComments"] = false;
        const std::unique_ptr<Json::CharReader> reference(builder.newCharReader());
        json::Document doc;
        std::string error;
        std::uint32_t state = 12345;  // a fixed LCG: the same cases every run
        auto next = [&](std::uint32_t bound) {
            state = state * 1664525u + 1013904223u;
            return (state >> 8) % bound;
        };
        for (int round = 0; round < 3000; ++round) {
            std::string contents;
            const std::uint32_t length = 60 + next(700);
            while (contents.size() < length)
                contents += pieces[next(static_cast<std::uint32_t>(pieces.size()))];
            // Something after the string in the same block: more members, white space.
            const std::string text = "[\"" + contents + "\",\n \"after\"]";
            CAPTURE(text);
            Json::Value expected;
            REQUIRE(reference->parse(text.data(), text.data() + text.size(), &expected, nullptr));
            REQUIRE(doc.parse(text, error));
            const json::Node& node = *doc.first_child(doc.root());
            CHECK(doc.string(node) == expected[0].asString());
            CHECK(node.decoded_size == expected[0].asString().size());

            // A string with an error at a random place (at a piece boundary: never inside
            // an escape, which could turn the error into a valid escape).
            std::string broken;
            const std::uint32_t at = next(length);
            while (broken.size() < at)
                broken += pieces[next(static_cast<std::uint32_t>(pieces.size()))];
            const std::string& inserted = errors[next(static_cast<std::uint32_t>(errors.size()))];
            CAPTURE(inserted);
            broken += inserted + std::string(next(100), 'z');
            CHECK_FALSE(doc.parse("[\"" + broken + "\"]", error));
            // Unterminated: the closing quote escaped, after whichever piece ends the string.
            CHECK_FALSE(doc.parse("[\"" + contents + "\\\"]", error));
        }
    }

    TEST_CASE("the JSON reader: duplicate names, also escaped ones and in large objects") {
        json::Document doc;
        std::string error;
        CHECK_FALSE(doc.parse(R"({"ab":1,"a\u0062":2})", error));
        CHECK(error.find("duplicate member name") != std::string::npos);
        CHECK(doc.parse(R"({"a":{"a":1},"b":{"a":2}})", error));  // the same name, other objects
        // Past sixteen members the names are sorted before comparing: still caught.
        std::string wide = "{";
        for (int i = 0; i < 40; ++i)
            wide += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
        CHECK(doc.parse(wide + "\"last\":0}", error));
        CHECK_FALSE(doc.parse(wide + "\"k7\":0}", error));
        CHECK(error.find("duplicate member name") != std::string::npos);
    }
}

TEST_SUITE("codec") {
    TEST_CASE("mutated requests never crash the decoder") {
        const std::string request =
            R"({"context":{"stage":"data","client":{"ip":"127.0.0.1","port":40000,)"
            R"("ptr":"relay.example.net.","helo":"relay.example.net","activeConnections":1},)"
            R"("server":{"name":"Stalwart v0.16.19","port":10025,"ip":"::"},"queue":{"id":"1a"},)"
            R"("protocol":{"version":1}},"envelope":{"from":{"address":"a@b.example"},)"
            R"("to":[{"address":"c@d.example"}]},"message":{"headers":[["Subject"," hi\r\n"],)"
            R"(["X-U"," \u00e9\ud83d\ude00\r\n"]],"contents":"body\r\n","size":30}})";
        REQUIRE(decode_hook_request(request).request);
        std::uint64_t state = 0x9e3779b97f4a7c15ULL;  // fixed seed: reproducible
        auto next = [&] {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            return state;
        };
        const std::string alphabet = "{}[]\",:\\u0123456789.-eEtrufalsn \r\n\x01\xc3\xff";
        int decoded = 0;
        for (int i = 0; i < 20000; ++i) {
            std::string mutated = request;
            const int edits = 1 + static_cast<int>(next() % 4);
            for (int e = 0; e < edits && !mutated.empty(); ++e) {
                const std::size_t at = next() % mutated.size();
                switch (next() % 3) {
                    case 0:
                        mutated[at] = alphabet[next() % alphabet.size()];
                        break;
                    case 1:
                        mutated.erase(at, 1 + next() % 8);
                        break;
                    default:
                        mutated.insert(at, 1, alphabet[next() % alphabet.size()]);
                }
            }
            const auto result = decode_hook_request(mutated);
            if (result.request) {
                ++decoded;
                if (result.request->message) {
                    const auto& contents = result.request->message->contents;
                    CHECK(contents.size() == contents.decode().size());
                }
            } else {
                CHECK_FALSE(result.error.empty());
                CHECK(result.error.find('\n') == std::string::npos);
            }
        }
        MESSAGE(decoded << " of 20000 mutations still decoded");
    }
}
