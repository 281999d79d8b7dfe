#include "dns/names.h"

namespace relaytrust::dns {

namespace {

std::string_view without_trailing_dot(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return name;
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

}  // namespace

std::string normalize_name(std::string_view name) {
    name = without_trailing_dot(name);
    std::string normalized(name);
    for (char& c : normalized)
        c = ascii_lower(c);
    return normalized;
}

bool is_queryable_name(std::string_view name) {
    name = without_trailing_dot(name);
    // 253 presentation octets = 255 wire octets (length bytes + root label).
    if (name.empty() || name.size() > 253) return false;
    std::size_t label_length = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label_length == 0) return false;
            label_length = 0;
        } else if (++label_length > 63) {
            return false;
        }
    }
    return label_length > 0;
}

std::string reverse_lookup_name(const net::IpAddress& address) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name;
    if (address.is_v4) {
        for (int i = 15; i >= 12; --i) {
            name += std::to_string(address.bytes[i]);
            name += '.';
        }
        name += "in-addr.arpa";
        return name;
    }
    name.reserve(72);
    for (int i = 15; i >= 0; --i) {
        name += kHex[address.bytes[i] & 0x0f];
        name += '.';
        name += kHex[address.bytes[i] >> 4];
        name += '.';
    }
    name += "ip6.arpa";
    return name;
}

bool same_name(std::string_view left, std::string_view right) {
    left = without_trailing_dot(left);
    right = without_trailing_dot(right);
    if (left.size() != right.size()) return false;
    for (std::size_t i = 0; i < left.size(); ++i) {
        if (ascii_lower(left[i]) != ascii_lower(right[i])) return false;
    }
    return true;
}

}  // namespace relaytrust::dns
