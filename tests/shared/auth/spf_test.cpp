// SPF unit tests: record parser, macro expansion, evaluation limits and results, the
// asynchronous SpfVerifier and the header text. The conformance suites are in
// spf_conformance_test.cpp.
#include "auth/spf.h"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/spf_macro.h"
#include "auth/spf_record.h"
#include "dns/names.h"
#include "dns/zone_resolver.h"

using namespace relaytrust;
using auth::SpfMechanismKind;
using auth::SpfQualifier;
using auth::SpfResultCode;

namespace {

net::IpAddress ip(std::string_view text) {
    const auto parsed = net::IpAddress::parse(text);
    REQUIRE_MESSAGE(parsed.has_value(), "bad test address ", std::string(text));
    return *parsed;
}

std::string parse_error(std::string_view record) {
    const auto parsed = auth::parse_spf_record(record);
    CHECK_MESSAGE(!parsed.record.has_value(), "unexpectedly parsed: ", std::string(record));
    return parsed.error;
}

auth::SpfRecord parsed(std::string_view record) {
    auto result = auth::parse_spf_record(record);
    REQUIRE_MESSAGE(result.record.has_value(), std::string(record), ": ", result.error);
    return *result.record;
}

// RFC 7208 §7.4's example values.
auth::MacroValues rfc_example_values(std::string_view client = "192.0.2.3") {
    auth::MacroValues values;
    values.sender = "strong-bad@email.example.com";
    values.local_part = "strong-bad";
    values.sender_domain = "email.example.com";
    values.domain = "email.example.com";
    values.client_ip = ip(client);
    values.helo = "mx.example.org";
    values.receiver = "mx.example.net";
    values.timestamp = 1234567890;
    values.validated_domain = [](const std::string&) { return std::string("mx.example.org"); };
    return values;
}

std::string expand(std::string_view macro, const auth::MacroValues& values,
                   bool explanation = false) {
    std::string error;
    const auto parsed = auth::parse_macro_string(
        macro, explanation ? auth::MacroContext::Explanation : auth::MacroContext::DomainSpec,
        &error);
    REQUIRE_MESSAGE(parsed.has_value(), std::string(macro), ": ", error);
    return auth::expand_macros(*parsed, values, !explanation);
}

auth::SpfRequest mail_from(std::string_view client, std::string_view sender,
                           std::string_view helo = "mail.example.org") {
    auth::SpfRequest request;
    request.client_ip = ip(client);
    request.mail_from = std::string(sender);
    request.helo = std::string(helo);
    request.receiver = "mx.example.net";
    return request;
}

}  // namespace

TEST_SUITE("spf") {
    TEST_CASE("spf: record selection needs v=spf1 alone or followed by a space") {
        CHECK(auth::is_spf_record("v=spf1"));
        CHECK(auth::is_spf_record("V=SpF1 -all"));
        CHECK_FALSE(auth::is_spf_record("v=spf10"));
        CHECK_FALSE(auth::is_spf_record("v=spf1-all"));
        CHECK_FALSE(auth::is_spf_record("spf2.0/pra -all"));
        CHECK_FALSE(auth::is_spf_record(""));
    }

    TEST_CASE("spf: parser reads every mechanism, qualifier and CIDR form") {
        const auto record = parsed(
            "v=spf1 +all -include:_spf.%{d} ~a ?a:mail.example.com/24//64 mx//48 mx:%{d}/20 ptr "
            "ptr:example.net ip4:192.0.2.77/24 ip6:2001:DB8::1/32 exists:%{ir}.bl.example.org "
            "redirect=_spf.example.net exp=why.%{d} x-future=%{l}");
        REQUIRE(record.mechanisms.size() == 11);
        CHECK(record.mechanisms[0].kind == SpfMechanismKind::All);
        CHECK(record.mechanisms[0].qualifier == SpfQualifier::Pass);
        CHECK(record.mechanisms[1].kind == SpfMechanismKind::Include);
        CHECK(record.mechanisms[1].qualifier == SpfQualifier::Fail);
        CHECK(record.mechanisms[1].domain->text == "_spf.%{d}");
        CHECK(record.mechanisms[2].qualifier == SpfQualifier::SoftFail);
        CHECK_FALSE(record.mechanisms[2].domain.has_value());
        CHECK(record.mechanisms[3].qualifier == SpfQualifier::Neutral);
        CHECK(record.mechanisms[3].ip4_prefix == 24);
        CHECK(record.mechanisms[3].ip6_prefix == 64);
        CHECK(record.mechanisms[3].domain->text == "mail.example.com");
        CHECK(record.mechanisms[4].ip4_prefix == 32);
        CHECK(record.mechanisms[4].ip6_prefix == 48);
        CHECK(record.mechanisms[5].ip4_prefix == 20);
        CHECK(record.mechanisms[6].kind == SpfMechanismKind::Ptr);
        CHECK(record.mechanisms[7].domain->text == "example.net");
        CHECK(record.mechanisms[8].network.to_string() == "192.0.2.0");  // host bits dropped
        CHECK(record.mechanisms[8].ip4_prefix == 24);
        CHECK(record.mechanisms[9].network.to_string() == "2001:db8::");
        CHECK(record.mechanisms[9].ip6_prefix == 32);
        CHECK(record.mechanisms[10].kind == SpfMechanismKind::Exists);
        CHECK(record.mechanisms[8].text == "ip4:192.0.2.77/24");
        REQUIRE(record.redirect.has_value());
        CHECK(record.redirect->text == "_spf.example.net");
        CHECK(record.explanation->text == "why.%{d}");
        REQUIRE(record.unknown_modifiers.size() == 1);
        CHECK(record.unknown_modifiers[0].name == "x-future");
        CHECK(record.mechanisms[1].counts_as_lookup());
        CHECK_FALSE(record.mechanisms[8].counts_as_lookup());
    }

    TEST_CASE("spf: names are case-insensitive and spaces may repeat") {
        const auto record = parsed("v=spf1  IP4:192.0.2.1   MX  -ALL ");
        REQUIRE(record.mechanisms.size() == 3);
        CHECK(record.mechanisms[0].kind == SpfMechanismKind::Ip4);
        CHECK(record.mechanisms[2].kind == SpfMechanismKind::All);
        CHECK(parsed("v=spf1").mechanisms.empty());
    }

    TEST_CASE("spf: syntax errors anywhere in the record are reported") {
        CHECK(parse_error("v=spf1 ip4:192.0.2.1 -all moo").find("unknown mechanism") !=
              std::string::npos);
        CHECK(parse_error("v=spf1 -all.").find("unknown mechanism") != std::string::npos);
        CHECK(parse_error("v=spf1 -all:foo").find("no argument") != std::string::npos);
        CHECK(parse_error("v=spf1 all/8").find("no argument") != std::string::npos);
        CHECK(parse_error("v=spf1 redirect=a.example redirect=b.example").find("more than once") !=
              std::string::npos);
        CHECK(parse_error("v=spf1 exp=a.example.com exp=b.example.com").find("more than once") !=
              std::string::npos);
        CHECK_FALSE(parse_error("v=spf1 exp= -all").empty());
        CHECK_FALSE(parse_error("v=spf1 redirect=-all").empty());
        CHECK_FALSE(parse_error("v=spf1 include").empty());
        CHECK_FALSE(parse_error("v=spf1 include:").empty());
        CHECK_FALSE(parse_error("v=spf1 include:example.com/24").empty());
        CHECK_FALSE(parse_error("v=spf1 exists").empty());
        CHECK_FALSE(parse_error("v=spf1 ptr/0").empty());
        CHECK_FALSE(parse_error("v=spf1 a:museum").empty());
        CHECK_FALSE(parse_error("v=spf1 a:museum.").empty());
        CHECK_FALSE(parse_error("v=spf1 a:111.222.33.44").empty());
        CHECK_FALSE(parse_error("v=spf1 a:example.-com").empty());
        CHECK_FALSE(parse_error("v=spf1 a:example.com:8080").empty());
        CHECK_FALSE(parse_error("v=spf1 a/33").empty());
        CHECK_FALSE(parse_error("v=spf1 a//129").empty());
        CHECK_FALSE(parse_error("v=spf1 a/24/64").empty());
        CHECK_FALSE(parse_error("v=spf1 ip4:192.0.2.1/032").empty());
        CHECK_FALSE(parse_error("v=spf1 ip4:192.0.2.1//32").empty());
        CHECK_FALSE(parse_error("v=spf1 ip4:192.0.2").empty());
        CHECK_FALSE(parse_error("v=spf1 ip4:192.0.02.1").empty());
        CHECK_FALSE(parse_error("v=spf1 ip4:2001:db8::1").empty());
        CHECK_FALSE(parse_error("v=spf1 ip6:192.0.2.1").empty());
        CHECK_FALSE(parse_error("v=spf1 ip6::CAFE::BABE").empty());
        CHECK_FALSE(parse_error("v=spf1 ip6:::1/129").empty());
        CHECK_FALSE(parse_error("v=spf1 ip6:[::1]").empty());
        CHECK_FALSE(parse_error("v=spf1 =all").empty());
        CHECK_FALSE(parse_error("v=spf1 1up=foo").empty());
        CHECK_FALSE(parse_error("v=spf1 redirect:example.com").empty());
        CHECK_FALSE(parse_error("v=spf1 foo=%abc").empty());
        CHECK(parse_error("v=spf1 a:example.com\r-all").find("control character") !=
              std::string::npos);
        CHECK(parse_error("v=spf1 a:\xc3\xa9xample.com").find("non-ASCII") != std::string::npos);
        // Accepted: CIDR /0, a colon inside a domain-spec, a dash in the top label, ptr alone.
        CHECK(parsed("v=spf1 ip4:0.0.0.0/0 ip6:::/0 a/0//0").mechanisms.size() == 3);
        CHECK(parsed("v=spf1 a:foo:bar/baz.example.com").mechanisms[0].domain->text ==
              "foo:bar/baz.example.com");
        CHECK(parsed("v=spf1 a:foo.example.xn--zckzah").mechanisms.size() == 1);
        CHECK(parsed("v=spf1 default=pass moo.cow-far_out=man:dog/cat").unknown_modifiers.size() ==
              2);
    }

    TEST_CASE("spf: macro-string syntax") {
        std::string error;
        using auth::MacroContext;
        CHECK_FALSE(
            auth::parse_macro_string("%(ir).example.com", MacroContext::DomainSpec, &error));
        CHECK(error.find("must be followed") != std::string::npos);
        CHECK_FALSE(auth::parse_macro_string("foo%", MacroContext::DomainSpec));
        CHECK_FALSE(auth::parse_macro_string("%{a}.example.com", MacroContext::DomainSpec));
        CHECK_FALSE(auth::parse_macro_string("%{d0}.example.com", MacroContext::DomainSpec));
        CHECK_FALSE(auth::parse_macro_string("%{d2r:}.example.com", MacroContext::DomainSpec));
        CHECK_FALSE(auth::parse_macro_string("%{d", MacroContext::DomainSpec));
        CHECK_FALSE(auth::parse_macro_string("a b", MacroContext::DomainSpec));
        // c, r and t only in explanation text, where spaces are allowed too.
        CHECK_FALSE(auth::parse_macro_string("%{c}.example.com", MacroContext::DomainSpec, &error));
        CHECK(error.find("outside exp= text") != std::string::npos);
        CHECK(auth::parse_macro_string("%{c} is %{r} at %{t}", MacroContext::Explanation));
        CHECK(auth::parse_domain_spec("%{d}"));
        CHECK(auth::parse_domain_spec("foo.%{d}"));
        CHECK(auth::parse_domain_spec("mail.example.com."));
        CHECK_FALSE(auth::parse_domain_spec("%{d}.123"));
        CHECK_FALSE(auth::parse_domain_spec(""));
    }

    TEST_CASE("spf: macro expansion follows the RFC 7208 §7.4 examples") {
        const auto values = rfc_example_values();
        CHECK(expand("%{s}", values) == "strong-bad@email.example.com");
        CHECK(expand("%{o}", values) == "email.example.com");
        CHECK(expand("%{d}", values) == "email.example.com");
        CHECK(expand("%{d4}", values) == "email.example.com");
        CHECK(expand("%{d3}", values) == "email.example.com");
        CHECK(expand("%{d2}", values) == "example.com");
        CHECK(expand("%{d1}", values) == "com");
        CHECK(expand("%{dr}", values) == "com.example.email");
        CHECK(expand("%{d2r}", values) == "example.email");
        CHECK(expand("%{l}", values) == "strong-bad");
        CHECK(expand("%{l-}", values) == "strong.bad");
        CHECK(expand("%{lr}", values) == "strong-bad");
        CHECK(expand("%{lr-}", values) == "bad.strong");
        CHECK(expand("%{l1r-}", values) == "strong");
        CHECK(expand("%{ir}.%{v}._spf.%{d2}", values) == "3.2.0.192.in-addr._spf.example.com");
        CHECK(expand("%{lr-}.lp._spf.%{d2}", values) == "bad.strong.lp._spf.example.com");
        CHECK(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", values) ==
              "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
        CHECK(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", values) ==
              "3.2.0.192.in-addr.strong.lp._spf.example.com");
        CHECK(expand("%{d2}.trusted-domains.example.net", values) ==
              "example.com.trusted-domains.example.net");
        CHECK(expand("%{p}.%{h}", values) == "mx.example.org.mx.example.org");
        CHECK(expand("%{c} %{r} %{t}", values, true) == "192.0.2.3 mx.example.net 1234567890");

        const auto v6 = rfc_example_values("2001:db8::cb01");
        const std::string v6_name = expand("%{ir}.%{v}._spf.%{d2}", v6);
        CHECK(dns::same_name(
            v6_name,
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf."
            "example.com"));
        CHECK(expand("%{c}", v6, true) == "2001:db8::cb01");
    }

    TEST_CASE("spf: macro escapes, URL encoding, delimiters and truncation") {
        auto values = rfc_example_values();
        values.local_part = "~jack&jill=up-a_b3.c";
        CHECK(expand("%%%_%-", values, true) == "% %20");
        CHECK(expand("l=%{L}", values, true) == "l=~jack%26jill%3Dup-a_b3.c");
        values.local_part = "foo-bar+zip+quux";
        CHECK(expand("%{l2r+-}", values) == "bar.foo");
        CHECK(expand("%{l1000}", values) == "foo-bar+zip+quux");
        // A trailing dot is dropped from domains but kept in explanation text.
        CHECK(expand("%{d}.", values) == "email.example.com");
        CHECK(expand("It is %{d}.", values, true) == "It is email.example.com.");
        // Over 253 characters: labels go from the left until it fits.
        values.domain = std::string(60, 'a') + ".example.com";
        const std::string untruncated =
            "x." + values.domain + "." + values.domain + "." + values.domain + "." + values.domain;
        const std::string long_name = expand("x.%{d}.%{d}.%{d}.%{d}", values);
        CHECK(long_name.size() <= 253);
        CHECK(long_name.size() > 253 - 64);  // no more labels dropped than needed
        CHECK(untruncated.ends_with("." + long_name));
    }

    TEST_CASE("spf: pass, fail, softfail, neutral and none with the deciding term") {
        dns::ZoneResolver zone;
        zone.add_txt("example.com",
                     "v=spf1 ip4:192.0.2.0/24 ~ip4:198.51.100.1 ?ip4:198.51.100.2 -all");
        zone.add_txt("example.com", "unrelated TXT record");
        auto check = [&](std::string_view client) {
            return auth::evaluate_spf(zone, mail_from(client, "user@example.com"));
        };
        auto result = check("192.0.2.44");
        CHECK(result.code == SpfResultCode::Pass);
        CHECK(result.mechanism == "ip4:192.0.2.0/24");
        CHECK(result.domain == "example.com");
        CHECK(result.sender == "user@example.com");
        CHECK(check("198.51.100.1").code == SpfResultCode::SoftFail);
        CHECK(check("198.51.100.2").code == SpfResultCode::Neutral);
        result = check("203.0.113.9");
        CHECK(result.code == SpfResultCode::Fail);
        CHECK(result.mechanism == "-all");
        CHECK(result.explanation.empty());
        // IPv4-mapped IPv6 clients are IPv4 clients.
        CHECK(check("::ffff:192.0.2.44").code == SpfResultCode::Pass);

        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "user@nothing.example.com"));
        CHECK(result.code == SpfResultCode::None);
        CHECK(result.problem.find("does not exist") != std::string::npos);
        zone.add_txt("nospf.example.com", "google-site-verification=abc");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "user@nospf.example.com"));
        CHECK(result.code == SpfResultCode::None);
        // Malformed or single-label domains give none without a lookup.
        zone.reset_queries();
        CHECK(auth::evaluate_spf(zone, mail_from("192.0.2.1", "user@localhost")).code ==
              SpfResultCode::None);
        CHECK(auth::evaluate_spf(zone, mail_from("192.0.2.1", "user@[192.0.2.1]")).code ==
              SpfResultCode::None);
        CHECK(zone.query_count() == 0);
        zone.add_txt("empty.example.com", "v=spf1");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "user@empty.example.com"));
        CHECK(result.code == SpfResultCode::Neutral);
        CHECK(result.mechanism == "default");
    }

    TEST_CASE("spf: two SPF records, DNS failures and syntax errors") {
        dns::ZoneResolver zone;
        zone.add_txt("two.example", "v=spf1 -all");
        zone.add_txt("two.example", "v=spf1 +all");
        auto result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@two.example"));
        CHECK(result.code == SpfResultCode::PermError);
        CHECK(result.problem.find("more than one SPF record") != std::string::npos);

        zone.set_failure("servfail.example", dns::Status::ServFail);
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@servfail.example"));
        CHECK(result.code == SpfResultCode::TempError);
        CHECK(result.problem.find("servfail") != std::string::npos);

        zone.add_txt("slowa.example", "v=spf1 a:down.example -all");
        zone.set_failure("down.example", dns::Status::Timeout, dns::RecordType::A);
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@slowa.example"));
        CHECK(result.code == SpfResultCode::TempError);

        zone.add_txt("bad.example", "v=spf1 ip4:192.0.2.1 -all foo");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@bad.example"));
        CHECK(result.code == SpfResultCode::PermError);
        CHECK(result.problem.find("'foo'") != std::string::npos);
        CHECK(result.mechanism.empty());
    }

    TEST_CASE("spf: the ten-term limit counts include, a, mx, ptr, exists and redirect") {
        dns::ZoneResolver zone;
        std::string at_limit = "v=spf1";
        for (int i = 0; i < 8; ++i)
            at_limit += " a:h" + std::to_string(i) + ".example";
        // Ten terms that query DNS and do not match (the hosts have other addresses).
        at_limit += " mx:h8.example include:h9.example";
        zone.add_txt("h9.example", "v=spf1 ?all");
        zone.add_mx("h8.example", 10, "h0.example");
        zone.add_txt("limit.example", at_limit + " ip4:192.0.2.1 -all");
        zone.add_txt("over.example", at_limit + " a:h10.example ip4:192.0.2.1");
        for (int i = 0; i <= 10; ++i)
            zone.add_address("h" + std::to_string(i) + ".example", "198.51.100.1");
        auto result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@limit.example"));
        CHECK(result.code == SpfResultCode::Pass);
        CHECK(result.dns_lookups == 10);
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@over.example"));
        CHECK(result.code == SpfResultCode::PermError);
        CHECK(result.problem.find("more than 10") != std::string::npos);

        // A redirect loop stops at the limit, too.
        zone.add_txt("loop.example", "v=spf1 redirect=loop.example");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@loop.example"));
        CHECK(result.code == SpfResultCode::PermError);
        CHECK(result.dns_lookups == 11);

        // The limit is configurable.
        auth::SpfOptions options;
        options.max_dns_mechanisms = 11;
        CHECK(auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@over.example"), options).code ==
              SpfResultCode::Pass);
    }

    TEST_CASE("spf: void lookups: two are fine, the third is a permerror") {
        dns::ZoneResolver zone;
        zone.add_txt("two.example", "v=spf1 a:nx1.example mx:nx2.example ?all");
        zone.add_txt("three.example",
                     "v=spf1 a:nx1.example mx:nx2.example exists:nx3.example ?all");
        auto result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@two.example"));
        CHECK(result.code == SpfResultCode::Neutral);
        CHECK(result.void_lookups == 2);
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@three.example"));
        CHECK(result.code == SpfResultCode::PermError);
        CHECK(result.problem.find("void") != std::string::npos);
    }

    TEST_CASE("spf: mx looks up at most ten exchanges, and a match before that counts") {
        dns::ZoneResolver zone;
        zone.add_txt("many.example", "v=spf1 mx -all");
        for (int i = 0; i < 11; ++i) {
            const std::string host = "mx" + std::to_string(i) + ".many.example";
            zone.add_mx("many.example", std::uint16_t(i), host);
            zone.add_address(host, "198.51.100." + std::to_string(i + 1));
        }
        CHECK(auth::evaluate_spf(zone, mail_from("198.51.100.3", "a@many.example")).code ==
              SpfResultCode::Pass);
        const auto result = auth::evaluate_spf(zone, mail_from("198.51.100.11", "a@many.example"));
        CHECK(result.code == SpfResultCode::PermError);
        CHECK(result.problem.find("MX") != std::string::npos);
        // Null MX (RFC 7505) names no host and matches nothing.
        zone.add_txt("nullmx.example", "v=spf1 mx ?all");
        zone.add_mx("nullmx.example", 0, ".");
        CHECK(auth::evaluate_spf(zone, mail_from("198.51.100.3", "a@nullmx.example")).code ==
              SpfResultCode::Neutral);
    }

    TEST_CASE("spf: ptr validates names and considers only the first ten") {
        dns::ZoneResolver zone;
        zone.add_txt("example.com", "v=spf1 ptr -all");
        const auto client = ip("192.0.2.10");
        zone.add_ptr_for(client, "forged.example.com");  // no matching A: not validated
        zone.add_ptr_for(client, "mail.example.com");
        zone.add_address("forged.example.com", "203.0.113.1");
        zone.add_address("mail.example.com", "192.0.2.10");
        CHECK(auth::evaluate_spf(zone, mail_from("192.0.2.10", "a@example.com")).code ==
              SpfResultCode::Pass);

        zone.add_txt("eleven.example", "v=spf1 ptr:eleven.example -all");
        const auto many = ip("192.0.2.11");
        for (int i = 0; i < 10; ++i)
            zone.add_ptr_for(many, "other" + std::to_string(i) + ".example.org");
        zone.add_ptr_for(many, "host.eleven.example");
        zone.add_address("host.eleven.example", "192.0.2.11");
        CHECK(auth::evaluate_spf(zone, mail_from("192.0.2.11", "a@eleven.example")).code ==
              SpfResultCode::Fail);
        // A PTR lookup failure is just no match (RFC 7208 §5.5).
        zone.add_txt("ptrfail.example", "v=spf1 ptr ?all");
        zone.set_failure(dns::reverse_lookup_name(ip("192.0.2.12")), dns::Status::ServFail);
        CHECK(auth::evaluate_spf(zone, mail_from("192.0.2.12", "a@ptrfail.example")).code ==
              SpfResultCode::Neutral);
    }

    TEST_CASE("spf: include and redirect semantics, explanation from the deciding record") {
        dns::ZoneResolver zone;
        zone.add_txt("example.com",
                     "v=spf1 include:_spf.example.com -include:blocked.example.net redirect="
                     "_rest.example.com exp=explain.example.com");
        zone.add_txt("_spf.example.com", "v=spf1 ip4:192.0.2.0/24 -all exp=ignored.example.com");
        zone.add_txt("blocked.example.net", "v=spf1 ip4:198.51.100.0/24 -all");
        zone.add_txt("_rest.example.com", "v=spf1 ip4:203.0.113.1 -all exp=rest-why.example.com");
        zone.add_txt("explain.example.com", "not used: the redirect decided");
        zone.add_txt("rest-why.example.com", "%{i} is not a %{d} server");
        zone.add_txt("ignored.example.com", "include's exp= is never used");

        auto result = auth::evaluate_spf(zone, mail_from("192.0.2.5", "a@example.com"));
        CHECK(result.code == SpfResultCode::Pass);
        CHECK(result.mechanism == "include:_spf.example.com");
        result = auth::evaluate_spf(zone, mail_from("198.51.100.5", "a@example.com"));
        CHECK(result.code == SpfResultCode::Fail);
        CHECK(result.mechanism == "-include:blocked.example.net");
        CHECK(result.explanation == "not used: the redirect decided");
        result = auth::evaluate_spf(zone, mail_from("203.0.113.1", "a@example.com"));
        CHECK(result.code == SpfResultCode::Pass);
        result = auth::evaluate_spf(zone, mail_from("203.0.113.2", "a@example.com"));
        CHECK(result.code == SpfResultCode::Fail);
        CHECK(result.explanation == "203.0.113.2 is not a _rest.example.com server");

        zone.add_txt("noinc.example", "v=spf1 include:missing.example -all");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.5", "a@noinc.example"));
        CHECK(result.code == SpfResultCode::PermError);
        CHECK(result.problem.find("include:missing.example") != std::string::npos);
    }

    TEST_CASE("spf: the explanation is looked up once, after the result, outside the limits") {
        dns::ZoneResolver zone;
        zone.add_txt("example.com", "v=spf1 a:nx1.example a:nx2.example -all exp=nx3.example");
        zone.reset_queries();
        auth::SpfOptions options;
        options.default_explanation = "see https://example.net/spf";
        const auto result =
            auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@example.com"), options);
        CHECK(result.code == SpfResultCode::Fail);  // not permerror: exp's NXDOMAIN is no void
        CHECK(result.explanation == "see https://example.net/spf");
        int exp_queries = 0;
        for (const auto& query : zone.queries())
            exp_queries += query.name == "nx3.example";
        CHECK(exp_queries == 1);
    }

    TEST_CASE("spf: HELO identity and the null reverse-path") {
        dns::ZoneResolver zone;
        zone.add_txt("mail.example.org", "v=spf1 a -all");
        zone.add_address("mail.example.org", "192.0.2.25");
        zone.add_txt("example.com", "v=spf1 -all");
        auth::SpfRequest request = mail_from("192.0.2.25", "user@example.com");
        request.identity = auth::SpfIdentity::Helo;
        auto result = auth::evaluate_spf(zone, request);
        CHECK(result.code == SpfResultCode::Pass);
        CHECK(result.domain == "mail.example.org");
        CHECK(result.sender == "postmaster@mail.example.org");
        CHECK(result.authentication_results() == "spf=pass smtp.helo=mail.example.org");
        CHECK(result.received_spf().find("identity=helo") != std::string::npos);
        CHECK(result.received_spf().find("envelope-from") == std::string::npos);

        result = auth::evaluate_spf(zone, mail_from("192.0.2.25", ""));
        CHECK(result.code == SpfResultCode::Pass);
        CHECK(result.sender == "postmaster@mail.example.org");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.25", "<user@example.com>"));
        CHECK(result.code == SpfResultCode::Fail);
        CHECK(result.authentication_results() == "spf=fail smtp.mailfrom=example.com");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.25", "@example.com"));
        CHECK(result.sender == "postmaster@example.com");
    }

    TEST_CASE("spf: Received-SPF text, quoting and header safety") {
        dns::ZoneResolver zone;
        zone.add_txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
        auto result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "user@example.com"));
        CHECK(result.received_spf() ==
              "pass (mx.example.net: domain of user@example.com designates 192.0.2.1 as "
              "permitted sender) client-ip=192.0.2.1; envelope-from=\"user@example.com\"; "
              "helo=mail.example.org; receiver=mx.example.net; mechanism=\"ip4:192.0.2.0/24\"; "
              "identity=mailfrom");
        // HELO text is client controlled: CR/LF must not split the header.
        result = auth::evaluate_spf(
            zone, mail_from("192.0.2.1", "a b@example.com", "evil\r\nX-Injected: yes"));
        const std::string header = result.received_spf();
        CHECK(header.find('\r') == std::string::npos);
        CHECK(header.find('\n') == std::string::npos);
        CHECK(header.find("envelope-from=\"a b@example.com\"") != std::string::npos);
        zone.add_txt("broken.example", "v=spf1 ip4:300.0.0.1");
        result = auth::evaluate_spf(zone, mail_from("192.0.2.1", "x@broken.example"));
        CHECK(result.received_spf().starts_with("permerror (mx.example.net: permanent error"));
        CHECK(result.received_spf().find("problem=") != std::string::npos);
        CHECK(auth::parse_spf_result_name("SoftFail") == SpfResultCode::SoftFail);
        CHECK_FALSE(auth::parse_spf_result_name("maybe").has_value());
    }

    TEST_CASE("spf: the time limit turns slow DNS into temperror") {
        dns::ZoneResolver zone(dns::ZoneResolver::Delivery::WorkerThread);
        zone.add_txt("slow.example", "v=spf1 a a a -all");
        zone.set_latency(std::chrono::milliseconds(150));
        auth::SpfOptions options;
        options.time_limit = std::chrono::milliseconds(250);
        const auto started = std::chrono::steady_clock::now();
        const auto result =
            auth::evaluate_spf(zone, mail_from("192.0.2.1", "a@slow.example"), options);
        const auto elapsed = std::chrono::steady_clock::now() - started;
        CHECK(result.code == SpfResultCode::TempError);
        CHECK(result.problem.find("time limit") != std::string::npos);
        CHECK(elapsed < std::chrono::milliseconds(1000));
    }

    TEST_CASE("spf: SpfVerifier starts at MAIL FROM and is collected later") {
        auto zone = std::make_shared<dns::ZoneResolver>(dns::ZoneResolver::Delivery::WorkerThread);
        zone->add_txt("example.com", "v=spf1 a:mail.example.com -all");
        zone->add_address("mail.example.com", "192.0.2.1");
        zone->set_latency(std::chrono::milliseconds(50));
        auth::SpfVerifier verifier(zone, {}, 4);

        const auto started = std::chrono::steady_clock::now();
        std::vector<std::shared_future<auth::SpfResult>> pending;
        for (int i = 0; i < 8; ++i)
            pending.push_back(verifier.start_spf(
                mail_from(i % 2 ? "192.0.2.1" : "192.0.2.2", "user@example.com")));
        // start_spf returns before any DNS answer (each takes 50 ms).
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(40));
        for (int i = 0; i < 8; ++i) {
            CHECK(pending[i].get().code == (i % 2 ? SpfResultCode::Pass : SpfResultCode::Fail));
        }

        std::promise<auth::SpfResult> delivered;
        verifier.start_spf(
            mail_from("192.0.2.1", "user@example.com"),
            [&delivered](auth::SpfResult result) { delivered.set_value(std::move(result)); });
        CHECK(delivered.get_future().get().code == SpfResultCode::Pass);
        CHECK(verifier.check(mail_from("192.0.2.9", "user@example.com")).code ==
              SpfResultCode::Fail);
    }

    TEST_CASE("spf: a verifier shut down with queued work answers every request") {
        auto zone = std::make_shared<dns::ZoneResolver>(dns::ZoneResolver::Delivery::WorkerThread);
        zone->add_txt("example.com", "v=spf1 -all");
        zone->set_latency(std::chrono::milliseconds(100));
        std::vector<std::shared_future<auth::SpfResult>> pending;
        {
            auth::SpfVerifier verifier(zone, {}, 1);
            for (int i = 0; i < 5; ++i)
                pending.push_back(verifier.start_spf(mail_from("192.0.2.1", "a@example.com")));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the first one starts
        }
        int shut_down = 0;
        for (auto& future : pending) {
            REQUIRE(future.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
            const auto& result = future.get();
            if (result.code == SpfResultCode::TempError) {
                CHECK(result.problem == "SPF verifier shutting down");
                ++shut_down;
            } else {
                CHECK(result.code == SpfResultCode::Fail);
            }
        }
        CHECK(shut_down >= 3);
    }
}
