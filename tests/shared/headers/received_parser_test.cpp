// Received samples as Postfix, Sendmail, Exim, Stalwart, amavis, Dovecot and Gmail write them,
// plus malformed and forged ones.
#include "headers/received_parser.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using relaytrust::headers::parse_received;
using relaytrust::headers::ReceivedParseResult;

constexpr const char* kDate = "Tue, 1 Oct 2024 12:00:00 +0000";

ReceivedParseResult parse(std::string_view value) {
    ReceivedParseResult result = parse_received(value);
    CHECK(result.ok == result.error.empty());
    if (!result.ok) {
        // Failures never leak half-parsed fields.
        CHECK(result.hop.from_ip.empty());
        CHECK(result.hop.by_host.empty());
    }
    return result;
}

std::string with_date(std::string clauses) {
    return clauses + "; " + kDate;
}

}  // namespace

TEST_CASE("headers: Received from Postfix") {
    const ReceivedParseResult result = parse(
        "from mail.example.org (mail.example.org [192.0.2.1])\r\n"
        "\tby mx.example.com (Postfix) with ESMTPS id 4Xy2Z3\r\n"
        "\tfor <bob@example.com>; Tue, 1 Oct 2024 12:00:00 +0000 (UTC)");
    REQUIRE(result.ok);
    CHECK(result.hop.from_helo == "mail.example.org");
    CHECK(result.hop.from_ptr == "mail.example.org");
    CHECK(result.hop.from_ip == "192.0.2.1");
    CHECK(result.hop.by_host == "mx.example.com");
    CHECK(result.hop.with == "ESMTPS");
    CHECK(result.hop.id == "4Xy2Z3");
    CHECK(result.hop.for_addr == "bob@example.com");
    CHECK(result.hop.date == "Tue, 1 Oct 2024 12:00:00 +0000 (UTC)");
}

TEST_CASE("headers: Received from Postfix with TLS comments, unknown PTR, IPv6") {
    const ReceivedParseResult tls = parse(
        "from helo.example (unknown [198.51.100.7])\r\n"
        "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
        "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n"
        "\t(No client certificate requested)\r\n"
        "\tby mx.example.com (Postfix) with ESMTPS id 4XkLmN0pQrz9;\r\n"
        "\tTue,  1 Oct 2024 12:00:00 +0200 (CEST)");
    REQUIRE(tls.ok);
    CHECK(tls.hop.from_helo == "helo.example");
    CHECK(tls.hop.from_ptr.empty());  // "unknown" means no PTR
    CHECK(tls.hop.from_ip == "198.51.100.7");
    CHECK(tls.hop.for_addr.empty());

    const ReceivedParseResult ipv6 = parse(
        with_date("from mail.example.org (mail.example.org [IPv6:2001:db8::1]) by mx.example.com "
                  "(Postfix) with ESMTPS id 4Xy2Z3 for <bob@example.com>"));
    REQUIRE(ipv6.ok);
    CHECK(ipv6.hop.from_ip == "2001:db8::1");

    const ReceivedParseResult literal_helo = parse(
        with_date("from [192.168.1.5] (dsl.example.net [198.51.100.9]) by mx.example.com (Postfix) "
                  "with ESMTPSA id 4Xy2Z3"));
    REQUIRE(literal_helo.ok);
    CHECK(literal_helo.hop.from_helo == "[192.168.1.5]");
    CHECK(literal_helo.hop.from_ip == "198.51.100.9");  // the TCP peer, not the HELO

    const ReceivedParseResult unknown_address =
        parse(with_date("from helo.example (unknown [unknown]) by mx.example.com (Postfix) id 4X"));
    REQUIRE(unknown_address.ok);
    CHECK(unknown_address.hop.from_ip.empty());
}

TEST_CASE("headers: Received for Postfix local submission has no from clause") {
    const ReceivedParseResult result = parse(
        "by mx.example.com (Postfix, from userid 0)\n\tid 4Xy2Z3; Tue,  1 Oct 2024 12:00:00 "
        "+0000 (UTC)");
    REQUIRE(result.ok);
    CHECK(result.hop.from_helo.empty());
    CHECK(result.hop.from_ptr.empty());
    CHECK(result.hop.from_ip.empty());
    CHECK(result.hop.by_host == "mx.example.com");
    CHECK(result.hop.id == "4Xy2Z3");
    CHECK(result.hop.with.empty());
}

TEST_CASE("headers: Received from Sendmail") {
    const ReceivedParseResult plain = parse(
        "from client.example (client.example [192.0.2.9])\n"
        "\tby relay.example (8.17.1/8.17.1) with ESMTP id 1AB2C3D4\n"
        "\tfor <x@y.example>; Tue, 1 Oct 2024 14:00:00 +0200");
    REQUIRE(plain.ok);
    CHECK(plain.hop.from_helo == "client.example");
    CHECK(plain.hop.from_ptr == "client.example");
    CHECK(plain.hop.from_ip == "192.0.2.9");
    CHECK(plain.hop.by_host == "relay.example");
    CHECK(plain.hop.id == "1AB2C3D4");
    CHECK(plain.hop.for_addr == "x@y.example");

    const ReceivedParseResult forged = parse(
        "from helo.example (ptr.example [192.0.2.9] (may be forged))\n"
        "\t(authenticated bits=0)\n"
        "\tby relay.example (8.17.1/8.17.1) with ESMTPSA id 1AB2C3D4\n"
        "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\n"
        "\tfor <x@y.example>; Tue, 1 Oct 2024 14:00:00 +0200");
    REQUIRE(forged.ok);
    CHECK(forged.hop.from_helo == "helo.example");
    CHECK(forged.hop.from_ptr == "ptr.example");
    CHECK(forged.hop.from_ip == "192.0.2.9");
    CHECK(forged.hop.with == "ESMTPSA");

    const ReceivedParseResult authenticated =
        parse(with_date("from laptop.example (dsl.example [192.0.2.9]) (authenticated as alice) "
                        "by relay.example (8.17.1/8.17.1) with ESMTPA id 1AB2C3D4"));
    REQUIRE(authenticated.ok);
    CHECK(authenticated.hop.from_ip == "192.0.2.9");

    const ReceivedParseResult ident = parse(with_date(
        "from helo.example (user@ptr.example [192.0.2.9]) by relay.example (8.17.1) id 1A"));
    REQUIRE(ident.ok);
    CHECK(ident.hop.from_ptr == "ptr.example");

    const ReceivedParseResult no_ptr =
        parse(with_date("from helo.example ([192.0.2.9]) by relay.example (8.17.1) id 1A"));
    REQUIRE(no_ptr.ok);
    CHECK(no_ptr.hop.from_helo == "helo.example");
    CHECK(no_ptr.hop.from_ptr.empty());
    CHECK(no_ptr.hop.from_ip == "192.0.2.9");

    const ReceivedParseResult local = parse(
        "(from root@localhost)\n\tby host.example (8.17.1/8.17.1/Submit) id 491C0A2x;\n"
        "\tTue, 1 Oct 2024 12:00:00 GMT");
    REQUIRE(local.ok);
    CHECK(local.hop.from_ip.empty());
    CHECK(local.hop.by_host == "host.example");
}

TEST_CASE("headers: Received from Exim") {
    const ReceivedParseResult unknown_host = parse(
        "from [192.0.2.1] (helo=foo.example)\n"
        "\tby mx.example with esmtp (Exim 4.96)\n"
        "\t(envelope-from <a@b.example>)\n"
        "\tid 1r2s3t-000AbC-7x\n"
        "\tfor x@y.example; Tue, 01 Oct 2024 12:00:00 +0000");
    REQUIRE(unknown_host.ok);
    CHECK(unknown_host.hop.from_ip == "192.0.2.1");
    CHECK(unknown_host.hop.from_helo == "foo.example");
    CHECK(unknown_host.hop.from_ptr.empty());
    CHECK(unknown_host.hop.with == "esmtp");
    CHECK(unknown_host.hop.id == "1r2s3t-000AbC-7x");
    CHECK(unknown_host.hop.for_addr == "x@y.example");

    const ReceivedParseResult tls = parse(
        "from mail.example.org ([192.0.2.1] helo=foo.example)\n"
        "\tby mx.example with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n"
        "\t(Exim 4.96)\n\t(envelope-from <a@b.example>)\n\tid 1r2s3t-000AbC-7x\n"
        "\tfor x@y.example; Tue, 01 Oct 2024 12:00:00 +0000");
    REQUIRE(tls.ok);
    CHECK(tls.hop.from_ptr == "mail.example.org");  // Exim: verified name first
    CHECK(tls.hop.from_helo == "foo.example");
    CHECK(tls.hop.from_ip == "192.0.2.1");
    CHECK(tls.hop.with == "esmtps");

    const ReceivedParseResult port = parse(with_date(
        "from [192.0.2.1] (port=49802 helo=foo.example) by mx.example with esmtpa (Exim 4.97) "
        "id 1r2s3t-000AbC-7x"));
    REQUIRE(port.ok);
    CHECK(port.hop.from_ip == "192.0.2.1");

    const ReceivedParseResult literal_port = parse(with_date(
        "from mail.example.org ([192.0.2.1]:49802 helo=foo) by mx.example with esmtp (Exim 4.96) "
        "id 1r2s3t-000AbC-7x"));
    REQUIRE(literal_port.ok);
    CHECK(literal_port.hop.from_ip == "192.0.2.1");

    const ReceivedParseResult ipv6 = parse(with_date(
        "from [2001:db8::5] (helo=foo.example) by mx.example with esmtp (Exim 4.96) id 1r"));
    REQUIRE(ipv6.ok);
    CHECK(ipv6.hop.from_ip == "2001:db8::5");

    const ReceivedParseResult bare =
        parse(with_date("from [192.0.2.1] by mx.example with esmtp (Exim 4.96) id 1r"));
    REQUIRE(bare.ok);
    CHECK(bare.hop.from_ip == "192.0.2.1");

    const ReceivedParseResult local = parse(with_date(
        "from root by host.example with local (Exim 4.96) (envelope-from <root@host.example>) "
        "id 1r2s3t-000AbC-7x for x@y.example"));
    REQUIRE(local.ok);
    CHECK(local.hop.from_helo == "root");
    CHECK(local.hop.from_ip.empty());
    CHECK(local.hop.with == "local");
}

TEST_CASE("headers: Received from Stalwart") {
    const ReceivedParseResult current = parse(
        "from client.example (client.example [192.0.2.1] (AS64496 Example Net, US))\r\n"
        "\t(using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384)\r\n"
        "\tby mx.example (Stalwart SMTP) with ESMTPS id 1A2B3C4D5E6F;\r\n"
        "\tTue, 1 Oct 2024 12:00:00 +0000");
    REQUIRE(current.ok);
    CHECK(current.hop.from_helo == "client.example");
    CHECK(current.hop.from_ptr == "client.example");
    CHECK(current.hop.from_ip == "192.0.2.1");
    CHECK(current.hop.by_host == "mx.example");
    CHECK(current.hop.id == "1A2B3C4D5E6F");

    const ReceivedParseResult older = parse(with_date(
        "from client.example (client.example [192.0.2.1]) by mx.example (Stalwart SMTP) with "
        "ESMTPS (TLSv1.3 TLS13_AES_256_GCM_SHA384) id <0193A1B2C3D4.1727784000@mx.example>"));
    REQUIRE(older.ok);
    CHECK(older.hop.with == "ESMTPS");
    CHECK(older.hop.id == "<0193A1B2C3D4.1727784000@mx.example>");  // as written

    const ReceivedParseResult ipv6 = parse(with_date(
        "from client.example (unknown [2001:db8::7]) by mx.example (Stalwart SMTP) with ESMTP "
        "id 1A"));
    REQUIRE(ipv6.ok);
    CHECK(ipv6.hop.from_ip == "2001:db8::7");
    CHECK(ipv6.hop.from_ptr.empty());
}

TEST_CASE("headers: Received from amavis, LMTP and Gmail") {
    const ReceivedParseResult amavis = parse(
        "from localhost ([127.0.0.1])\n\tby relay.example (amavis, port 10024) with ESMTP\n"
        "\tid AbC123xyz for <x@y.example>; Tue, 1 Oct 2024 12:00:00 +0000 (UTC)");
    REQUIRE(amavis.ok);
    CHECK(amavis.hop.from_helo == "localhost");
    CHECK(amavis.hop.from_ip == "127.0.0.1");
    CHECK(amavis.hop.by_host == "relay.example");
    CHECK(amavis.hop.id == "AbC123xyz");

    const ReceivedParseResult amavis_classic = parse(
        "from mx.example ([127.0.0.1])\n\tby localhost (mx.example [127.0.0.1]) "
        "(amavisd-new, port 10024)\n\twith ESMTP id Xyz12 for <x@y.example>;\n"
        "\tTue, 1 Oct 2024 12:00:00 +0000 (UTC)");
    REQUIRE(amavis_classic.ok);
    CHECK(amavis_classic.hop.by_host == "localhost");

    const ReceivedParseResult lmtp = parse(
        "from mx.example ([192.0.2.3])\n\tby imap.example with LMTP\n"
        "\tid kKpYBr8s/GYBAAAAvLcJ8Q\n\t(envelope-from <a@b.example>)\n"
        "\tfor <x@y.example>; Tue, 01 Oct 2024 12:00:00 +0000");
    REQUIRE(lmtp.ok);
    CHECK(lmtp.hop.with == "LMTP");
    CHECK(lmtp.hop.id == "kKpYBr8s/GYBAAAAvLcJ8Q");

    const ReceivedParseResult gmail = parse(
        "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\n"
        "        by mx.google.com with SMTPS id a640c23a62f3a-a8d25a1b2c3si1234.123.2024.10.01\n"
        "        for <bob@example.com>\n        (Google Transport Security);\n"
        "        Tue, 01 Oct 2024 05:00:00 -0700 (PDT)");
    REQUIRE(gmail.ok);
    CHECK(gmail.hop.from_ptr == "mail-sor-f41.google.com.");
    CHECK(gmail.hop.from_ip == "209.85.220.41");

    const ReceivedParseResult gmail_internal = parse(
        "by 2002:a05:6402:3d1:b0:5c2:1234:abcd with SMTP id f17csp123456edb;\n"
        "        Tue, 1 Oct 2024 05:00:00 -0700 (PDT)");
    REQUIRE(gmail_internal.ok);
    CHECK(gmail_internal.hop.by_host == "2002:a05:6402:3d1:b0:5c2:1234:abcd");
}

TEST_CASE("headers: garbage and malformed Received values are rejected with a reason") {
    const auto error = [](std::string_view value) {
        const ReceivedParseResult result = parse(value);
        CHECK_FALSE(result.ok);
        return result.error;
    };
    CHECK(error("") == "empty value");
    CHECK(error("hello world") == "missing ';' before the date");
    CHECK(error(with_date("from a.example (b.example [192.0.2.1])")) == "missing 'by' clause");
    CHECK(error(with_date("(qmail 12345 invoked by uid 0)")) == "missing 'by' clause");
    CHECK(error("from a (b [192.0.2.1]) by c; not a date").find("date: ") == 0);
    CHECK(error("from a (b [192.0.2.1]) by c;") == "date: missing after ';'");
    CHECK(error("by c; Tue, 1 Oct 2024 12:00:00") == "date: missing time zone");
    CHECK(error("by c; Tue, 32 Oct 2024 12:00:00 +0000") ==
          "date: expected a day of month, got '32'");
    CHECK(error("by c; Tue, 1 Okt 2024 12:00:00 +0000") ==
          "date: expected a month name, got 'Okt'");
    CHECK(error("by c; Tue, 1 Oct 2024 25:00:00 +0000") ==
          "date: expected hh:mm:ss, got '25:00:00'");
    CHECK(error("by c; Tue, 1 Oct 2024 12:00:00 +0000 extra") ==
          "date: unexpected 'extra' after the zone");
    CHECK(error("by c; Tue, 1 Oct 2024 12:00:00 +00:00") ==
          "date: expected a zone such as +0000, got '+00:00'");
    CHECK(error(with_date("from a (b [999.1.1.1]) by c")) ==
          "from: '[999.1.1.1]' is not a valid IP address literal");
    CHECK(error(with_date("from a (b [010.0.0.1]) by c")) ==
          "from: '[010.0.0.1]' is not a valid IP address literal");
    CHECK(error(with_date("from a (b [IPv6:fe80::1%eth0]) by c")).find("not a valid IP") !=
          std::string::npos);
    CHECK(error(with_date("from a (b [IPv6:192.0.2.1]) by c")).find("not a valid IP") !=
          std::string::npos);
    CHECK(error(with_date("from a (b [192.0.2.1]:port) by c")).find("not a valid IP") !=
          std::string::npos);
    CHECK(error(with_date("from a (b [192.0.2.1] by c")) == "unterminated comment");
    CHECK(error(with_date("from a b) by c")) == "unbalanced ')'");
    CHECK(error(with_date("from a (b [192.0.2.1]) with ESMTP by c")) ==
          "expected 'by', got 'with'");
    CHECK(error(with_date("from a (b [192.0.2.1]) by c by d")) == "duplicate 'by' clause");
    CHECK(error(with_date("from a (b [192.0.2.1]) by c with X with Y")) ==
          "duplicate 'with' clause");
    CHECK(error(with_date("by c from a")) == "'from' must be the first clause");
    CHECK(error(with_date("from a (b [192.0.2.1]) by c with")) == "'with' needs a value");
    CHECK(error(with_date("from (b [192.0.2.1]) by c")) == "'from' needs a value");
    CHECK(error(with_date("from a by <c@d>")) == "by: expected a host name, got '<c@d>'");
    CHECK(error(with_date("from a by c for <x@y")) == "for: missing '>'");
    CHECK(error(with_date("from a by c <junk>")) ==
          "unexpected '<junk>' where a clause should start");
    CHECK(error(with_date("from a by c tls")) == "'tls' needs a value");
    CHECK(error("from a by c; Tue; 1 Oct 2024 12:00:00 +0000") == "unexpected ';' before the date");
    CHECK(error(with_date("from \"a b by c")) == "unterminated quoted string");
    CHECK(error(with_date("from a\rb by c")) == "control character at offset 6");
    // RFC 6376's example puts the literal outside any comment: not a Received we can trust.
    CHECK(error("from client1.football.example.com  [192.0.2.1]\n"
                "      by submitserver.example.com with SUBMISSION;\n"
                "      Fri, 11 Jul 2003 21:01:54 -0700 (PDT)") ==
          "expected 'by', got '[192.0.2.1]'");
    CHECK(error(std::string(100, '(') + std::string(100, ')') + "; " + kDate) ==
          "comments nested too deeply");
}

TEST_CASE("headers: a HELO cannot smuggle a second client address") {
    // Postfix copies a multi-word HELO; each trick below must fail, never yield 192.0.2.66.
    const auto error = [](std::string_view value) {
        const ReceivedParseResult result = parse(value);
        CHECK_FALSE(result.ok);
        CHECK(result.hop.from_ip.empty());
        return result.error;
    };
    CHECK(error(with_date("from x (y [192.0.2.66]) (unknown [198.51.100.7]) by mx.example "
                          "(Postfix) with ESMTP id 4X")) ==
          "from: more than one IP literal in the from clause");
    CHECK(error(with_date("from x (y [192.0.2.66] (unknown [198.51.100.7])) by mx.example "
                          "(Postfix) with ESMTP id 4X")) ==
          "from: more than one IP literal in the from clause");
    CHECK(error(with_date("from x (y (z [192.0.2.66])) by mx.example (Postfix) id 4X")) ==
          "from: IP literal outside the TCP-info");
    CHECK(error(with_date("from x (y) (unknown [198.51.100.7]) by mx.example (Postfix) id 4X")) ==
          "from: IP literal outside the TCP-info");
    CHECK(error(with_date("from x (y [192.0.2.66]) a b (unknown [198.51.100.7]) by mx.example "
                          "(Postfix) id 4X")) == "expected 'by', got 'a'");
    CHECK(error(with_date("from x (y [192.0.2.66]) by evil.example (unknown [198.51.100.7]) "
                          "by mx.example (Postfix) id 4X")) == "duplicate 'by' clause");
    CHECK(error("from x (y [192.0.2.66]) by evil.example; Tue, 1 Oct 2024 12:00:00 +0000 "
                "(unknown [198.51.100.7]) by mx.example (Postfix) id 4X; " +
                std::string(kDate)) == "unexpected ';' before the date");
}

TEST_CASE("headers: Received parsing stays linear on large input") {
    std::string clauses = "from a (b [192.0.2.1]) by c";
    for (int i = 0; i < 20000; ++i)
        clauses += " (comment " + std::to_string(i) + ")";
    const ReceivedParseResult many_comments = parse(with_date(clauses));
    CHECK(many_comments.ok);

    std::string words = "from a (b [192.0.2.1]) by c";
    for (int i = 0; i < 20001; ++i)
        words += " x" + std::to_string(i);
    const ReceivedParseResult many_words = parse(with_date(words));
    CHECK_FALSE(many_words.ok);  // the last additional clause "x20000" has no value
}
