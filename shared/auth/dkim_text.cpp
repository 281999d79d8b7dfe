#include "auth/dkim_text.h"

#include <array>
#include <cstdint>

namespace relaytrust::auth {
namespace {

constexpr bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// RFC 6376 VALCHAR (%x21-3A / %x3C-7E), plus 8-bit bytes so that UTF-8 in i= (RFC 8616) or in
// unknown tags does not reject a whole signature.
constexpr bool is_value_char(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte >= 0x21 && byte <= 0x7e && c != ';') || byte >= 0x80;
}

constexpr std::array<std::int8_t, 256> make_base64_table() {
    std::array<std::int8_t, 256> table{};
    for (auto& entry : table)
        entry = -1;
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return table;
}
constexpr auto kBase64Table = make_base64_table();

}  // namespace

const DkimTag* DkimTagList::find(std::string_view name) const {
    for (const DkimTag& tag : tags) {
        if (tag.name == name) return &tag;
    }
    return nullptr;
}

std::string_view trim_dkim_whitespace(std::string_view text) {
    while (!text.empty() && is_dkim_whitespace(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_dkim_whitespace(text.back()))
        text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> split_trimmed(std::string_view text, char separator) {
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        const std::size_t stop = end == std::string_view::npos ? text.size() : end;
        pieces.push_back(trim_dkim_whitespace(text.substr(start, stop - start)));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return pieces;
}

DkimTagList parse_dkim_tag_list(std::string_view text) {
    DkimTagList list;
    std::size_t spec_start = 0;
    while (spec_start <= text.size()) {
        std::size_t spec_end = text.find(';', spec_start);
        if (spec_end == std::string_view::npos) spec_end = text.size();

        std::size_t pos = spec_start;
        while (pos < spec_end && is_dkim_whitespace(text[pos]))
            ++pos;
        if (pos == spec_end) {  // empty tag-spec
            spec_start = spec_end + 1;
            continue;
        }
        const std::size_t name_start = pos;
        if (!is_alpha(text[pos])) {
            list.error = "tag name must start with a letter";
            return list;
        }
        while (pos < spec_end && (is_alpha(text[pos]) || is_digit(text[pos]) || text[pos] == '_'))
            ++pos;
        const std::string_view name = text.substr(name_start, pos - name_start);
        while (pos < spec_end && is_dkim_whitespace(text[pos]))
            ++pos;
        if (pos == spec_end || text[pos] != '=') {
            list.error = "tag '" + std::string(name) + "' has no '='";
            return list;
        }
        const std::size_t after_equals = pos + 1;
        const std::string_view value =
            trim_dkim_whitespace(text.substr(after_equals, spec_end - after_equals));
        for (const char c : value) {
            if (!is_value_char(c) && !is_dkim_whitespace(c)) {
                list.error = "tag '" + std::string(name) + "' has a control character";
                return list;
            }
        }
        if (list.find(name) != nullptr) {
            list.error = "duplicate tag '" + std::string(name) + "'";
            return list;
        }
        list.tags.push_back(DkimTag{name, value, after_equals, spec_end});
        spec_start = spec_end + 1;
    }
    list.ok = true;
    return list;
}

std::optional<std::string> decode_base64(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t accumulator = 0;
    int bits = 0;
    std::size_t symbols = 0;
    std::size_t padding = 0;
    for (const char c : text) {
        if (is_dkim_whitespace(c)) continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding != 0) return std::nullopt;  // data after padding
        const std::int8_t sextet = kBase64Table[static_cast<unsigned char>(c)];
        if (sextet < 0) return std::nullopt;
        accumulator = (accumulator << 6) | static_cast<std::uint32_t>(sextet);
        bits += 6;
        ++symbols;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((accumulator >> bits) & 0xff));
        }
    }
    // A lone trailing symbol cannot encode a byte; padding, when present, must complete a quad.
    if (symbols % 4 == 1) return std::nullopt;
    if (padding != 0 && (padding > 2 || (symbols + padding) % 4 != 0)) return std::nullopt;
    return out;
}

std::string encode_base64(std::string_view bytes) {
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t triple = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                                     (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) |
                                     std::uint32_t(std::uint8_t(bytes[i + 2]));
        out.push_back(alphabet[(triple >> 18) & 63]);
        out.push_back(alphabet[(triple >> 12) & 63]);
        out.push_back(alphabet[(triple >> 6) & 63]);
        out.push_back(alphabet[triple & 63]);
    }
    const std::size_t rest = bytes.size() - i;
    if (rest != 0) {
        std::uint32_t triple = std::uint32_t(std::uint8_t(bytes[i])) << 16;
        if (rest == 2) triple |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
        out.push_back(alphabet[(triple >> 18) & 63]);
        out.push_back(alphabet[(triple >> 12) & 63]);
        out.push_back(rest == 2 ? alphabet[(triple >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

bool is_valid_domain_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    std::size_t label_length = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label_length == 0) return false;
            label_length = 0;
            continue;
        }
        const bool allowed = is_alpha(c) || is_digit(c) || c == '-' || c == '_' ||
                             static_cast<unsigned char>(c) >= 0x80;
        if (!allowed || ++label_length > 63) return false;
    }
    return label_length != 0;
}

bool is_same_or_subdomain(std::string_view name, std::string_view parent) {
    if (parent.empty() || name.size() < parent.size()) return false;
    if (!iequals_ascii(name.substr(name.size() - parent.size()), parent)) return false;
    return name.size() == parent.size() || name[name.size() - parent.size() - 1] == '.';
}

}  // namespace relaytrust::auth
