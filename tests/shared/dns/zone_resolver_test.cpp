// ZoneResolver semantics (NXDOMAIN vs NODATA, CNAME, simulated failures, the OpenSPF zonedata
// rules, threaded delivery), the YAML subset reader, RDATA decoding and name helpers.
#include "dns/zone_resolver.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "dns/names.h"
#include "dns/rdata.h"
#include "dns/unbound_resolver.h"
#include "dns/zone_yaml.h"

using namespace relaytrust;
using dns::RecordType;
using dns::Status;

namespace {

dns::yaml::Node parse_one(std::string_view text) {
    const auto stream = dns::yaml::parse_stream(text);
    REQUIRE_MESSAGE(stream.ok(), stream.error);
    REQUIRE(stream.documents.size() == 1);
    return stream.documents.front();
}

std::vector<std::uint8_t> bytes(std::initializer_list<int> values) {
    std::vector<std::uint8_t> result;
    for (const int value : values)
        result.push_back(std::uint8_t(value));
    return result;
}

std::vector<std::uint8_t> wire_name(std::string_view dotted) {
    std::vector<std::uint8_t> wire;
    while (!dotted.empty()) {
        const std::size_t dot = dotted.find('.');
        const std::string_view label = dotted.substr(0, dot);
        wire.push_back(std::uint8_t(label.size()));
        wire.insert(wire.end(), label.begin(), label.end());
        dotted.remove_prefix(dot == std::string_view::npos ? dotted.size() : dot + 1);
    }
    wire.push_back(0);
    return wire;
}

}  // namespace

TEST_SUITE("dns") {
    TEST_CASE("dns: NXDOMAIN vs NODATA vs records, with case-insensitive names") {
        dns::ZoneResolver zone;
        zone.add_txt("Example.COM.", "v=spf1 -all");
        zone.add_txt_strings("example.com", {"part one ", "part two"});
        REQUIRE(zone.add_address("example.com", "192.0.2.1"));
        REQUIRE(zone.add_address("example.com", "2001:DB8::1"));
        REQUIRE(zone.add_address("example.com", "::ffff:192.0.2.7"));
        CHECK_FALSE(zone.add_address("example.com", "not-an-ip"));
        zone.add_mx("example.com", 10, "MX.example.com.");

        auto answer = zone.answer("EXAMPLE.com", RecordType::TXT);
        CHECK(answer.status == Status::Ok);
        CHECK(answer.texts == std::vector<std::string>{"v=spf1 -all", "part one part two"});
        CHECK(zone.answer("example.com", RecordType::A).addresses ==
              std::vector<std::string>{"192.0.2.1"});
        CHECK(zone.answer("example.com", RecordType::AAAA).addresses ==
              std::vector<std::string>{"2001:db8::1", "::ffff:192.0.2.7"});
        answer = zone.answer("example.com", RecordType::MX);
        REQUIRE(answer.mx.size() == 1);
        CHECK(answer.mx[0].preference == 10);
        CHECK(answer.mx[0].exchange == "mx.example.com");

        answer = zone.answer("example.com", RecordType::PTR);  // NODATA
        CHECK(answer.status == Status::Ok);
        CHECK(answer.is_void());
        answer = zone.answer("missing.example.com", RecordType::TXT);
        CHECK(answer.status == Status::NxDomain);
        CHECK(answer.is_void());
        CHECK_FALSE(answer.temporary_failure());
        zone.add_name("empty.example.com");
        CHECK(zone.answer("empty.example.com", RecordType::A).status == Status::Ok);

        answer = zone.answer("a..b.example", RecordType::A);
        CHECK(answer.status == Status::Error);
        CHECK(answer.temporary_failure());
        CHECK(zone.answer(std::string(64, 'x') + ".example", RecordType::A).status ==
              Status::Error);

        zone.remove("example.com", RecordType::TXT);
        CHECK(zone.answer("example.com", RecordType::TXT).texts.empty());
        zone.remove_name("example.com");
        CHECK(zone.answer("example.com", RecordType::A).status == Status::NxDomain);
    }

    TEST_CASE("dns: CNAMEs are followed and loops answer SERVFAIL") {
        dns::ZoneResolver zone;
        zone.add_cname("www.example.com", "Host.Example.com.");
        zone.add_address("host.example.com", "192.0.2.8");
        zone.add_cname("loop1.example", "loop2.example");
        zone.add_cname("loop2.example", "loop1.example");
        CHECK(zone.answer("www.example.com", RecordType::A).addresses ==
              std::vector<std::string>{"192.0.2.8"});
        CHECK(zone.answer("www.example.com", RecordType::CNAME).names ==
              std::vector<std::string>{"host.example.com"});
        const auto loop = zone.answer("loop1.example", RecordType::A);
        CHECK(loop.status == Status::ServFail);
        CHECK(loop.error.find("CNAME") != std::string::npos);
        zone.add_cname("dangling.example", "nowhere.example");
        CHECK(zone.answer("dangling.example", RecordType::TXT).status == Status::NxDomain);
    }

    TEST_CASE("dns: simulated failures per name, per type and per prefix") {
        dns::ZoneResolver zone;
        zone.add_txt("flaky.example", "text");
        zone.add_address("flaky.example", "192.0.2.1");
        zone.set_failure("flaky.example", Status::ServFail, RecordType::TXT);
        CHECK(zone.answer("flaky.example", RecordType::TXT).status == Status::ServFail);
        CHECK(zone.answer("flaky.example", RecordType::A).status == Status::Ok);
        zone.set_failure("flaky.example", Status::Timeout);
        CHECK(zone.answer("flaky.example", RecordType::A).status == Status::Timeout);
        zone.set_failure("flaky.example", Status::Ok);
        zone.set_failure("flaky.example", Status::Ok, RecordType::TXT);
        CHECK(zone.answer("flaky.example", RecordType::TXT).status == Status::Ok);

        zone.fail_names_with_prefix("error.", Status::Timeout);
        CHECK(zone.answer("error.anything.example", RecordType::A).status == Status::Timeout);
        CHECK(zone.answer("ERROR.x.example", RecordType::A).status == Status::Timeout);
        CHECK(zone.answer("noerror.example", RecordType::A).status == Status::NxDomain);
        zone.add_txt("error.present.example", "names in the zone answer normally");
        CHECK(zone.answer("error.present.example", RecordType::TXT).status == Status::Ok);
    }

    TEST_CASE("dns: the OpenSPF timeout marker answers records listed before it") {
        dns::ZoneResolver zone;
        zone.add_txt("half.example", "v=spf1 -all");
        zone.add_timeout_marker("half.example");
        zone.add_address("half.example", "192.0.2.1");  // after the marker: never reached
        CHECK(zone.answer("half.example", RecordType::TXT).status == Status::Ok);
        CHECK(zone.answer("half.example", RecordType::A).status == Status::Timeout);
    }

    TEST_CASE("dns: OpenSPF zonedata driver rules") {
        const auto zonedata = parse_one(R"(
spfonly.example:
  - SPF: v=spf1 -all
spfandtxt.example:
  - SPF: v=spf1 +all
  - TXT: v=spf1 -all
txtnone.example:
  - SPF: v=spf1 -all
  - TXT: NONE
multi.example:
  - SPF: [ "v=spf1 ip4:", "192.0.2.5 -all" ]
  - MX: [10, mail.multi.example]
  - PTR: host.example
timeout.example:
  - TIMEOUT
)");
        dns::ZoneResolver zone;
        REQUIRE(zone.load_openspf_zonedata(zonedata).empty());
        CHECK(zone.answer("spfonly.example", RecordType::TXT).texts ==
              std::vector<std::string>{"v=spf1 -all"});
        CHECK(zone.answer("spfandtxt.example", RecordType::TXT).texts ==
              std::vector<std::string>{"v=spf1 -all"});
        CHECK(zone.answer("txtnone.example", RecordType::TXT).texts.empty());
        CHECK(zone.answer("multi.example", RecordType::TXT).texts ==
              std::vector<std::string>{"v=spf1 ip4:192.0.2.5 -all"});
        CHECK(zone.answer("multi.example", RecordType::MX).mx.at(0).exchange ==
              "mail.multi.example");
        CHECK(zone.answer("timeout.example", RecordType::TXT).status == Status::Timeout);
        CHECK(zone.answer("error.unknown.example", RecordType::A).status == Status::Timeout);

        dns::ZoneResolver broken;
        CHECK(broken.load_openspf_zonedata(parse_one("x.example:\n  - WKS: foo\n"))
                  .find("unknown record type") != std::string::npos);
        CHECK(broken.load_openspf_zonedata(parse_one("x.example:\n  - MX: [70000, a.example]\n"))
                  .find("MX preference") != std::string::npos);
        CHECK(broken.load_openspf_zonedata(parse_one("x.example:\n  - A: 1.2.3\n"))
                  .find("bad A address") != std::string::npos);
    }

    TEST_CASE("dns: queries are recorded in order and recording can be turned off") {
        dns::ZoneResolver zone;
        zone.answer("One.example.", RecordType::TXT);
        zone.answer("two.example", RecordType::MX);
        const auto queries = zone.queries();
        REQUIRE(queries.size() == 2);
        CHECK(queries[0].name == "one.example");
        CHECK(queries[0].type == RecordType::TXT);
        CHECK(queries[1].type == RecordType::MX);
        zone.set_record_queries(false);
        zone.answer("three.example", RecordType::A);
        CHECK(zone.queries().empty());
        CHECK(zone.query_count() == 3);
        zone.reset_queries();
        CHECK(zone.query_count() == 0);
    }

    TEST_CASE("dns: inline delivery answers before lookup() returns, worker delivery later") {
        dns::ZoneResolver inline_zone;
        inline_zone.add_address("a.example", "192.0.2.1");
        bool answered = false;
        inline_zone.lookup("a.example", RecordType::A,
                           [&](dns::Answer answer) { answered = answer.ok(); });
        CHECK(answered);

        dns::ZoneResolver threaded(dns::ZoneResolver::Delivery::WorkerThread);
        threaded.add_address("a.example", "192.0.2.1");
        threaded.set_latency(std::chrono::milliseconds(60));
        const auto caller = std::this_thread::get_id();
        std::promise<std::thread::id> delivered_on;
        const auto started = std::chrono::steady_clock::now();
        threaded.lookup("a.example", RecordType::A, [&](dns::Answer answer) {
            CHECK(answer.addresses.size() == 1);
            delivered_on.set_value(std::this_thread::get_id());
        });
        CHECK(delivered_on.get_future().get() != caller);
        CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(60));
        const auto sync = threaded.lookup_sync("a.example", RecordType::A);
        CHECK(sync.addresses == std::vector<std::string>{"192.0.2.1"});
    }

    TEST_CASE("dns: a worker-delivery zone delivers pending answers before it is destroyed") {
        std::atomic<int> delivered{0};
        {
            dns::ZoneResolver zone(dns::ZoneResolver::Delivery::WorkerThread);
            zone.set_latency(std::chrono::milliseconds(30));
            for (int i = 0; i < 5; ++i)
                zone.lookup("x.example", RecordType::A, [&](dns::Answer) { ++delivered; });
        }
        CHECK(delivered == 5);
    }

    TEST_CASE("dns: concurrent readers see consistent answers") {
        dns::ZoneResolver zone;
        for (int i = 0; i < 50; ++i)
            zone.add_address("h" + std::to_string(i) + ".example", "192.0.2." + std::to_string(i));
        std::atomic<int> wrong{0};
        std::vector<std::thread> readers;
        for (int t = 0; t < 4; ++t) {
            readers.emplace_back([&] {
                for (int round = 0; round < 200; ++round) {
                    const int i = round % 50;
                    const auto answer =
                        zone.answer("h" + std::to_string(i) + ".example", RecordType::A);
                    if (answer.addresses !=
                        std::vector<std::string>{"192.0.2." + std::to_string(i)})
                        ++wrong;
                }
            });
        }
        for (auto& reader : readers)
            reader.join();
        CHECK(wrong == 0);
    }

    TEST_CASE("dns: name helpers") {
        CHECK(dns::normalize_name("Mail.Example.COM.") == "mail.example.com");
        CHECK(dns::is_queryable_name("a.b"));
        CHECK(dns::is_queryable_name("macro%percent  space.example.com"));
        CHECK_FALSE(dns::is_queryable_name(""));
        CHECK_FALSE(dns::is_queryable_name("."));
        CHECK_FALSE(dns::is_queryable_name("a..b"));
        CHECK(dns::is_queryable_name(std::string(63, 'a') + ".com"));
        CHECK_FALSE(dns::is_queryable_name(std::string(64, 'a') + ".com"));
        std::string long_name;
        while (long_name.size() < 260)
            long_name += "abcdefghi.";
        CHECK_FALSE(dns::is_queryable_name(long_name + "com"));
        CHECK(dns::reverse_lookup_name(*net::IpAddress::parse("192.0.2.3")) ==
              "3.2.0.192.in-addr.arpa");
        CHECK(dns::reverse_lookup_name(*net::IpAddress::parse("::ffff:192.0.2.3")) ==
              "3.2.0.192.in-addr.arpa");
        CHECK(dns::reverse_lookup_name(*net::IpAddress::parse("2001:db8::cb01")) ==
              "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
        CHECK(dns::same_name("A.Example.", "a.example"));
        CHECK_FALSE(dns::same_name("a.example", "b.example"));
    }

    TEST_CASE("dns: RDATA decoding") {
        auto txt = bytes({5, 'h', 'e', 'l', 'l', 'o', 0, 6, ' ', 'w', 'o', 'r', 'l', 'd'});
        CHECK(dns::decode_txt_rdata(txt) == "hello world");
        CHECK(dns::decode_txt_rdata(bytes({})) == "");
        CHECK_FALSE(dns::decode_txt_rdata(bytes({5, 'a', 'b'})).has_value());

        CHECK(dns::decode_a_rdata(bytes({192, 0, 2, 1})) == "192.0.2.1");
        CHECK_FALSE(dns::decode_a_rdata(bytes({192, 0, 2})).has_value());
        CHECK(dns::decode_aaaa_rdata(bytes(
                  {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})) == "2001:db8::1");
        CHECK(dns::decode_aaaa_rdata(bytes(
                  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1})) == "::ffff:192.0.2.1");

        CHECK(dns::decode_name_rdata(wire_name("Mail.Example.com")) == "mail.example.com");
        CHECK(dns::decode_name_rdata(bytes({0})) == "");
        CHECK(dns::decode_name_rdata(bytes({3, 'a', '.', 'b', 0})) == "a\\046b");
        CHECK_FALSE(dns::decode_name_rdata(bytes({0xc0, 0x0c})).has_value());  // pointer
        CHECK_FALSE(dns::decode_name_rdata(bytes({3, 'a', 'b'})).has_value());
        CHECK_FALSE(dns::decode_name_rdata(bytes({1, 'a', 0, 7})).has_value());  // trailing byte

        auto mx = bytes({0, 10});
        const auto exchange = wire_name("mx.example.com");
        mx.insert(mx.end(), exchange.begin(), exchange.end());
        const auto decoded = dns::decode_mx_rdata(mx);
        REQUIRE(decoded.has_value());
        CHECK(decoded->preference == 10);
        CHECK(decoded->exchange == "mx.example.com");

        std::vector<dns::RdataBytes> records{dns::RdataBytes(txt)};
        auto answer = dns::answer_from_rdata(RecordType::TXT, 0, records);
        CHECK(answer.status == Status::Ok);
        CHECK(answer.texts == std::vector<std::string>{"hello world"});
        CHECK(dns::answer_from_rdata(RecordType::TXT, 3, {}).status == Status::NxDomain);
        answer = dns::answer_from_rdata(RecordType::TXT, 5, {});
        CHECK(answer.status == Status::ServFail);
        CHECK(answer.error == "REFUSED");
        CHECK(dns::answer_from_rdata(RecordType::A, 0, records).status == Status::Error);
        CHECK(dns::answer_from_rdata(RecordType::A, 0, {}).is_void());
    }

    TEST_CASE("dns: forwarder syntax and query-name escaping for libunbound") {
        CHECK(dns::unbound_forwarder_address("127.0.0.1:5353") == "127.0.0.1@5353");
        CHECK(dns::unbound_forwarder_address("192.0.2.53") == "192.0.2.53");
        CHECK(dns::unbound_forwarder_address("[::1]:53") == "::1@53");
        CHECK(dns::unbound_forwarder_address("2001:db8::53") == "2001:db8::53");
        std::string error;
        CHECK_FALSE(dns::unbound_forwarder_address("dns.example:53", &error).has_value());
        CHECK(error.find("IP address") != std::string::npos);
        CHECK_FALSE(dns::unbound_forwarder_address("127.0.0.1:0").has_value());
        CHECK_FALSE(dns::unbound_forwarder_address("127.0.0.1:65536").has_value());
        CHECK_FALSE(dns::unbound_forwarder_address("127.0.0.1:").has_value());
        CHECK_FALSE(dns::unbound_forwarder_address("[::1").has_value());
        CHECK_FALSE(dns::unbound_forwarder_address("").has_value());

        CHECK(dns::unbound_query_name("Mail.example.com.") == "Mail.example.com");
        CHECK(dns::unbound_query_name("a b%c.example") == "a\\032b\\037c.example");
        CHECK(dns::unbound_query_name("_spf.x-y.example") == "_spf.x-y.example");
    }

    TEST_CASE("dns: YAML subset reader") {
        const auto stream = dns::yaml::parse_stream(R"(# leading comment
---
description: >-
  folded text
  on two lines
tests:
  case-one:
    helo: "[1.2.3.5]"
    mailfrom: '@example.net'
    plain: a:%{H}.bar -all   # comment
    escaped: "a\x41\0b\tc"
    single: 'it''s'
    list: [permerror, "fail", 'x y']
    empty: [ ]
    nothing:
    literal: |
      line 1
      line 2
    map: {valid: true, p: none, rua: ["mailto:a@b"],
          ruf: []}
zonedata:
  "macro%percent  space.example.com":
    - A: 1.2.3.4
    - TIMEOUT
---
second: document
)");
        REQUIRE_MESSAGE(stream.ok(), stream.error);
        REQUIRE(stream.documents.size() == 2);
        const auto& first = stream.documents[0];
        CHECK(first.find("description")->scalar == "folded text on two lines");
        const auto* test = first.find("tests")->find("case-one");
        REQUIRE(test != nullptr);
        CHECK(test->find("helo")->scalar == "[1.2.3.5]");
        CHECK(test->find("helo")->quoted);
        CHECK(test->find("mailfrom")->scalar == "@example.net");
        CHECK(test->find("plain")->scalar == "a:%{H}.bar -all");
        CHECK(test->find("escaped")->scalar == std::string("aA\0b\tc", 6));
        CHECK(test->find("single")->scalar == "it's");
        const auto* list = test->find("list");
        REQUIRE(list->is_sequence());
        REQUIRE(list->items.size() == 3);
        CHECK(list->items[2].scalar == "x y");
        CHECK(test->find("empty")->items.empty());
        CHECK(test->find("nothing")->is_null());
        CHECK(test->find("literal")->scalar == "line 1\nline 2\n");
        const auto* map = test->find("map");
        REQUIRE(map->is_mapping());
        CHECK(map->find("p")->scalar == "none");
        CHECK(map->find("rua")->items.at(0).scalar == "mailto:a@b");
        CHECK(map->find("ruf")->items.empty());
        const auto* zone = first.find("zonedata")->find("macro%percent  space.example.com");
        REQUIRE(zone != nullptr);
        REQUIRE(zone->items.size() == 2);
        CHECK(zone->items[0].find("A")->scalar == "1.2.3.4");
        CHECK(zone->items[1].scalar == "TIMEOUT");
        CHECK(stream.documents[1].find("second")->scalar == "document");

        CHECK_FALSE(dns::yaml::parse_stream("a: &anchor 1\n").ok());
        CHECK_FALSE(dns::yaml::parse_stream("a: *alias\n").ok());
        CHECK_FALSE(dns::yaml::parse_stream("a: \"unterminated\n").ok());
        CHECK_FALSE(dns::yaml::parse_stream("a: [1, 2\n").ok());
        const auto bad = dns::yaml::parse_stream("a: 1\n  b: 2\n");
        CHECK_FALSE(bad.ok());
        CHECK(bad.error.starts_with("line 2:"));
    }
}
