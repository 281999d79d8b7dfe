// Real samples from each producer (SpamAssassin, amavis, rspamd, Stalwart, ClamAV) plus the
// traps a substring matcher falls into. Grammar: docs/verdict-headers.md.
#include "headers/verdict_header_parser.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using relaytrust::headers::classify_verdict_header;
using relaytrust::headers::iequals;
using relaytrust::headers::parse_verdict_header;
using relaytrust::headers::ParseResult;
using relaytrust::headers::unfold;
using relaytrust::headers::VerdictHeaderKind;

ParseResult parse(VerdictHeaderKind kind, std::string_view value) {
    ParseResult result = parse_verdict_header(kind, value);
    // Invariant every caller relies on: ok and error are exclusive.
    CHECK(result.ok == result.error.empty());
    return result;
}

ParseResult status(std::string_view value) {
    return parse(VerdictHeaderKind::SpamStatus, value);
}

std::vector<std::string> names(std::initializer_list<const char*> list) {
    return std::vector<std::string>(list.begin(), list.end());
}

}  // namespace

TEST_CASE("headers: unfold joins folded lines and trims") {
    CHECK(unfold("a,\r\n\tb") == "a,\tb");
    CHECK(unfold("a\n b") == "a b");
    CHECK(unfold("  Yes, score=5.0 \r\n") == "Yes, score=5.0");
    // A line break without WSP after it is not a fold; it stays so parsers can reject it.
    CHECK(unfold("No\r\nX-Spam-Status: Yes") == "No\r\nX-Spam-Status: Yes");
    CHECK(unfold("") == "");
    CHECK(iequals("X-Spam-Status", "x-spam-STATUS"));
    CHECK_FALSE(iequals("X-Spam", "X-Spam-Flag"));
}

TEST_CASE("headers: classify_verdict_header names, case-insensitive") {
    using K = VerdictHeaderKind;
    CHECK(classify_verdict_header("X-Spam-Status") == K::SpamStatus);
    CHECK(classify_verdict_header("x-spam-status") == K::SpamStatus);
    CHECK(classify_verdict_header("X-Amavis-Spam-Status") == K::SpamStatus);
    CHECK(classify_verdict_header("X-Spam-Flag") == K::SpamFlag);
    CHECK(classify_verdict_header("X-SPAM") == K::SpamFlag);
    CHECK(classify_verdict_header("X-Spam-Level") == K::SpamLevel);
    CHECK(classify_verdict_header("X-Spam-Score") == K::SpamScore);
    CHECK(classify_verdict_header("X-Spamd-Result") == K::SpamdResult);
    CHECK(classify_verdict_header("X-Rspamd-Score") == K::RspamdScore);
    CHECK(classify_verdict_header("X-Virus-Status") == K::VirusStatus);
    CHECK(classify_verdict_header("X-Virus-Found") == K::VirusStatus);
    CHECK(classify_verdict_header("X-Virus") == K::VirusStatus);
    CHECK(classify_verdict_header("X-Virus-Scanned") == K::VirusScanned);
    for (const char* other :
         {"X-Spam-Report", "X-Spam-Checker-Version", "X-Spam-Tests", "X-Spamd-Bar",
          "X-Rspamd-Action", "X-Rspamd-Server", "X-Rspamd-Queue-Id", "X-Spam-Result",
          "X-Quarantine-ID", "X-Amavis-Alert", "X-Amavis-Modified", "X-Spam-Prev-Subject",
          "X-Spam-Prev-Content-Type", "x-spam-relay-country", "X-Spam-LLM", "X-Quarantine"}) {
        CAPTURE(other);
        CHECK(classify_verdict_header(other) == K::SpamOther);
    }
    for (const char* none : {"Subject", "Received", "X-Spammer", "X-Spam-", "X-Virusscan", ""}) {
        CAPTURE(none);
        CHECK(classify_verdict_header(none) == K::None);
    }
}

TEST_CASE("headers: SpamAssassin default X-Spam-Status with folded tests list") {
    const ParseResult result = status(
        "Yes, score=12.3 required=5.0 tests=BAYES_99,BAYES_999,\r\n"
        "\tDKIM_ADSP_NXDOMAIN,HTML_MESSAGE,RDNS_NONE,URIBL_ABUSE_SURBL,\r\n"
        "\tURIBL_BLACK autolearn=no autolearn_force=no version=4.0.0");
    REQUIRE(result.ok);
    CHECK(result.verdict.is_spam == true);
    CHECK(result.verdict.score == doctest::Approx(12.3));
    CHECK(result.verdict.required == doctest::Approx(5.0));
    CHECK(result.verdict.tests ==
          names({"BAYES_99", "BAYES_999", "DKIM_ADSP_NXDOMAIN", "HTML_MESSAGE", "RDNS_NONE",
                 "URIBL_ABUSE_SURBL", "URIBL_BLACK"}));
    CHECK_FALSE(result.verdict.tagged_above.has_value());
}

TEST_CASE("headers: SpamAssassin ham with BAYES_00 is not spam") {
    const ParseResult result = status(
        "No, score=-1.9 required=5.0 tests=BAYES_00,DKIM_SIGNED,DKIM_VALID,\n"
        " SPF_HELO_NONE,SPF_PASS autolearn=ham autolearn_force=no version=4.0.0");
    REQUIRE(result.ok);
    CHECK(result.verdict.is_spam == false);
    CHECK(result.verdict.score == doctest::Approx(-1.9));
    CHECK(result.verdict.tests.size() == 5);
    CHECK(result.verdict.tests.front() == "BAYES_00");
}

TEST_CASE("headers: the Yes/No word wins over the numbers") {
    // SA prints a ham whose rounded score equals required as required - 0.1 (bug 6419).
    const ParseResult near = status("No, score=4.9 required=5.0 tests=none autolearn=no");
    REQUIRE(near.ok);
    CHECK(near.verdict.is_spam == false);
    CHECK(near.verdict.tests.empty());  // "none" is SA's empty list

    const ParseResult yes_below = status("Yes, score=4.0 required=5.0 tests=USER_RULE");
    REQUIRE(yes_below.ok);
    CHECK(yes_below.verdict.is_spam == true);

    const ParseResult no_above = status("No, score=9.0 required=5.0");
    REQUIRE(no_above.ok);
    CHECK(no_above.verdict.is_spam == false);
}

TEST_CASE("headers: SpamAssassin variants: shortcircuit, old hits=, any key order") {
    const ParseResult shortcircuit = status(
        "No, score=-100.0 required=5.0 tests=USER_IN_WELCOMELIST shortcircuit=ham "
        "autolearn=disabled version=4.0.0");
    REQUIRE(shortcircuit.ok);
    CHECK(shortcircuit.verdict.score == doctest::Approx(-100.0));

    const ParseResult old =
        status("No, hits=0.0 required=5.0 tests=none autolearn=ham version=2.64");
    REQUIRE(old.ok);
    CHECK(old.verdict.score == doctest::Approx(0.0));

    const ParseResult reordered = status("YES version=3.4.6 tests=A,B required=5 score=7");
    REQUIRE(reordered.ok);
    CHECK(reordered.verdict.is_spam == true);
    CHECK(reordered.verdict.score == doctest::Approx(7.0));
    CHECK(reordered.verdict.tests == names({"A", "B"}));

    const ParseResult unknown_keys = status("no, score=1.2 my_site=mx1 mood=grumpy");
    REQUIRE(unknown_keys.ok);
    CHECK(unknown_keys.verdict.is_spam == false);

    // A tests list with per-test scores (_TESTSSCORES_ template) ends at the next known key.
    const ParseResult scored = status("No, tests=A=1.1,B=-2,\n\tC=0.5 autolearn=no");
    REQUIRE(scored.ok);
    CHECK(scored.verdict.tests == names({"A", "B", "C"}));
}

TEST_CASE("headers: amavis X-Spam-Status with bracketed tests and tagged_above") {
    const ParseResult ham = status(
        "No, score=-2.9 tagged_above=-999 required=6.31\n"
        " tests=[ALL_TRUSTED=-1, BAYES_00=-1.9] autolearn=ham autolearn_force=no");
    REQUIRE(ham.ok);
    CHECK(ham.verdict.is_spam == false);
    CHECK(ham.verdict.score == doctest::Approx(-2.9));
    CHECK(ham.verdict.tagged_above == doctest::Approx(-999.0));
    CHECK(ham.verdict.required == doctest::Approx(6.31));
    CHECK(ham.verdict.tests == names({"ALL_TRUSTED", "BAYES_00"}));

    const ParseResult spam = status(
        "Yes, score=15.113 tagged_above=2 required=6.2\n"
        " tests=[BAYES_99=3.5, BAYES_999=0.2, RCVD_IN_SBL_CSS=3.335,\n"
        " URIBL_ABUSE_SURBL=1.25] autolearn=spam autolearn_force=no");
    REQUIRE(spam.ok);
    CHECK(spam.verdict.is_spam == true);
    CHECK(spam.verdict.score == doctest::Approx(15.113));
    CHECK(spam.verdict.tests.size() == 4);
    CHECK(spam.verdict.tests.back() == "URIBL_ABUSE_SURBL");

    const ParseResult blacklisted =
        status("Yes, score=x tagged_above=-9999 required=6.31 BLACKLISTED tests=[]");
    REQUIRE(blacklisted.ok);
    CHECK(blacklisted.verdict.is_spam == true);
    CHECK_FALSE(blacklisted.verdict.score.has_value());  // "x": amavis had no score
    CHECK(blacklisted.verdict.tests.empty());

    const ParseResult old_hits =
        status("No, hits=-2.599 tagged_above=-999 required=5 tests=BAYES_00");
    REQUIRE(old_hits.ok);
    CHECK(old_hits.verdict.score == doctest::Approx(-2.599));
    CHECK(old_hits.verdict.tests == names({"BAYES_00"}));
}

TEST_CASE("headers: rspamd X-Spam-Status, X-Spam, X-Rspamd-Score") {
    const ParseResult rspamd = status("Yes, score=16.50");
    REQUIRE(rspamd.ok);
    CHECK(rspamd.verdict.is_spam == true);
    CHECK(rspamd.verdict.score == doctest::Approx(16.5));

    const ParseResult flag = parse(VerdictHeaderKind::SpamFlag, "Yes");
    REQUIRE(flag.ok);
    CHECK(flag.verdict.is_spam == true);

    const ParseResult score = parse(VerdictHeaderKind::RspamdScore, "-0.10");
    REQUIRE(score.ok);
    CHECK(score.verdict.score == doctest::Approx(-0.1));
    CHECK_FALSE(score.verdict.is_spam.has_value());

    const ParseResult bad = parse(VerdictHeaderKind::RspamdScore, "6.10 / 15.00");
    CHECK_FALSE(bad.ok);
    CHECK(bad.error == "score: expected a number, got '6.10 / 15.00'");
}

TEST_CASE("headers: rspamd X-Spamd-Result") {
    const ParseResult result = parse(VerdictHeaderKind::SpamdResult,
                                     "default: False [3.40 / 15.00];\r\n"
                                     "\tARC_NA(0.00)[];\r\n"
                                     "\tR_SPF_ALLOW(-0.20)[+ip4:192.0.2.0/24];\r\n"
                                     "\tASN(0.00)[asn:64496, ipnet:192.0.2.0/24, country:US];\r\n"
                                     "\tMIME_TRACE(0.00)[0:+,1:+,2:~];\r\n"
                                     "\tBAYES_SPAM(5.10)[99.99%]");
    REQUIRE(result.ok);
    CHECK(result.verdict.is_spam == false);
    CHECK(result.verdict.score == doctest::Approx(3.4));
    CHECK(result.verdict.required == doctest::Approx(15.0));
    CHECK(result.verdict.tests ==
          names({"ARC_NA", "R_SPF_ALLOW", "ASN", "MIME_TRACE", "BAYES_SPAM"}));

    const ParseResult spam =
        parse(VerdictHeaderKind::SpamdResult, "default: True [16.10 / 15.00]; GTUBE(0.00)[]");
    REQUIRE(spam.ok);
    CHECK(spam.verdict.is_spam == true);

    // rspamd before 1.7 separated symbols with a fold only.
    const ParseResult old = parse(VerdictHeaderKind::SpamdResult,
                                  "default: False [0.50 / 15.00]\n SYM_A(0.50)[x]\n SYM_B(0.00)");
    REQUIRE(old.ok);
    CHECK(old.verdict.tests == names({"SYM_A", "SYM_B"}));

    const ParseResult no_symbols = parse(VerdictHeaderKind::SpamdResult, "default: False [0 / 15]");
    REQUIRE(no_symbols.ok);
    CHECK(no_symbols.verdict.tests.empty());
}

TEST_CASE("headers: X-Spamd-Result errors") {
    const auto error = [](std::string_view value) {
        const ParseResult result = parse(VerdictHeaderKind::SpamdResult, value);
        CHECK_FALSE(result.ok);
        CHECK(result.verdict.tests.empty());
        return result.error;
    };
    CHECK(error("True [6.10 / 5.00]").find("expected 'default: True|False") == 0);
    CHECK(error("default: Maybe [6.10 / 5.00]") ==
          "expected True or False after the metric, got 'Maybe'");
    CHECK(error("default: True 6.10 / 5.00") ==
          "expected '[score / threshold]', got '6.10 / 5.00'");
    CHECK(error("default: True [abc / 5.00]") == "score: expected a number, got 'abc'");
    CHECK(error("default: True [6.10 / 5.00; A(1.0)") ==
          "threshold: expected a number, got '5.00;'");
    CHECK(error("default: True [6.10 / 5.00]; A(one)[]") ==
          "symbol 'A': expected a number, got 'one'");
    CHECK(error("default: True [6.10 / 5.00]; A[]") == "symbol 'A': expected '(score)'");
    CHECK(error("default: True [6.10 / 5.00]; A(1.0)[opts") ==
          "symbol 'A': missing ']' after the options");
    CHECK(error("default: True [6.10 / 5.00]; A(1.0)[]x") == "symbol 'A': unexpected 'x'");
}

TEST_CASE("headers: Stalwart X-Spam-Status and both X-Spam-Score forms") {
    const ParseResult reason = status("No, reason=trusted-reply");
    REQUIRE(reason.ok);
    CHECK(reason.verdict.is_spam == false);
    CHECK(reason.verdict.reason == "trusted-reply");

    const ParseResult bare = status("Yes");
    REQUIRE(bare.ok);
    CHECK(bare.verdict.is_spam == true);

    const ParseResult spam =
        parse(VerdictHeaderKind::SpamScore, "spam, score=7.00, avg_confidence=0.26");
    REQUIRE(spam.ok);
    CHECK(spam.verdict.is_spam == true);
    CHECK(spam.verdict.score == doctest::Approx(7.0));

    const ParseResult ham = parse(VerdictHeaderKind::SpamScore, "ham, score=-1.20");
    REQUIRE(ham.ok);
    CHECK(ham.verdict.is_spam == false);
    CHECK(ham.verdict.score == doctest::Approx(-1.2));

    const ParseResult amavis = parse(VerdictHeaderKind::SpamScore, "6.1");
    REQUIRE(amavis.ok);
    CHECK_FALSE(amavis.verdict.is_spam.has_value());  // a bare number is no verdict
    CHECK(amavis.verdict.score == doctest::Approx(6.1));

    CHECK(parse(VerdictHeaderKind::SpamScore, "spam, score=abc").error ==
          "score: expected a number, got 'abc'");
    CHECK(parse(VerdictHeaderKind::SpamScore, "ham, avg_confidence=high").error ==
          "avg_confidence: expected a number, got 'high'");
    CHECK(parse(VerdictHeaderKind::SpamScore, "6.1 points").error ==
          "expected only a number, got '6.1 points'");
    CHECK(parse(VerdictHeaderKind::SpamScore, "spammy, score=1").error ==
          "expected a number or spam|ham, got 'spammy'");
}

TEST_CASE("headers: X-Spam-Flag accepts only the verdict word") {
    for (const char* yes : {"YES", "Yes", "yes", "True", "TRUE"}) {
        CAPTURE(yes);
        const ParseResult result = parse(VerdictHeaderKind::SpamFlag, yes);
        REQUIRE(result.ok);
        CHECK(result.verdict.is_spam == true);
    }
    for (const char* no : {"NO", "No", "False"}) {
        CAPTURE(no);
        const ParseResult result = parse(VerdictHeaderKind::SpamFlag, no);
        REQUIRE(result.ok);
        CHECK(result.verdict.is_spam == false);
    }
    for (const char* bad : {"YESTERDAY", "Yes, really", "BAYES_00", "1", "Y", "NO!"}) {
        CAPTURE(bad);
        const ParseResult result = parse(VerdictHeaderKind::SpamFlag, bad);
        CHECK_FALSE(result.ok);
        CHECK_FALSE(result.verdict.is_spam.has_value());
    }
    CHECK(parse(VerdictHeaderKind::SpamFlag, "YESTERDAY").error ==
          "expected YES or NO, got 'YESTERDAY'");
    CHECK(parse(VerdictHeaderKind::SpamFlag, "").error == "empty value");
}

TEST_CASE("headers: X-Spam-Level counts one repeated character") {
    const ParseResult stars = parse(VerdictHeaderKind::SpamLevel, "************");
    REQUIRE(stars.ok);
    CHECK(stars.verdict.score == doctest::Approx(12.0));

    const ParseResult plus = parse(VerdictHeaderKind::SpamLevel, "+++");  // _STARS(+)_
    REQUIRE(plus.ok);
    CHECK(plus.verdict.score == doctest::Approx(3.0));

    const ParseResult empty = parse(VerdictHeaderKind::SpamLevel, " ");  // SA: score <= 0
    REQUIRE(empty.ok);
    CHECK(empty.verdict.score == doctest::Approx(0.0));

    CHECK_FALSE(parse(VerdictHeaderKind::SpamLevel, "**+").ok);
    CHECK_FALSE(parse(VerdictHeaderKind::SpamLevel, "** **").ok);
    CHECK(parse(VerdictHeaderKind::SpamLevel, "5").ok);  // "5" is one repeated character
    CHECK(parse(VerdictHeaderKind::SpamLevel, "**+").error ==
          "expected one repeated character such as '***', got '**+'");
}

TEST_CASE("headers: BAYES_00-style traps never read as yes") {
    // Substring matchers see "yes" in these; the tokeniser does not.
    const ParseResult bayes = status("No, score=-1.9 required=5.0 tests=BAYES_00,EYES_ONLY");
    REQUIRE(bayes.ok);
    CHECK(bayes.verdict.is_spam == false);

    for (const char* bad : {"BAYES_00", "Yesterday, score=1.0", "Yes;score=1", "Yes.", "Noooo",
                            "score=5.0 required=5.0", "- Yes", "\"Yes\", score=1"}) {
        CAPTURE(bad);
        const ParseResult result = status(bad);
        CHECK_FALSE(result.ok);
        CHECK_FALSE(result.verdict.is_spam.has_value());
    }
    CHECK(status("score=5.0 required=5.0").error == "expected Yes or No first, got 'score=5.0'");
}

TEST_CASE("headers: malformed X-Spam-Status values name what was expected") {
    CHECK(status("Yes, score=abc required=5.0").error == "score: expected a number, got 'abc'");
    CHECK(status("No, score=1.0 required=five").error == "required: expected a number, got 'five'");
    CHECK(status("No, tagged_above=").error == "tagged_above: expected a number, got ''");
    CHECK(status("No, score=1e3").error == "score: expected a number, got '1e3'");
    CHECK(status("No, score=nan").error == "score: expected a number, got 'nan'");
    CHECK(status("No, score=inf").error == "score: expected a number, got 'inf'");
    CHECK(status("No, score=0x10").error == "score: expected a number, got '0x10'");
    CHECK(status("No, score=5.").error == "score: expected a number, got '5.'");
    CHECK(status("No, score=1.0 score=2.0").error == "duplicate score (or hits)=");
    CHECK(status("No, score=1.0 hits=2.0").error == "duplicate score (or hits)=");
    CHECK(status("No, score=1.0 spam").error == "unexpected word 'spam' (expected key=value)");
    CHECK(status("No, score=1.0 (forged)").error == "expected key=value, got '(forged)'");
    CHECK(status("No, tests=[A=1.1, B=x]").error == "tests: expected a number for 'B', got 'x'");
    CHECK(status("No, tests=[A=1.1, B=2").error == "tests: missing ']'");
    CHECK(status("No, tests=[A]x").error == "tests: unexpected 'x' after ']'");
    CHECK(status("No, tests=A,,B").error == "tests: expected a test name, got ',B'");
    CHECK(status("No, tests=A[1]").error == "tests: unexpected '[1]'");
    CHECK(status("").error == "empty value");
    // A bare line break that is not a fold would start a new header: reject it.
    CHECK(status("No, score=1.0\r\nX-Spam-Status: Yes").error == "control character at offset 13");
    // Failures never leak half-filled fields.
    const ParseResult failed = status("Yes, score=9.0 required=oops");
    CHECK_FALSE(failed.verdict.is_spam.has_value());
    CHECK_FALSE(failed.verdict.score.has_value());
}

TEST_CASE("headers: ClamAV, rspamd and generic virus headers") {
    const auto virus = [](std::string_view value) {
        return parse(VerdictHeaderKind::VirusStatus, value);
    };
    const ParseResult clean = virus("Clean");
    REQUIRE(clean.ok);
    CHECK(clean.verdict.virus_found == false);

    const ParseResult infected = virus("Infected (Eicar-Signature)");
    REQUIRE(infected.ok);
    CHECK(infected.verdict.virus_found == true);
    CHECK(infected.verdict.virus_name == "Eicar-Signature");

    const ParseResult clamav_name = virus("Infected (Win.Test.EICAR_HDB-1)");
    REQUIRE(clamav_name.ok);
    CHECK(clamav_name.verdict.virus_name == "Win.Test.EICAR_HDB-1");

    const ParseResult bare_infected = virus("Infected");
    REQUIRE(bare_infected.ok);
    CHECK(bare_infected.verdict.virus_found == true);
    CHECK(bare_infected.verdict.virus_name.empty());

    CHECK(virus("Yes").verdict.virus_found == true);  // X-Virus-Found: Yes
    CHECK(virus("No").verdict.virus_found == false);

    const ParseResult named = virus("Eicar-Test-Signature,Other.Name");  // rspamd X-Virus
    REQUIRE(named.ok);
    CHECK(named.verdict.virus_found == true);
    CHECK(named.verdict.virus_name == "Eicar-Test-Signature,Other.Name");

    const ParseResult status_infected = virus("INFECTED, Eicar-Test-Signature");
    REQUIRE(status_infected.ok);
    CHECK(status_infected.verdict.virus_name == "Eicar-Test-Signature");

    for (const char* bad : {"Not Scanned", "Infected (Eicar", "Infected ()", "Clean (really)",
                            "Infected (a b)", "No virus", ",x", "Failed(timeout)"}) {
        CAPTURE(bad);
        const ParseResult result = virus(bad);
        CHECK_FALSE(result.ok);
        CHECK_FALSE(result.verdict.virus_found.has_value());
    }

    const ParseResult scanned =
        parse(VerdictHeaderKind::VirusScanned,
              "Debian amavisd-new at lists.debian.org\n with policy bank en-lt");
    REQUIRE(scanned.ok);
    CHECK(scanned.verdict.scanner ==
          "Debian amavisd-new at lists.debian.org with policy bank en-lt");
    CHECK(parse(VerdictHeaderKind::VirusScanned, "clamav-milter 1.0.1 at mx.example").ok);
    CHECK(parse(VerdictHeaderKind::VirusScanned, " \r\n").error == "empty value");
}

TEST_CASE("headers: strip-only and unknown kinds") {
    const ParseResult other = parse(VerdictHeaderKind::SpamOther, "anything at all (\x01");
    CHECK(other.ok);
    CHECK_FALSE(other.verdict.is_spam.has_value());

    const ParseResult none = parse(VerdictHeaderKind::None, "Yes");
    CHECK_FALSE(none.ok);
    CHECK(none.error == "not a verdict header");
}

TEST_CASE("headers: hostile sizes stay linear and bounded") {
    std::string long_tests = "No, score=1.0 tests=";
    for (int i = 0; i < 20000; ++i)
        long_tests += "RULE_" + std::to_string(i) + ",\n\t";
    long_tests += "LAST autolearn=no";
    const ParseResult many = status(long_tests);
    REQUIRE(many.ok);
    CHECK(many.verdict.tests.size() == 20001);

    const ParseResult brackets = status("No, tests=" + std::string(100000, '['));
    CHECK_FALSE(brackets.ok);

    const ParseResult digits = status("No, score=" + std::string(5000, '9'));
    CHECK(digits.error.find("score: expected a number, got '999") == 0);
    CHECK(digits.error.size() < 120);  // quoted values are shortened
}
