#include "headers/header_text.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "headers/verdict_header_parser.h"

namespace relaytrust::headers {

std::string unfold(std::string_view raw_value) {
    const std::string_view trimmed = text::trim(raw_value);
    std::string unfolded;
    unfolded.reserve(trimmed.size());
    // Copies the runs between line breaks whole: most values have no fold, or one or two.
    std::size_t start = 0;
    for (;;) {
        const std::size_t lf = trimmed.find('\n', start);
        if (lf == std::string_view::npos) {
            unfolded.append(trimmed.substr(start));
            break;
        }
        // A line break is only a fold when WSP follows; the WSP itself stays. A lone LF folds
        // too; a CR before it goes with it.
        const bool fold = lf + 1 < trimmed.size() && text::is_wsp(trimmed[lf + 1]);
        std::size_t run_end = lf;
        if (fold && run_end > start && trimmed[run_end - 1] == '\r') --run_end;
        unfolded.append(trimmed.substr(start, run_end - start));
        if (!fold) unfolded.append(trimmed.substr(run_end, lf + 1 - run_end));
        start = lf + 1;
    }
    return unfolded;
}

std::string_view unfold(std::string_view raw_value, std::string& storage) {
    const std::string_view trimmed = text::trim(raw_value);
    if (trimmed.find('\n') == std::string_view::npos) return trimmed;
    storage = unfold(trimmed);
    return storage;
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
