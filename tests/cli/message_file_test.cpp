#include "message_file.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace relaytrust;
using namespace relaytrust::cli;

namespace {
struct TempFile {
    std::filesystem::path path;
    explicit TempFile(const std::string& content) {
        path = std::filesystem::temp_directory_path() /
               ("relaytrust-msg-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        std::ofstream(path, std::ios::binary) << content;
    }
    ~TempFile() { std::filesystem::remove(path); }
};
}  // namespace

TEST_CASE("cli message: headers keep raw values and folding, body streams in chunks") {
    TempFile f("Subject: hello\r\n  world\r\nX-A:b\r\n\r\nline1\r\nline2\r\n");
    MessageFile m(f.path.string());
    REQUIRE(m.ok());
    CHECK(m.line_end() == "\r\n");
    REQUIRE(m.headers().size() == 2);
    CHECK(m.headers()[0].name == "Subject");
    CHECK(m.headers()[0].raw_value == " hello\r\n  world");
    CHECK(m.headers()[1].raw_value == "b");
    std::string body;
    int chunks = 0;
    m.stream_body(
        [&](std::string_view c) {
            body += c;
            ++chunks;
        },
        4);
    CHECK(body == "line1\r\nline2\r\n");
    CHECK(chunks == 4);
    // A second pass gives the same bytes.
    std::string again;
    m.stream_body([&](std::string_view c) { again += c; });
    CHECK(again == body);
}

TEST_CASE("cli message: a continuation line first is an error, a non-header ends the block") {
    TempFile bad(" folded\nSubject: x\n\nbody\n");
    CHECK_FALSE(MessageFile(bad.path.string()).ok());
    TempFile no_blank("Subject: x\nthis is body text\n");
    MessageFile m(no_blank.path.string());
    REQUIRE(m.ok());
    CHECK(m.headers().size() == 1);
    std::string body;
    m.stream_body([&](std::string_view c) { body += c; });
    CHECK(body == "this is body text\n");
}

TEST_CASE("cli message: modifications follow milter index rules") {
    EditedMessage msg;
    msg.headers = {{"X-Spam", " 1"}, {"Subject", " s"}, {"x-spam", " 2"}, {"X-Spam", " 3"}};
    using K = Modification::Kind;
    // Deleting occurrence 1 twice removes the first two, as on a live list.
    apply_modifications({{K::DeleteHeader, "X-Spam", "", 1}, {K::DeleteHeader, "X-Spam", "", 1}},
                        msg);
    REQUIRE(msg.headers.size() == 2);
    CHECK(msg.headers[1].raw_value == " 3");
    apply_modifications({{K::InsertHeader, "X-Top", "t", 0},
                         {K::AddHeader, "X-End", "e", 0},
                         {K::ChangeHeader, "Subject", "[SPAM] s", 1},
                         {K::ChangeSender, "", "new@example.org", 0},
                         {K::AddRecipient, "", "c@example.org", 0}},
                        msg);
    CHECK(msg.headers.front().name == "X-Top");
    CHECK(msg.headers.back().name == "X-End");
    CHECK(msg.headers[1].raw_value == " [SPAM] s");
    CHECK(msg.mail_from == "new@example.org");
    CHECK(msg.recipients == std::vector<std::string>{"c@example.org"});
}

TEST_CASE("cli message: long new header values fold so that unfolding restores them") {
    std::string value;
    for (int i = 0; i < 20; ++i)
        value += "key" + std::to_string(i) + "=value; ";
    value.pop_back();
    std::string raw = make_raw_value("X-Relaytrust-Result", value, "\r\n");
    CHECK(raw.find("\r\n ") != std::string::npos);
    std::string unfolded;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw.compare(i, 2, "\r\n") == 0) {
            ++i;
            continue;
        }
        unfolded += raw[i];
    }
    CHECK(unfolded == " " + value);
    std::size_t line_start = 0;
    while (line_start < raw.size()) {
        std::size_t end = raw.find("\r\n", line_start);
        if (end == std::string::npos) end = raw.size();
        CHECK(end - line_start <= 78);
        line_start = end + 2;
    }
}
