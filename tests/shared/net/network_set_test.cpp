#include "net/network_set.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using relaytrust::net::Cidr;
using relaytrust::net::IpAddress;
using relaytrust::net::NetworkSet;

namespace {

// Parses or fails the test; keeps the assertions below short.
IpAddress ip(std::string_view text) {
    const auto parsed = IpAddress::parse(text);
    REQUIRE_MESSAGE(parsed.has_value(), "could not parse ", std::string(text));
    return *parsed;
}

std::string canonical(std::string_view text) {
    const auto parsed = IpAddress::parse(text);
    return parsed ? parsed->to_string() : "<invalid>";
}

std::string cidr_error(std::string_view text) {
    std::string error;
    const auto cidr = Cidr::parse(text, &error);
    CHECK_MESSAGE(!cidr.has_value(), "unexpectedly parsed ", std::string(text));
    return error;
}

std::string cidr_text(std::string_view text) {
    std::string error;
    const auto cidr = Cidr::parse(text, &error);
    REQUIRE_MESSAGE(cidr.has_value(), error);
    return cidr->to_string();
}

bool is_mapped(const IpAddress& address) {
    return std::all_of(address.bytes.begin(), address.bytes.begin() + 10,
                       [](std::uint8_t b) { return b == 0; }) &&
           address.bytes[10] == 0xff && address.bytes[11] == 0xff;
}

NetworkSet make_set(std::initializer_list<std::string_view> entries) {
    NetworkSet set;
    for (const auto entry : entries)
        REQUIRE(set.add(entry) == "");
    return set;
}

}  // namespace

TEST_SUITE("net") {
    TEST_CASE("IpAddress parses dotted IPv4 into the mapped form") {
        const IpAddress address = ip("192.0.2.1");
        CHECK(address.is_v4);
        const std::array<std::uint8_t, 16> expected{0, 0, 0,    0,    0,   0, 0, 0,
                                                    0, 0, 0xff, 0xff, 192, 0, 2, 1};
        CHECK(address.bytes == expected);
        CHECK(address.to_string() == "192.0.2.1");
        CHECK(canonical("0.0.0.0") == "0.0.0.0");
        CHECK(canonical("255.255.255.255") == "255.255.255.255");
    }

    TEST_CASE("IpAddress rejects malformed IPv4") {
        for (const char* bad :
             {"", "1", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "256.1.1.1", "1.2.3.999",
              "1.2.3.4294967297", "010.1.1.1", "1.2.3.00", "1.2.3.-4", "1.2.3.+4", "1.2.3.4 ",
              " 1.2.3.4", "0x1.2.3.4", "1.2.3.4/32", "a.b.c.d"}) {
            CAPTURE(bad);
            CHECK_FALSE(IpAddress::parse(bad).has_value());
        }
    }

    TEST_CASE("IpAddress explains why IPv4 text is invalid") {
        std::string error;
        CHECK_FALSE(IpAddress::parse("10.0.0.256", &error));
        CHECK(error == "'10.0.0.256' is not an IP address: IPv4 part '256' is greater than 255");
        CHECK_FALSE(IpAddress::parse("010.1.1.1", &error));
        CHECK(error.find("leading zero") != std::string::npos);
        CHECK_FALSE(IpAddress::parse("10.1", &error));
        CHECK(error.find("4 dot-separated parts") != std::string::npos);
        CHECK_FALSE(IpAddress::parse("", &error));
        CHECK(error.find("empty") != std::string::npos);
        CHECK_FALSE(IpAddress::parse("1.2.3.4\n", &error));
        CHECK(error.find("\\x0a") != std::string::npos);  // control bytes escaped in messages
    }

    TEST_CASE("IpAddress parses IPv6 and prints RFC 5952 text") {
        CHECK(canonical("::") == "::");
        CHECK(canonical("::1") == "::1");
        CHECK(canonical("1::") == "1::");
        CHECK(canonical("2001:DB8::1") == "2001:db8::1");
        CHECK(canonical("2001:0db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1");
        CHECK(canonical("2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1");  // first longest run
        CHECK(canonical("2001:db8:0:0:0:1:0:0") == "2001:db8::1:0:0");
        CHECK(canonical("2001:0:0:1:0:0:0:1") == "2001:0:0:1::1");           // longest run wins
        CHECK(canonical("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1");  // no lone "::"
        CHECK(canonical("1:2:3:4:5:6:7::") == "1:2:3:4:5:6:7:0");
        CHECK(canonical("::2:3:4:5:6:7:8") == "0:2:3:4:5:6:7:8");
        CHECK(canonical("fe80::abcd:ef01") == "fe80::abcd:ef01");
        CHECK(canonical("::0.0.0.2") == "::2");  // IPv4-compatible is not mapped
        CHECK(canonical("64:ff9b::192.0.2.33") == "64:ff9b::c000:221");
        CHECK_FALSE(ip("2001:db8::1").is_v4);
    }

    TEST_CASE("IpAddress rejects malformed IPv6") {
        for (const char* bad : {":",
                                ":::",
                                "1:::2",
                                "1::2::3",
                                ":1::2",
                                "1::2:",
                                "1:2:3:4:5:6:7",
                                "1:2:3:4:5:6:7:8:9",
                                "1::2:3:4:5:6:7:8",
                                "::1:2:3:4:5:6:7:8",
                                "12345::",
                                "g::1",
                                "1:2:3:4:5:6:7:8::",
                                "::1.2.3.4:5",
                                "::1.2.3",
                                "::256.1.1.1",
                                "::01.2.3.4",
                                "1:2:3:4:5:6:7:1.2.3.4",
                                "fe80::1%eth0",
                                "fe80::1%25eth0",
                                "[::1",
                                "::1]",
                                "[]",
                                "[",
                                "IPv6:",
                                "[IPv6:]",
                                "IPv6:1.2.3.4",
                                ":: 1"}) {
            CAPTURE(bad);
            CHECK_FALSE(IpAddress::parse(bad).has_value());
        }
        std::string error;
        CHECK_FALSE(IpAddress::parse("fe80::1%eth0", &error));
        CHECK(error.find("zone ids") != std::string::npos);
        CHECK_FALSE(IpAddress::parse("1::2::3", &error));
        CHECK(error.find("more than one '::'") != std::string::npos);
        CHECK_FALSE(IpAddress::parse("1:2:3", &error));
        CHECK(error.find("too few") != std::string::npos);
        CHECK_FALSE(IpAddress::parse("12345::", &error));
        CHECK(error.find("more than 4 hex digits") != std::string::npos);
    }

    TEST_CASE("IpAddress accepts brackets and the Received-header IPv6: tag") {
        CHECK(ip("[192.0.2.1]") == ip("192.0.2.1"));
        CHECK(ip("[2001:db8::1]") == ip("2001:db8::1"));
        CHECK(ip("[IPv6:2001:db8::1]") == ip("2001:db8::1"));
        CHECK(ip("[ipv6:2001:DB8::1]") == ip("2001:db8::1"));
        CHECK(ip("IPV6:::1") == ip("::1"));
        CHECK(ip("[IPv6:::ffff:192.0.2.1]") == ip("192.0.2.1"));
    }

    TEST_CASE("IPv4-mapped IPv6 text is the same address as IPv4") {
        const IpAddress mapped = ip("::ffff:10.0.0.1");
        CHECK(mapped.is_v4);
        CHECK(mapped == ip("10.0.0.1"));
        CHECK(mapped.to_string() == "10.0.0.1");
        CHECK(ip("::FFFF:a00:1") == ip("10.0.0.1"));
        CHECK(ip("0:0:0:0:0:ffff:10.0.0.1") == ip("10.0.0.1"));

        const NetworkSet set = make_set({"10.0.0.0/8"});
        CHECK(set.contains("::ffff:10.1.2.3"));
        CHECK(set.contains("[IPv6:::ffff:10.1.2.3]"));
        CHECK_FALSE(set.contains("::10.1.2.3"));  // IPv4-compatible: a different address
    }

    TEST_CASE("Cidr parses networks and host routes") {
        CHECK(cidr_text("10.0.0.0/8") == "10.0.0.0/8");
        CHECK(Cidr::parse("10.0.0.0/8")->prefix_len == 104);
        CHECK(Cidr::parse("10.0.0.0/8")->address.is_v4);
        CHECK(cidr_text("192.0.2.1") == "192.0.2.1/32");
        CHECK(Cidr::parse("192.0.2.1")->prefix_len == 128);
        CHECK(cidr_text("0.0.0.0/0") == "0.0.0.0/0");
        CHECK(Cidr::parse("0.0.0.0/0")->prefix_len == 96);
        CHECK(cidr_text("2001:DB8::/32") == "2001:db8::/32");
        CHECK(cidr_text("[2001:db8::]/32") == "2001:db8::/32");
        CHECK(cidr_text("[2001:db8::/32]") == "2001:db8::/32");
        CHECK(cidr_text("[IPv6:2001:db8::1]") == "2001:db8::1/128");
        CHECK(cidr_text("::/0") == "::/0");
        CHECK(Cidr::parse("::/0")->prefix_len == 0);
        CHECK(cidr_text("::1") == "::1/128");
        CHECK(cidr_text("10.0.0.0/08") == "10.0.0.0/8");
        // An IPv6 spelling of a mapped network uses the 128-bit prefix length.
        CHECK(cidr_text("::ffff:10.0.0.0/104") == "10.0.0.0/8");
        CHECK(cidr_text("::ffff:0:0/96") == "0.0.0.0/0");
    }

    TEST_CASE("Cidr reports host bits with a suggestion") {
        CHECK(cidr_error("10.0.0.1/8") == "host bits set in 10.0.0.1/8 (did you mean 10.0.0.0/8?)");
        CHECK(cidr_error("192.168.1.1/24") ==
              "host bits set in 192.168.1.1/24 (did you mean 192.168.1.0/24?)");
        CHECK(cidr_error("2001:db8::1/64") ==
              "host bits set in 2001:db8::1/64 (did you mean 2001:db8::/64?)");
        CHECK(cidr_error("1.0.0.0/0") == "host bits set in 1.0.0.0/0 (did you mean 0.0.0.0/0?)");
    }

    TEST_CASE("Cidr explains other errors") {
        CHECK(cidr_error("") == "invalid network '': empty");
        CHECK(cidr_error("10.0.0.0/") ==
              "invalid network '10.0.0.0/': missing prefix length after '/'");
        CHECK(cidr_error("10.0.0.0/33") ==
              "invalid network '10.0.0.0/33': prefix length 33 is out of range for IPv4 (0-32)");
        CHECK(cidr_error("::/129") ==
              "invalid network '::/129': prefix length 129 is out of range for IPv6 (0-128)");
        CHECK(cidr_error("10.0.0.0/x") ==
              "invalid network '10.0.0.0/x': prefix length 'x' is not a decimal number");
        CHECK(cidr_error("10.0.0.0/-1").find("not a decimal number") != std::string::npos);
        CHECK(cidr_error("10.0.0.0/8/8").find("not a decimal number") != std::string::npos);
        CHECK(cidr_error("10.0.0.0/1000").find("not a decimal number") != std::string::npos);
        CHECK(cidr_error("10/8").find("4 dot-separated parts") != std::string::npos);
        CHECK(cidr_error("300.0.0.0/8").find("greater than 255") != std::string::npos);
        CHECK(cidr_error("fe80::%eth0/64").find("zone ids") != std::string::npos);
        CHECK(cidr_error("/8").find("empty address") != std::string::npos);
    }

    TEST_CASE("Cidr::contains") {
        const Cidr v4 = *Cidr::parse("192.168.0.0/16");
        CHECK(v4.contains(ip("192.168.255.255")));
        CHECK_FALSE(v4.contains(ip("192.169.0.0")));
        CHECK_FALSE(v4.contains(ip("2001:db8::1")));
        const Cidr v6 = *Cidr::parse("2001:db8::/32");
        CHECK(v6.contains(ip("2001:db8:ffff::1")));
        CHECK_FALSE(v6.contains(ip("2001:db9::")));
        CHECK(Cidr::parse("::/0")->contains(ip("1.2.3.4")));
        CHECK(Cidr::parse("0.0.0.0/0")->contains(ip("1.2.3.4")));
        CHECK_FALSE(Cidr::parse("0.0.0.0/0")->contains(ip("::1")));
    }

    TEST_CASE("NetworkSet: empty set and basic membership") {
        NetworkSet set;
        CHECK(set.size() == 0);
        CHECK_FALSE(set.contains("10.0.0.1"));
        CHECK_FALSE(set.contains("::"));
        REQUIRE(set.add("10.0.0.0/8") == "");
        REQUIRE(set.add("2001:db8::/32") == "");
        CHECK(set.size() == 2);
        CHECK(set.contains("10.255.0.1"));
        CHECK_FALSE(set.contains("11.0.0.1"));
        CHECK(set.contains("2001:db8::42"));
        CHECK_FALSE(set.contains("2001:db9::42"));
        CHECK_FALSE(set.contains("not an address"));
        CHECK_FALSE(set.contains(""));
    }

    TEST_CASE("NetworkSet: longest prefix decides") {
        const NetworkSet set = make_set({"10.0.0.0/8", "!10.1.0.0/16", "10.1.2.0/24", "!10.1.2.3",
                                         "2001:db8::/32", "!2001:db8:bad::/48"});
        CHECK(set.contains("10.0.0.1"));
        CHECK_FALSE(set.contains("10.1.0.1"));
        CHECK(set.contains("10.1.2.1"));
        CHECK_FALSE(set.contains("10.1.2.3"));
        CHECK(set.contains("10.1.2.4"));
        CHECK_FALSE(set.contains("10.1.3.1"));
        CHECK(set.contains("2001:db8:1::1"));
        CHECK_FALSE(set.contains("2001:db8:bad::1"));
        CHECK(set.size() == 6);
    }

    TEST_CASE("NetworkSet: exclusion alone never includes") {
        const NetworkSet set = make_set({"!192.0.2.0/24"});
        CHECK_FALSE(set.contains("192.0.2.1"));
        CHECK_FALSE(set.contains("198.51.100.1"));
    }

    TEST_CASE("NetworkSet: equal prefixes, exclusion wins in either order") {
        const NetworkSet include_first = make_set({"10.0.0.0/8", "!10.0.0.0/8"});
        const NetworkSet exclude_first = make_set({"!10.0.0.0/8", "10.0.0.0/8"});
        CHECK_FALSE(include_first.contains("10.0.0.1"));
        CHECK_FALSE(exclude_first.contains("10.0.0.1"));
        CHECK(include_first.size() == 1);
        // The same network written two ways is the same prefix.
        const NetworkSet mixed = make_set({"10.0.0.0/8", "!::ffff:10.0.0.0/104"});
        CHECK_FALSE(mixed.contains("10.0.0.1"));
    }

    TEST_CASE("NetworkSet: duplicates are harmless") {
        const NetworkSet set = make_set({"10.0.0.0/8", "10.0.0.0/8", " 10.0.0.0/8 "});
        CHECK(set.size() == 1);
        CHECK(set.contains("10.0.0.1"));
    }

    TEST_CASE("NetworkSet: /0, /32 and /128 edges") {
        const NetworkSet all_v4 = make_set({"0.0.0.0/0"});
        CHECK(all_v4.contains("0.0.0.0"));
        CHECK(all_v4.contains("255.255.255.255"));
        CHECK_FALSE(all_v4.contains("::1"));
        CHECK_FALSE(all_v4.contains("2001:db8::1"));

        const NetworkSet everything = make_set({"::/0"});
        CHECK(everything.contains("::"));
        CHECK(everything.contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        CHECK(everything.contains("192.0.2.1"));  // IPv4 lives inside ::/0

        const NetworkSet only_v6 = make_set({"::/0", "!0.0.0.0/0"});
        CHECK(only_v6.contains("2001:db8::1"));
        CHECK_FALSE(only_v6.contains("192.0.2.1"));

        const NetworkSet hosts = make_set({"192.0.2.1/32", "2001:db8::1/128", "!::/0"});
        CHECK(hosts.contains("192.0.2.1"));
        CHECK_FALSE(hosts.contains("192.0.2.0"));
        CHECK_FALSE(hosts.contains("192.0.2.2"));
        CHECK(hosts.contains("2001:db8::1"));
        CHECK_FALSE(hosts.contains("2001:db8::"));
        CHECK_FALSE(hosts.contains("2001:db8::2"));

        const NetworkSet extremes = make_set({"::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"});
        CHECK(extremes.contains("::"));
        CHECK(extremes.contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        CHECK_FALSE(extremes.contains("::1"));
        CHECK_FALSE(extremes.contains("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
    }

    TEST_CASE("NetworkSet: prefixes inserted shortest-last still nest") {
        // Exercises the trie's "insert above an existing node" and glue-node paths.
        const NetworkSet set = make_set({"10.1.2.3", "10.1.2.0/24", "!10.1.0.0/16", "10.0.0.0/8",
                                         "10.128.0.0/9", "!10.0.0.0/9"});
        CHECK(set.contains("10.1.2.3"));
        CHECK(set.contains("10.1.2.200"));
        CHECK_FALSE(set.contains("10.1.3.1"));
        CHECK_FALSE(set.contains("10.2.0.1"));
        CHECK(set.contains("10.200.0.1"));
    }

    TEST_CASE("NetworkSet: short prefixes added to a large set still count") {
        // 300 entries switch on the lookup jump tables; later short prefixes must reach them.
        NetworkSet set;
        for (int i = 0; i < 150; ++i) {
            REQUIRE(set.add("10." + std::to_string(i) + ".0.0/16") == "");
            REQUIRE(set.add("2001:db8:" + std::to_string(i) + "::/48") == "");
        }
        CHECK(set.contains("10.7.1.1"));
        CHECK_FALSE(set.contains("192.0.2.1"));
        CHECK_FALSE(set.contains("2001:db9::1"));

        REQUIRE(set.add("::/0") == "");  // reaches IPv4 through ::ffff:0:0/96
        CHECK(set.contains("192.0.2.1"));
        CHECK(set.contains("2001:db9::1"));
        REQUIRE(set.add("!::/1") == "");
        CHECK_FALSE(set.contains("192.0.2.1"));
        CHECK(set.contains("10.7.1.1"));  // the /16 is still more specific
        CHECK(set.contains("8000::1"));
        CHECK_FALSE(set.contains("2001:db9::1"));
        REQUIRE(set.add("::ffff:0:0/96") == "");
        CHECK(set.contains("192.0.2.1"));
        REQUIRE(set.add("!192.0.0.0/8") == "");
        CHECK_FALSE(set.contains("192.0.2.1"));
        CHECK(set.contains("193.0.2.1"));
        REQUIRE(set.add("192.0.2.0/24") == "");
        CHECK(set.contains("192.0.2.1"));
        REQUIRE(set.add("!2001:db8::/33") == "");
        CHECK(set.contains("2001:db8:7::1"));  // the /48 is more specific
        CHECK_FALSE(set.contains("2001:db8:7fff::1"));
        REQUIRE(set.add("!::/0") == "");  // tie on ::/0: exclusion wins
        CHECK_FALSE(set.contains("8000::1"));
        CHECK(set.contains("10.7.1.1"));
    }

    TEST_CASE("NetworkSet::add reports errors and leaves the set unchanged") {
        NetworkSet set;
        CHECK(set.add("10.0.0.1/8") == "host bits set in 10.0.0.1/8 (did you mean 10.0.0.0/8?)");
        CHECK(set.add("!10.0.0.1/8") == "host bits set in 10.0.0.1/8 (did you mean 10.0.0.0/8?)");
        CHECK(set.add("") == "empty network entry");
        CHECK(set.add("  ! ") == "empty network entry");
        CHECK(set.add("!!10.0.0.0/8").find("invalid network '!10.0.0.0/8'") == 0);
        CHECK(set.add("10.0.0.0/8 # comment").find("invalid network") == 0);
        CHECK(set.size() == 0);
        CHECK(set.add(" ! 10.0.0.0/8\t") == "");
        CHECK(set.size() == 1);
    }

    TEST_CASE("NetworkSet: moved-from sets are empty and reusable") {
        NetworkSet original = make_set({"10.0.0.0/8"});
        NetworkSet moved = std::move(original);
        CHECK(moved.contains("10.0.0.1"));
        CHECK(original.size() == 0);  // NOLINT(bugprone-use-after-move): intentional
        CHECK_FALSE(original.contains("10.0.0.1"));
        CHECK(original.add("192.0.2.0/24") == "");
        CHECK(original.contains("192.0.2.1"));
        moved = std::move(original);
        CHECK(moved.contains("192.0.2.1"));
        CHECK_FALSE(moved.contains("10.0.0.1"));
    }

    TEST_CASE("IpAddress and Cidr text round-trips") {
        for (const char* text : {"0.0.0.0", "1.2.3.4", "::", "::1", "1::", "2001:db8::1",
                                 "fe80::1:2", "1:2:3:4:5:6:7:8", "1:0:0:2::3", "::ffff:0:1"}) {
            CAPTURE(text);
            const IpAddress address = ip(text);
            CHECK(ip(address.to_string()) == address);
        }
        for (const char* text : {"0.0.0.0/0", "10.0.0.0/8", "1.2.3.4/32", "::/0", "2001:db8::/32",
                                 "::1/128", "8000::/1", "::ffff:0:0/95"}) {
            CAPTURE(text);
            std::string error;
            const auto cidr = Cidr::parse(text, &error);
            if (!cidr) {
                // "::ffff:0:0/95" has a host bit set; its suggestion must itself parse.
                CHECK(error.find("host bits set") == 0);
                continue;
            }
            const auto again = Cidr::parse(cidr->to_string());
            REQUIRE(again.has_value());
            CHECK(again->address == cidr->address);
            CHECK(again->prefix_len == cidr->prefix_len);
        }
    }

    TEST_CASE("NetworkSet agrees with a brute-force matcher on random data") {
        // Sizes below the jump-table threshold (128), just past it, and large enough for the
        // tables to be rebuilt several times while short prefixes keep arriving.
        for (const int prefix_count : {60, 200, 4000}) {
            CAPTURE(prefix_count);
            // Fixed seed; raw engine output (not distributions) so every standard library agrees.
            std::mt19937_64 random(20240611 + std::uint64_t(prefix_count));
            struct Entry {
                Cidr cidr;
                bool exclude;
            };
            std::vector<Entry> entries;
            NetworkSet set;

            // A few base addresses so that prefixes nest and collide often; half IPv4, half IPv6.
            std::vector<IpAddress> bases;
            for (int i = 0; i < 24; ++i) {
                IpAddress base;
                for (auto& byte : base.bytes)
                    byte = std::uint8_t(random());
                if (i % 2 == 0) {
                    base = ip("::ffff:0.0.0.0");
                    for (int b = 12; b < 16; ++b)
                        base.bytes[b] = std::uint8_t(random());
                }
                bases.push_back(base);
            }
            auto random_near = [&](const IpAddress& base) {
                // Keep a random number of leading bits of the base, randomize the rest.
                IpAddress address = base;
                const unsigned keep =
                    is_mapped(base) ? 96 + unsigned(random() % 33) : unsigned(random() % 129);
                for (unsigned bit = keep; bit < 128; ++bit) {
                    const auto mask = std::uint8_t(0x80u >> (bit % 8));
                    if (random() & 1) {
                        address.bytes[bit / 8] |= mask;
                    } else {
                        address.bytes[bit / 8] &= std::uint8_t(~mask);
                    }
                }
                return address;
            };

            for (int i = 0; i < prefix_count; ++i) {
                const IpAddress& base = bases[random() % bases.size()];
                const IpAddress address = random_near(base);
                const bool v4 = is_mapped(address);
                unsigned length = v4 ? unsigned(random() % 33) : unsigned(random() % 129);
                if (!v4 && random() % 4 == 0) length = unsigned(random() % 17);  // some short ones
                // Clear host bits through the parser's own suggestion path.
                std::string text = address.to_string() + "/" + std::to_string(length);
                std::string error;
                auto cidr = Cidr::parse(text, &error);
                if (!cidr) {
                    const auto mean = error.find("did you mean ");
                    REQUIRE(mean != std::string::npos);
                    text = error.substr(mean + 13, error.size() - mean - 13 - 2);
                    cidr = Cidr::parse(text, &error);
                    REQUIRE_MESSAGE(cidr.has_value(), error);
                }
                const bool exclude = random() % 3 == 0;
                REQUIRE(set.add((exclude ? "!" : "") + text) == "");
                entries.push_back({*cidr, exclude});
            }

            auto brute_force = [&](const IpAddress& address) {
                int best_len = -1;
                bool best_exclude = false;
                for (const Entry& entry : entries) {
                    if (!entry.cidr.contains(address)) continue;
                    const int length = int(entry.cidr.prefix_len);
                    if (length > best_len || (length == best_len && entry.exclude)) {
                        best_len = length;
                        best_exclude = entry.exclude;
                    }
                }
                return best_len >= 0 && !best_exclude;
            };

            int hits = 0;
            for (int i = 0; i < 6000; ++i) {
                IpAddress address;
                if (i % 3 == 0) {
                    address = entries[random() % entries.size()].cidr.address;  // network addresses
                } else {
                    address = random_near(bases[random() % bases.size()]);
                }
                address.is_v4 = is_mapped(address);
                const bool expected = brute_force(address);
                hits += expected;
                CAPTURE(address.to_string());
                REQUIRE(set.contains(address) == expected);
            }
            // Both outcomes must be well represented or the test proves little.
            CHECK(hits > 600);
            CHECK(hits < 5400);
            CHECK(set.size() <= entries.size());
        }
    }
}
