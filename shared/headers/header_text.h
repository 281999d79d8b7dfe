// Small text helpers shared by the strict header parsers in this folder (not a public API).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace relaytrust::headers::text {

// RFC 5322 WSP: the only whitespace allowed inside an unfolded header value.
constexpr bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// Bytes that must not survive unfolding: a bare CR/LF means a broken or injected header.
constexpr bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Trims SP, HTAB, CR and LF from both ends.
std::string_view trim(std::string_view text);

// Offset of the first control character (see is_control), if any.
std::optional<std::size_t> find_control(std::string_view text);

// Strict decimal: [+-]digits[.digits] or [+-].digits. No exponent, inf, nan, hex or spaces,
// because every producer prints plain %f-style numbers and anything else is suspect.
std::optional<double> parse_decimal(std::string_view text);

// Quotes a value for an error message, shortened so hostile input cannot flood the logs.
std::string quote(std::string_view text);

}  // namespace relaytrust::headers::text
