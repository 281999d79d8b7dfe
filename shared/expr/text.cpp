#include "expr/text.h"

namespace relaytrust::expr::text {

Utf8Char decode(std::string_view s, std::size_t pos) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char b0 = byte(pos);
    Utf8Char raw{kRawByteBase + b0, 1};
    if (b0 < 0x80) return {b0, 1};
    std::size_t length;
    char32_t cp, min;
    if ((b0 & 0xE0) == 0xC0) {
        length = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        length = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        length = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return raw;
    }
    if (pos + length > s.size()) return raw;
    for (std::size_t i = 1; i < length; ++i) {
        unsigned char b = byte(pos + i);
        if ((b & 0xC0) != 0x80) return raw;
        cp = (cp << 6) | (b & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not characters.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return raw;
    return {cp, length};
}

void encode(std::string& out, char32_t cp) {
    if (cp >= kRawByteBase) {
        out += static_cast<char>(cp - kRawByteBase);
    } else if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::size_t count_chars(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); i += decode(s, i).length)
        ++n;
    return n;
}

bool is_whitespace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

namespace {

// Simple one-to-one case pairs. Each entry maps a range of upper-case letters to lower case
// either by a fixed offset or (stride 2) as alternating upper/lower pairs.
struct CaseRange {
    char32_t first_upper, last_upper;
    int delta;   // lower = upper + delta (stride 1)
    int stride;  // 1: contiguous block, 2: alternating pairs (upper even/odd per range)
};

constexpr CaseRange kCaseRanges[] = {
    {0x0041, 0x005A, 32, 1},  // ASCII
    {0x00C0, 0x00D6, 32, 1},  // Latin-1
    {0x00D8, 0x00DE, 32, 1},  //
    {0x0100, 0x012E, 1, 2},   // Latin Extended-A
    {0x0132, 0x0136, 1, 2},   //
    {0x0139, 0x0147, 1, 2},   //
    {0x014A, 0x0176, 1, 2},   //
    {0x0179, 0x017D, 1, 2},   //
    {0x0386, 0x0386, 38, 1},  // Greek
    {0x0388, 0x038A, 37, 1},  //
    {0x038C, 0x038C, 64, 1},  //
    {0x038E, 0x038F, 63, 1},  //
    {0x0391, 0x03A1, 32, 1},  //
    {0x03A3, 0x03AB, 32, 1},  //
    {0x0400, 0x040F, 80, 1},  // Cyrillic
    {0x0410, 0x042F, 32, 1},  //
    {0x0460, 0x0480, 1, 2},   //
    {0x048A, 0x04BE, 1, 2},   //
    {0xFF21, 0xFF3A, 32, 1},  // fullwidth Latin
};

bool in_range_as_upper(const CaseRange& r, char32_t c) {
    if (c < r.first_upper || c > r.last_upper) return false;
    return r.stride == 1 || (c - r.first_upper) % 2 == 0;
}

bool in_range_as_lower(const CaseRange& r, char32_t c) {
    char32_t first = r.first_upper + r.delta, last = r.last_upper + r.delta;
    if (c < first || c > last) return false;
    return r.stride == 1 || (c - first) % 2 == 0;
}

}  // namespace

char32_t to_lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    for (const auto& r : kCaseRanges) {
        if (in_range_as_upper(r, c)) return c + r.delta;
    }
    if (c == 0x0178) return 0x00FF;  // Ÿ
    return c;
}

char32_t to_upper(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    for (const auto& r : kCaseRanges) {
        if (in_range_as_lower(r, c)) return c - r.delta;
    }
    switch (c) {
        case 0x00FF:
            return 0x0178;  // ÿ
        case 0x0131:
            return 'I';  // dotless i
        case 0x017F:
            return 'S';  // long s
        case 0x03C2:
            return 0x03A3;  // final sigma
        default:
            return c;
    }
}

bool is_lowercase(char32_t c) {
    if (c < 0x80) return c >= 'a' && c <= 'z';
    return to_upper(c) != c || c == 0x00DF || c == 0x0138;  // ß and ĸ have no simple upper case
}

bool is_uppercase(char32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z';
    return to_lower(c) != c || c == 0x0130;  // İ lower-cases to two characters
}

bool is_alphabetic(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c >= kRawByteBase) return false;
    if (is_lowercase(c) || is_uppercase(c)) return true;
    // Caseless scripts and the rest of Latin: treat letters of the common blocks as
    // alphabetic.
    return c == 0xAA || c == 0xBA || (c >= 0x0180 && c <= 0x024F) ||
           (c >= 0x0370 && c <= 0x03FF && c != 0x037E && c != 0x0387) ||
           (c >= 0x0400 && c <= 0x052F && !(c >= 0x0482 && c <= 0x0489)) ||
           (c >= 0x0531 && c <= 0x0587) || (c >= 0x05D0 && c <= 0x05EA) ||
           (c >= 0x0620 && c <= 0x064A) || (c >= 0x0671 && c <= 0x06D3) ||
           (c >= 0x0904 && c <= 0x0939) || (c >= 0x0E01 && c <= 0x0E30) ||
           (c >= 0x10A0 && c <= 0x10FF) || (c >= 0x1E00 && c <= 0x1FFF) ||
           (c >= 0x3041 && c <= 0x3096) || (c >= 0x30A1 && c <= 0x30FA) ||
           (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xFF41 && c <= 0xFF5A);
}

bool is_alphanumeric(char32_t c) {
    return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19) || is_alphabetic(c);
}

namespace {

template <typename Map>
std::string map_chars(std::string_view s, Map map) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        Utf8Char ch = decode(s, i);
        encode(out, map(ch.code_point));
        i += ch.length;
    }
    return out;
}

}  // namespace

std::string to_lower(std::string_view s) {
    return map_chars(s, [](char32_t c) { return to_lower(c); });
}

std::string to_upper(std::string_view s) {
    return map_chars(s, [](char32_t c) { return to_upper(c); });
}

std::string_view trim_start(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        Utf8Char ch = decode(s, i);
        if (!is_whitespace(ch.code_point)) break;
        i += ch.length;
    }
    return s.substr(i);
}

std::string_view trim_end(std::string_view s) {
    // Walk forward remembering where the last non-space character ended (UTF-8 is not safely
    // decodable backwards when it may be invalid).
    std::size_t end = 0;
    for (std::size_t i = 0; i < s.size();) {
        Utf8Char ch = decode(s, i);
        i += ch.length;
        if (!is_whitespace(ch.code_point)) end = i;
    }
    return s.substr(0, end);
}

bool equals_ignore_ascii_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

}  // namespace relaytrust::expr::text
