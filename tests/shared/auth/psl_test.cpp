// Public Suffix List lookups through libpsl: the PSL project's own test vectors
// (../shared/conformance/psl/test_psl.txt) against the system list and against a list loaded
// from a file, plus a small list written by the test.
#include "auth/psl.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using relaytrust::auth::PublicSuffixList;

const std::filesystem::path kPslTests =
    std::filesystem::path(RELAYTRUST_SHARED_DIR) / "conformance" / "psl" / "test_psl.txt";
constexpr const char* kSystemListFile = "/usr/share/publicsuffix/public_suffix_list.dat";

struct PslCheck {
    std::optional<std::string> input;
    std::optional<std::string> expected;
    int line = 0;
};

// One argument of checkPublicSuffix(): null or a single-quoted string. Advances `text`.
bool read_argument(std::string_view& text, std::optional<std::string>& value) {
    if (text.starts_with("null")) {
        value.reset();
        text.remove_prefix(4);
        return true;
    }
    if (!text.starts_with('\'')) return false;
    const std::size_t close = text.find('\'', 1);
    if (close == std::string_view::npos) return false;
    value = std::string(text.substr(1, close - 1));
    text.remove_prefix(close + 1);
    return true;
}

std::vector<PslCheck> read_checks(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<PslCheck> checks;
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.empty() || line.starts_with("//")) continue;
        // checkPublicSuffix('input' | null, 'expected' | null);
        std::string_view text = line;
        while (!text.empty() && (text.back() == ' ' || text.back() == '\r'))
            text.remove_suffix(1);
        PslCheck check;
        check.line = number;
        bool ok = text.starts_with("checkPublicSuffix(") && text.ends_with(");");
        if (ok) {
            text = text.substr(18, text.size() - 20);
            ok = read_argument(text, check.input) && text.starts_with(", ");
        }
        if (ok) {
            text.remove_prefix(2);
            ok = read_argument(text, check.expected) && text.empty();
        }
        REQUIRE_MESSAGE(ok, "unreadable line ", number, ": ", line);
        checks.push_back(std::move(check));
    }
    return checks;
}

std::size_t run_checks(const PublicSuffixList& list, const std::vector<PslCheck>& checks) {
    std::size_t passed = 0;
    for (const PslCheck& check : checks) {
        CAPTURE(check.line);
        CAPTURE(check.input.value_or("null"));
        const std::optional<std::string> got = list.registrable_domain(check.input.value_or(""));
        CHECK(got == check.expected);
        if (got == check.expected) ++passed;
    }
    return passed;
}

}  // namespace

TEST_CASE("psl: PSL project test vectors with the system list") {
    if (!std::filesystem::exists(kPslTests)) {
        std::printf("SKIPPED: %s not present\n", kPslTests.c_str());
        return;
    }
    const std::vector<PslCheck> checks = read_checks(kPslTests);
    CHECK(checks.size() == 78);
    const std::size_t passed = run_checks(*PublicSuffixList::system(), checks);
    std::printf("psl vectors (system list): %zu/%zu\n", passed, checks.size());
}

TEST_CASE("psl: PSL project test vectors with a list loaded from a file") {
    if (!std::filesystem::exists(kPslTests)) {
        std::printf("SKIPPED: %s not present\n", kPslTests.c_str());
        return;
    }
    // Debian's publicsuffix package (scripts/install-deps.sh installs it).
    REQUIRE(std::filesystem::exists(kSystemListFile));
    std::string error;
    const auto list = PublicSuffixList::load_file(kSystemListFile, &error);
    REQUIRE_MESSAGE(list != nullptr, error);
    const std::vector<PslCheck> checks = read_checks(kPslTests);
    const std::size_t passed = run_checks(*list, checks);
    std::printf("psl vectors (%s): %zu/%zu\n", kSystemListFile, passed, checks.size());
}

TEST_CASE("psl: a custom list file, organizational domains, bad files") {
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() / "relaytrust_psl_test.dat";
    {
        std::ofstream out(file);
        out << "// test list\n// ===BEGIN ICANN DOMAINS===\ntest\nco.test\n*.wild.test\n"
               "!keep.wild.test\n// ===END ICANN DOMAINS===\n";
    }
    std::string error;
    const auto list = PublicSuffixList::load_file(file.string(), &error);
    std::filesystem::remove(file);
    REQUIRE_MESSAGE(list != nullptr, error);
    CHECK(list->registrable_domain("a.b.example.test") ==
          std::optional<std::string>("example.test"));
    CHECK(list->registrable_domain("x.Shop.CO.test") == std::optional<std::string>("shop.co.test"));
    CHECK(list->registrable_domain("a.b.wild.test") == std::optional<std::string>("a.b.wild.test"));
    CHECK(list->registrable_domain("x.keep.wild.test") ==
          std::optional<std::string>("keep.wild.test"));
    CHECK_FALSE(list->registrable_domain("co.test"));
    CHECK(list->is_public_suffix("co.test"));
    CHECK_FALSE(list->is_public_suffix("example.test"));
    CHECK(list->organizational_domain("mail.example.test") == "example.test");
    CHECK(list->organizational_domain("CO.test") == "co.test");  // a suffix is its own

    CHECK(PublicSuffixList::load_file("/nonexistent/psl.dat", &error) == nullptr);
    CHECK_FALSE(error.empty());

    const auto system = PublicSuffixList::system();
    CHECK(system->organizational_domain("a.b.example.co.uk") == "example.co.uk");
    CHECK_FALSE(system->registrable_domain("example.com."));
    CHECK_FALSE(system->registrable_domain(std::string_view("exa\0mple.com", 12)));
}
