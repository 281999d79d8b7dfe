#include "expr/ip.h"

#include "expr/text.h"
#include "expr/value_ops.h"

namespace relaytrust::expr::ip {

namespace {

// A cursor with backtracking, mirroring the structure of Rust's std::net parser so the
// accepted language is the same.
class Reader {
  public:
    explicit Reader(std::string_view s) : s_(s) {}
    bool at_end() const { return pos_ == s_.size(); }

    template <typename F>
    auto attempt(F f) -> decltype(f()) {
        std::size_t saved = pos_;
        auto result = f();
        if (!result) pos_ = saved;
        return result;
    }

    bool read_char(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    // Up to `max_digits` digits; a leading zero followed by more digits is refused when
    // !allow_zero_prefix (Rust rejects "01.2.3.4").
    std::optional<std::uint32_t> read_number(unsigned radix, std::size_t max_digits,
                                             bool allow_zero_prefix) {
        return attempt([&]() -> std::optional<std::uint32_t> {
            std::uint32_t value = 0;
            std::size_t digits = 0;
            bool leading_zero = pos_ < s_.size() && s_[pos_] == '0';
            while (pos_ < s_.size() && digits < max_digits) {
                int d = digit_value(s_[pos_], radix);
                if (d < 0) break;
                value = value * radix + static_cast<std::uint32_t>(d);
                ++pos_, ++digits;
            }
            if (digits == 0) return std::nullopt;
            if (!allow_zero_prefix && leading_zero && digits > 1) return std::nullopt;
            return value;
        });
    }

    std::optional<std::array<std::uint8_t, 4>> read_ipv4() {
        return attempt([&]() -> std::optional<std::array<std::uint8_t, 4>> {
            std::array<std::uint8_t, 4> octets{};
            for (int i = 0; i < 4; ++i) {
                if (i > 0 && !read_char('.')) return std::nullopt;
                auto n = read_number(10, 3, false);
                if (!n || *n > 255) return std::nullopt;
                octets[i] = static_cast<std::uint8_t>(*n);
            }
            return octets;
        });
    }

    // Reads up to `limit` groups into `groups`; returns (count, ended with an IPv4 part).
    std::pair<std::size_t, bool> read_groups(std::uint16_t* groups, std::size_t limit) {
        for (std::size_t i = 0; i < limit; ++i) {
            if (i + 1 < limit) {
                auto v4 = attempt([&]() -> std::optional<std::array<std::uint8_t, 4>> {
                    if (i > 0 && !read_char(':')) return std::nullopt;
                    return read_ipv4();
                });
                if (v4) {
                    groups[i] = static_cast<std::uint16_t>((*v4)[0] << 8 | (*v4)[1]);
                    groups[i + 1] = static_cast<std::uint16_t>((*v4)[2] << 8 | (*v4)[3]);
                    return {i + 2, true};
                }
            }
            auto group = attempt([&]() -> std::optional<std::uint32_t> {
                if (i > 0 && !read_char(':')) return std::nullopt;
                return read_number(16, 4, true);
            });
            if (!group) return {i, false};
            groups[i] = static_cast<std::uint16_t>(*group);
        }
        return {limit, false};
    }

    std::optional<std::array<std::uint16_t, 8>> read_ipv6() {
        return attempt([&]() -> std::optional<std::array<std::uint16_t, 8>> {
            std::array<std::uint16_t, 8> head{};
            auto [head_size, head_v4] = read_groups(head.data(), 8);
            if (head_size == 8) return head;
            if (head_v4) return std::nullopt;  // an IPv4 part only ends an address
            if (!read_char(':') || !read_char(':')) return std::nullopt;
            // "::" stands for at least one zero group.
            std::array<std::uint16_t, 7> tail{};
            std::size_t limit = 8 - (head_size + 1);
            std::size_t tail_size = read_groups(tail.data(), limit).first;
            for (std::size_t i = 0; i < tail_size; ++i)
                head[8 - tail_size + i] = tail[i];
            return head;
        });
    }

  private:
    static int digit_value(char c, unsigned radix) {
        if (c >= '0' && c <= '9') return c - '0';
        if (radix == 16 && c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (radix == 16 && c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

bool mapped_v4_prefix(const Address& a, bool allow_compatible) {
    for (int i = 0; i < 10; ++i) {
        if (a.bytes[i] != 0) return false;
    }
    if (a.bytes[10] == 0xFF && a.bytes[11] == 0xFF) return true;
    return allow_compatible && a.bytes[10] == 0 && a.bytes[11] == 0;
}

Address v4_from_v6_tail(const Address& a) {
    Address out;
    out.is_v4 = true;
    for (int i = 0; i < 4; ++i)
        out.bytes[i] = a.bytes[12 + i];
    return out;
}

Address v6_mapped(const Address& v4) {
    Address out;
    out.bytes[10] = out.bytes[11] = 0xFF;
    for (int i = 0; i < 4; ++i)
        out.bytes[12 + i] = v4.bytes[i];
    return out;
}

bool prefix_equal(const Address& a, const Address& b, unsigned bits) {
    unsigned full = bits / 8, rest = bits % 8;
    for (unsigned i = 0; i < full; ++i) {
        if (a.bytes[i] != b.bytes[i]) return false;
    }
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
    return (a.bytes[full] & mask) == (b.bytes[full] & mask);
}

}  // namespace

std::optional<Address> parse(std::string_view text) {
    {
        Reader r(text);
        if (auto v4 = r.read_ipv4(); v4 && r.at_end()) {
            Address a;
            a.is_v4 = true;
            for (int i = 0; i < 4; ++i)
                a.bytes[i] = (*v4)[i];
            return a;
        }
    }
    Reader r(text);
    if (auto v6 = r.read_ipv6(); v6 && r.at_end()) {
        Address a;
        for (int i = 0; i < 8; ++i) {
            a.bytes[2 * i] = static_cast<std::uint8_t>((*v6)[i] >> 8);
            a.bytes[2 * i + 1] = static_cast<std::uint8_t>((*v6)[i] & 0xFF);
        }
        return a;
    }
    return std::nullopt;
}

std::optional<CidrMatcher> CidrMatcher::parse(std::string_view source, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<CidrMatcher> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    CidrMatcher m;
    std::size_t slash = source.rfind('/');
    std::string_view addr_text = text::trim(source.substr(0, slash));
    auto addr = ip::parse(addr_text);
    if (!addr) return fail("'" + std::string(addr_text) + "' is not an IP address");
    m.network_ = *addr;
    unsigned max = addr->is_v4 ? 32 : 128;
    m.prefix_ = max;
    if (slash != std::string_view::npos) {
        std::string_view len_text = text::trim(source.substr(slash + 1));
        auto len = detail::parse_uint64(len_text);
        // Stalwart accepts prefix lengths from 8 only; shorter masks never match there.
        if (!len || *len < 8 || *len > max) {
            return fail("prefix length '" + std::string(len_text) + "' must be 8.." +
                        std::to_string(max));
        }
        m.prefix_ = static_cast<unsigned>(*len);
    }
    return m;
}

bool CidrMatcher::matches(const Address& ip) const {
    if (network_.is_v4) {
        Address v4;
        if (ip.is_v4) {
            v4 = ip;
        } else if (mapped_v4_prefix(ip, /*allow_compatible=*/prefix_ != 32)) {
            // A host entry accepts only ::ffff:a.b.c.d; a network also ::a.b.c.d (Rust's
            // to_ipv4_mapped vs to_ipv4).
            v4 = v4_from_v6_tail(ip);
        } else {
            return false;
        }
        return prefix_equal(v4, network_, prefix_);
    }
    Address v6 = ip.is_v4 ? v6_mapped(ip) : ip;
    return prefix_equal(v6, network_, prefix_);
}

std::string reverse_name(const Address& ip) {
    std::string out;
    if (ip.is_v4) {
        for (int i = 3; i >= 0; --i) {
            out += std::to_string(ip.bytes[i]);
            if (i > 0) out += '.';
        }
        return out;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
        out += kHex[ip.bytes[i] & 0x0F];
        out += '.';
        out += kHex[ip.bytes[i] >> 4];
        if (i > 0) out += '.';
    }
    return out;
}

}  // namespace relaytrust::expr::ip
