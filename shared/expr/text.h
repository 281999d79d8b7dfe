// Small UTF-8 and character-class helpers for the string functions. Rust's char methods are
// Unicode-complete; these cover ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and
// fullwidth Latin, which is what mail policies meet in practice (documented in
// docs/expressions.md). Private to shared/expr.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relaytrust::expr::text {

// One decoded character. Invalid UTF-8 yields one "raw" byte (code point >= kRawByteBase) that
// is copied through unchanged, so no input is ever altered by accident.
struct Utf8Char {
    char32_t code_point;
    std::size_t length;  // bytes consumed, >= 1
};
inline constexpr char32_t kRawByteBase = 0x110000;

Utf8Char decode(std::string_view s, std::size_t pos);
void encode(std::string& out, char32_t code_point);
std::size_t count_chars(std::string_view s);

bool is_whitespace(char32_t c);  // Rust's char::is_whitespace
bool is_alphabetic(char32_t c);
bool is_alphanumeric(char32_t c);
bool is_lowercase(char32_t c);
bool is_uppercase(char32_t c);
char32_t to_lower(char32_t c);
char32_t to_upper(char32_t c);

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
std::string_view trim_start(std::string_view s);
std::string_view trim_end(std::string_view s);
inline std::string_view trim(std::string_view s) {
    return trim_end(trim_start(s));
}

bool equals_ignore_ascii_case(std::string_view a, std::string_view b);

}  // namespace relaytrust::expr::text
