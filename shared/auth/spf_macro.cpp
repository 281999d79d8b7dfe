#include "auth/spf_macro.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace relaytrust::auth {

std::string macro_ip(const net::IpAddress& address) {
    if (address.is_v4) return address.to_string();
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text;
    text.reserve(63);
    for (const std::uint8_t byte : address.bytes) {
        if (!text.empty()) text += '.';
        text += kHex[byte >> 4];
        text += '.';
        text += kHex[byte & 0x0f];
    }
    return text;
}

namespace {

std::string url_escape(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string escaped;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            escaped += c;
        } else {
            escaped += '%';
            escaped += kHex[byte >> 4];
            escaped += kHex[byte & 0x0f];
        }
    }
    return escaped;
}

// Split on any delimiter, optionally reverse, keep the right-most parts, join with '.' (§7.3).
std::string transform(std::string_view value, const MacroPiece& piece) {
    const std::string_view delimiters =
        piece.delimiters.empty() ? std::string_view(".") : std::string_view(piece.delimiters);
    if (!piece.reverse && piece.keep_parts == 0 && delimiters == ".") return std::string(value);
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
            parts.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    if (piece.reverse) std::reverse(parts.begin(), parts.end());
    std::size_t first = 0;
    if (piece.keep_parts > 0 && piece.keep_parts < parts.size())
        first = parts.size() - piece.keep_parts;
    std::string joined;
    for (std::size_t i = first; i < parts.size(); ++i) {
        if (i > first) joined += '.';
        joined += parts[i];
    }
    return joined;
}

}  // namespace

std::string expand_macros(const MacroString& macro, const MacroValues& values, bool for_domain) {
    std::string result;
    for (const MacroPiece& piece : macro.pieces) {
        if (piece.kind == MacroPiece::Kind::Literal) {
            result += piece.literal;
            continue;
        }
        std::string value;
        switch (piece.letter) {
            case 's':
                value = values.sender;
                break;
            case 'l':
                value = values.local_part;
                break;
            case 'o':
                value = values.sender_domain;
                break;
            case 'd':
                value = values.domain;
                break;
            case 'i':
                value = macro_ip(values.client_ip);
                break;
            case 'p':
                value =
                    values.validated_domain ? values.validated_domain(values.domain) : "unknown";
                break;
            case 'v':
                value = values.client_ip.is_v4 ? "in-addr" : "ip6";
                break;
            case 'h':
                value = values.helo;
                break;
            case 'c':
                value = values.client_ip.to_string();
                break;
            case 'r':
                value = values.receiver.empty() ? "unknown" : values.receiver;
                break;
            case 't':
                value = std::to_string(values.timestamp);
                break;
            default:
                break;  // the parser admits no other letter
        }
        value = transform(value, piece);
        result += piece.url_escape ? url_escape(value) : value;
    }
    if (for_domain) {
        if (result.ends_with('.')) result.pop_back();
        while (result.size() > 253) {
            const std::size_t dot = result.find('.');
            if (dot == std::string::npos) break;
            result.erase(0, dot + 1);
        }
    }
    return result;
}

}  // namespace relaytrust::auth
