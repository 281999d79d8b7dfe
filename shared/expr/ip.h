// IP parsing and CIDR matching with the rules Stalwart's is_ip_in_cidr uses (Rust's
// std::net::IpAddr parser and Stalwart's IpAddrOrMask). Kept separate from net::NetworkSet on
// purpose: NetworkSet is relaytrust's own, stricter trust-list format; these functions must
// answer exactly like Stalwart for a copied condition. Private to shared/expr.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relaytrust::expr::ip {

struct Address {
    bool is_v4 = false;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes
};

// Rust's IpAddr::from_str: dotted quad without leading zeros, or RFC 4291 IPv6 text (with an
// optional trailing dotted quad). No brackets, zone ids or surrounding spaces.
std::optional<Address> parse(std::string_view text);

// "a.b.c.d/n" (n 8..32), "v6/n" (n 8..128), or a bare address. Host bits may be set (they
// are masked), as in Stalwart. IPv4 networks also match IPv4-mapped/-compatible IPv6
// addresses and IPv6 networks match IPv4 addresses in their mapped form.
class CidrMatcher {
  public:
    static std::optional<CidrMatcher> parse(std::string_view text, std::string* error = nullptr);
    bool matches(const Address& ip) const;

  private:
    Address network_;
    unsigned prefix_ = 0;  // 32 / 128 for a bare address
};

// Stalwart's ip_reverse_name: "4.3.2.1" for 1.2.3.4, nibbles for IPv6, no arpa suffix.
std::string reverse_name(const Address& ip);

}  // namespace relaytrust::expr::ip
