#include "headers/header_text.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "headers/verdict_header_parser.h"

namespace relaytrust::headers {

std::string unfold(std::string_view raw_value) {
    std::string unfolded;
    unfolded.reserve(raw_value.size());
    const std::size_t size = raw_value.size();
    for (std::size_t i = 0; i < size; ++i) {
        const char c = raw_value[i];
        // A line break is only a fold when WSP follows; the WSP itself stays.
        if (c == '\r' && i + 2 < size && raw_value[i + 1] == '\n' &&
            text::is_wsp(raw_value[i + 2])) {
            ++i;
            continue;
        }
        if (c == '\n' && i + 1 < size && text::is_wsp(raw_value[i + 1])) continue;
        unfolded.push_back(c);
    }
    return std::string(text::trim(unfolded));
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (text::to_lower(a[i]) != text::to_lower(b[i])) return false;
    }
    return true;
}

namespace text {

std::string_view trim(std::string_view text) {
    const auto is_trimmed = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
    while (!text.empty() && is_trimmed(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_trimmed(text.back()))
        text.remove_suffix(1);
    return text;
}

std::optional<std::size_t> find_control(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (is_control(text[i])) return i;
    }
    return std::nullopt;
}

std::optional<double> parse_decimal(std::string_view text) {
    // Long enough for any real score; stops absurd inputs before from_chars sees them.
    constexpr std::size_t kMaxNumberLength = 32;
    if (text.empty() || text.size() > kMaxNumberLength) return std::nullopt;
    std::string_view digits = text;
    if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
    std::size_t integer_digits = 0;
    std::size_t i = 0;
    while (i < digits.size() && is_digit(digits[i])) {
        ++i;
        ++integer_digits;
    }
    std::size_t fraction_digits = 0;
    if (i < digits.size() && digits[i] == '.') {
        ++i;
        while (i < digits.size() && is_digit(digits[i])) {
            ++i;
            ++fraction_digits;
        }
        if (fraction_digits == 0) return std::nullopt;  // "5." is not a producer format
    }
    if (i != digits.size() || integer_digits + fraction_digits == 0) return std::nullopt;

    // from_chars rejects a leading '+', so parse the unsigned part and apply the sign.
    double value = 0.0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return text.front() == '-' ? -value : value;
}

std::string quote(std::string_view text) {
    constexpr std::size_t kMaxQuoted = 40;
    constexpr char kHex[] = "0123456789abcdef";
    std::string quoted = "'";
    const std::size_t shown = text.size() < kMaxQuoted ? text.size() : kMaxQuoted;
    for (std::size_t i = 0; i < shown; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte >= 0x7f) {  // keep log lines printable ASCII
            quoted += "\\x";
            quoted += kHex[byte >> 4];
            quoted += kHex[byte & 0xf];
        } else {
            quoted += text[i];
        }
    }
    if (shown < text.size()) quoted += "...";
    quoted += '\'';
    return quoted;
}

}  // namespace text
}  // namespace relaytrust::headers
