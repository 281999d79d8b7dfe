// Fuzzes IpAddress::parse, Cidr::parse and NetworkSet, and cross-checks NetworkSet lookups
// against a linear longest-prefix matcher.
//
// Input: text lines (at most kMaxLines). Each line is parsed as an address, as a network and
// added as a set entry ("!" = exclusion). Every address seen, and the first/last/neighbouring
// addresses of every network, is then looked up in the set and in the linear matcher.
// An input starting with '*' first adds kBulkEntries generated networks, so the set is large
// enough for its lookup jump tables and the fuzzer's own lines exercise their updates.
#include "net/network_set.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

using relaytrust::net::Cidr;
using relaytrust::net::IpAddress;
using relaytrust::net::NetworkSet;

constexpr std::size_t kMaxLines = 64;  // keeps the quadratic cross-check fast
constexpr int kBulkEntries = 130;      // just above NetworkSet's jump-table threshold (128)

[[noreturn]] void fail(const char* what, std::string_view detail) {
    std::fprintf(stderr, "network_set_fuzz: %s: [%.*s]\n", what, int(detail.size()), detail.data());
    __builtin_trap();
}

std::string_view trim(std::string_view text) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    return text;
}

struct Entry {
    Cidr cidr;
    bool exclude = false;
};

bool linear_contains(const std::vector<Entry>& entries, const IpAddress& address) {
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
}

// Address with every bit from `first_bit` on set to `value` (first/last address of a network).
IpAddress with_host_bits(IpAddress address, unsigned first_bit, bool value) {
    for (unsigned bit = first_bit; bit < 128; ++bit) {
        const auto mask = std::uint8_t(0x80u >> (bit % 8));
        address.bytes[bit / 8] =
            value ? address.bytes[bit / 8] | mask : address.bytes[bit / 8] & std::uint8_t(~mask);
    }
    return address;
}

// Re-derives is_v4 after bit twiddling (true exactly inside ::ffff:0:0/96).
IpAddress normalized(IpAddress address) {
    address.is_v4 = IpAddress::parse(address.to_string())->is_v4;
    return address;
}

void check_address_round_trip(const IpAddress& address) {
    const std::string text = address.to_string();
    const auto again = IpAddress::parse(text);
    if (!again || !(*again == address)) fail("to_string does not parse back", text);
}

void add_entry(NetworkSet& set, std::vector<Entry>& entries, std::string_view line) {
    const std::string error = set.add(line);
    // Mirror NetworkSet::add's documented rules: trim, optional '!', trim, then a CIDR.
    std::string_view text = trim(line);
    bool exclude = false;
    if (!text.empty() && text.front() == '!') {
        exclude = true;
        text = trim(text.substr(1));
    }
    const auto cidr = text.empty() ? std::nullopt : Cidr::parse(text);
    if (cidr.has_value() != error.empty()) fail("add() disagrees with Cidr::parse", line);
    if (cidr) entries.push_back({*cidr, exclude});
}

void add_bulk_entries(NetworkSet& set, std::vector<Entry>& entries, std::uint32_t seed) {
    std::uint32_t state = seed * 2654435761u + 1;
    auto next = [&] {  // xorshift32: deterministic per input, no std:: distribution quirks
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    };
    for (int i = 0; i < kBulkEntries; ++i) {
        IpAddress address;
        const bool v4 = next() % 2 == 0;
        if (v4) {
            address = *IpAddress::parse("0.0.0.0");
            for (int b = 12; b < 16; ++b)
                address.bytes[b] = std::uint8_t(next());
        } else {
            for (auto& byte : address.bytes)
                byte = std::uint8_t(next());
            address.bytes[0] &= 0x3f;  // keep some near ::/2 so short prefixes overlap
        }
        const unsigned length = v4 ? next() % 33 : next() % 129;
        const IpAddress network = with_host_bits(address, (v4 ? 96 : 0) + length, false);
        std::string entry = next() % 4 == 0 ? "!" : "";
        entry += network.to_string();
        entry += '/';
        entry += std::to_string(length);
        add_entry(set, entries, entry);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    NetworkSet set;
    std::vector<Entry> entries;
    std::vector<IpAddress> probes;
    std::vector<std::string_view> probe_texts;

    if (input.starts_with('*')) {
        add_bulk_entries(set, entries, std::uint32_t(size));
        input.remove_prefix(1);
    }
    const std::size_t bulk_count = entries.size();

    for (std::size_t line_count = 0; !input.empty() && line_count < kMaxLines; ++line_count) {
        const std::size_t newline = input.find('\n');
        const std::string_view line = input.substr(0, newline);
        input.remove_prefix(newline == std::string_view::npos ? input.size() : newline + 1);

        std::string error;
        if (const auto address = IpAddress::parse(line, &error)) {
            check_address_round_trip(*address);
            if (!(IpAddress::parse(line) == address)) fail("parse overloads disagree", line);
            probes.push_back(*address);
            probe_texts.push_back(line);
        } else if (error.empty()) {
            fail("IpAddress::parse failed without a message", line);
        }

        if (const auto cidr = Cidr::parse(line, &error)) {
            const auto again = Cidr::parse(cidr->to_string());
            if (!again || !(again->address == cidr->address) ||
                again->prefix_len != cidr->prefix_len) {
                fail("Cidr::to_string does not parse back", line);
            }
            if (!cidr->contains(cidr->address)) fail("network does not contain itself", line);
        } else if (error.empty()) {
            fail("Cidr::parse failed without a message", line);
        } else if (error.starts_with("host bits set in ")) {
            // The suggested network must itself be valid. rfind: the echoed input may contain
            // the same words.
            const std::size_t hint = error.rfind(" (did you mean ");
            if (hint == std::string::npos || !error.ends_with("?)")) fail("no suggestion", error);
            const std::string suggestion = error.substr(hint + 15, error.size() - hint - 17);
            if (!Cidr::parse(suggestion)) fail("host-bits suggestion does not parse", error);
        }

        add_entry(set, entries, line);
    }

    // Probe around every entry from the input, and around a sample of the generated ones: the
    // linear matcher is quadratic and dominates the run time.
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i < bulk_count && i % 16 != 0) continue;
        const Entry& entry = entries[i];
        const IpAddress first = entry.cidr.address;
        const IpAddress last = normalized(with_host_bits(first, entry.cidr.prefix_len, true));
        probes.push_back(first);
        probes.push_back(last);
        // The neighbours just outside the network (when it is not all of ::/0).
        if (entry.cidr.prefix_len > 0) {
            const unsigned bit = entry.cidr.prefix_len - 1;
            IpAddress flipped = first;
            flipped.bytes[bit / 8] ^= std::uint8_t(0x80u >> (bit % 8));
            probes.push_back(normalized(flipped));
        }
    }
    for (const IpAddress& probe : probes) {
        if (set.contains(probe) != linear_contains(entries, probe)) {
            fail("NetworkSet disagrees with the linear matcher for", probe.to_string());
        }
    }
    for (const std::string_view text : probe_texts) {
        if (set.contains(text) != set.contains(*IpAddress::parse(text))) {
            fail("contains(text) disagrees with contains(address)", text);
        }
    }
    return 0;
}
