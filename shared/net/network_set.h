// Named sets of IPv4/IPv6 networks with longest-prefix match and `!` exclusions
// (SpamAssassin trusted_networks style: the most specific matching entry decides).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::net {

// An IP address in 16 bytes; IPv4 is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// so one trie serves both families.
//
// is_v4 is true exactly when the address lies in ::ffff:0:0/96, however it was written:
// "10.0.0.1" and "::ffff:10.0.0.1" parse to the same IpAddress (equal, both match 10.0.0.0/8,
// both print as "10.0.0.1"). A dual-stack socket reports IPv4 peers in mapped form, and they
// must hit the same IPv4 rules.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};
    bool is_v4 = false;

    // Accepts dotted IPv4, IPv6 (with ::, embedded IPv4), optional [brackets] and an "IPv6:"
    // prefix as found in Received headers. Zone ids (%eth0) are rejected.
    // Strict: IPv4 needs four decimal parts 0-255 without leading zeros ("010.1.1.1" is
    // rejected: inet_aton would read it as octal 8), no whitespace, no shorthand ("10.1").
    static std::optional<IpAddress> parse(std::string_view text);
    // Same, and on failure sets *error (when non-null) to why, e.g. "'10.0.0.256' is not an IP
    // address: IPv4 part '256' is greater than 255".
    static std::optional<IpAddress> parse(std::string_view text, std::string* error);
    // Canonical text: dotted quad for IPv4 (mapped) addresses, RFC 5952 for IPv6.
    std::string to_string() const;
    bool operator==(const IpAddress&) const = default;
};

struct Cidr {
    IpAddress address;        // host bits cleared
    unsigned prefix_len = 0;  // in the 128-bit space (IPv4 /24 is stored as /120)

    // "10.0.0.0/8", "2001:db8::/32", "[2001:db8::]/32", a bare address (host route). Host bits
    // set → error ("host bits set in 10.0.0.1/8 (did you mean 10.0.0.0/8?)"), not silent
    // masking: a typo in a trust list should be loud. A dotted IPv4 address takes /0-/32 (stored
    // as 96+n); any IPv6 spelling takes /0-/128, so "::ffff:10.0.0.0/104" == "10.0.0.0/8".
    // Note "::/0" covers IPv4 too (IPv4 lives inside ::ffff:0:0/96).
    static std::optional<Cidr> parse(std::string_view text, std::string* error = nullptr);
    bool contains(const IpAddress& ip) const;
    // Canonical text, always with a prefix length: "10.0.0.0/8", "10.0.0.1/32", "2001:db8::/32".
    std::string to_string() const;
};

class NetworkSet {
  public:
    NetworkSet();
    ~NetworkSet();
    NetworkSet(NetworkSet&&) noexcept;
    NetworkSet& operator=(NetworkSet&&) noexcept;
    NetworkSet(const NetworkSet&) = delete;
    NetworkSet& operator=(const NetworkSet&) = delete;

    // Adds "CIDR" (include) or "!CIDR" (exclude). Returns "" or an error message.
    // Surrounding whitespace is ignored. Duplicates are harmless; when the same prefix is both
    // included and excluded, the exclusion wins (whatever the order).
    std::string add(std::string_view entry);
    // True when the longest matching prefix is an include entry. No match, or a longest match
    // that is an exclusion, is false. Allocation-free; safe to call from many threads at once
    // (as long as nobody calls add() concurrently).
    bool contains(const IpAddress& ip) const;
    bool contains(std::string_view ip_text) const;  // false for unparsable text
    // Number of distinct prefixes added (duplicates and include/exclude pairs count once).
    std::size_t size() const;

  private:
    struct Trie;
    std::unique_ptr<Trie> trie_;
};

}  // namespace relaytrust::net
