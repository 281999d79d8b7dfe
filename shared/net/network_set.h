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
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};
    bool is_v4 = false;

    // Accepts dotted IPv4, IPv6 (with ::, embedded IPv4), optional [brackets] and an "IPv6:"
    // prefix as found in Received headers. Zone ids (%eth0) are rejected.
    static std::optional<IpAddress> parse(std::string_view text);
    std::string to_string() const;
    bool operator==(const IpAddress&) const = default;
};

struct Cidr {
    IpAddress address;  // host bits cleared
    unsigned prefix_len = 0;  // in the 128-bit space (IPv4 /24 is stored as /120)

    // "10.0.0.0/8", "2001:db8::/32", a bare address (host route). Host bits set → error.
    static std::optional<Cidr> parse(std::string_view text, std::string* error = nullptr);
    bool contains(const IpAddress& ip) const;
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
    std::string add(std::string_view entry);
    // True when the longest matching prefix is an include entry.
    bool contains(const IpAddress& ip) const;
    bool contains(std::string_view ip_text) const;  // false for unparsable text
    std::size_t size() const;

private:
    struct Trie;
    std::unique_ptr<Trie> trie_;
};

}  // namespace relaytrust::net
