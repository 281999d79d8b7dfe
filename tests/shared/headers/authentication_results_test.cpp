#include "headers/authentication_results.h"

#include <doctest/doctest.h>

using namespace relaytrust::headers;

TEST_CASE("auth-results: RFC 8601 examples with comments, versions and properties") {
    auto ar = parse_authentication_results(
        " Relay.Example.NET 1;\r\n\tspf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.org;"
        "\r\n\tdkim=pass (2048-bit key) header.d=example.org header.s=sel header.b=\"Ab/cD+9\";"
        "\r\n\tdmarc=fail (p=reject dis=none) policy.dmarc=reject header.from=example.org");
    REQUIRE_MESSAGE(ar.ok, ar.error);
    CHECK(ar.authserv_id == "relay.example.net");
    REQUIRE(ar.results.size() == 3);
    CHECK(ar.find("spf")->result == "pass");
    CHECK(ar.find("spf")->property("smtp.mailfrom") == "example.org");
    CHECK(ar.find("dkim")->property("header.b") == "Ab/cD+9");
    CHECK(ar.find("dmarc")->result == "fail");
    CHECK(ar.find("dmarc")->property("policy.dmarc") == "reject");
    CHECK(ar.find("arc") == nullptr);
}

TEST_CASE("auth-results: 'none', reason= and method versions") {
    auto none = parse_authentication_results(" mx.example.com; none");
    REQUIRE(none.ok);
    CHECK(none.results.empty());
    auto r = parse_authentication_results(
        " mx.example.com; spf/1=fail reason=\"not permitted\" smtp.mailfrom=a@b.example");
    REQUIRE_MESSAGE(r.ok, r.error);
    CHECK(r.find("spf")->result == "fail");
    CHECK(r.find("spf")->property("smtp.mailfrom") == "a@b.example");
}

TEST_CASE("auth-results: malformed values are errors, not guesses") {
    CHECK_FALSE(parse_authentication_results("").ok);
    CHECK_FALSE(parse_authentication_results(" ; spf=pass").ok);
    CHECK_FALSE(parse_authentication_results(" mx.example.com; spf").ok);
    CHECK_FALSE(parse_authentication_results(" mx.example.com; spf=pass (unclosed").ok);
    CHECK_FALSE(parse_authentication_results(" mx.example.com junk; spf=pass").ok);
    CHECK_FALSE(parse_authentication_results(" mx.example.com; spf=pass smtp.mailfrom").ok);
}
