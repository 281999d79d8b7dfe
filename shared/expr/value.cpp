// Value conversions and Stalwart's comparison/arithmetic rules (crates/common/src/expr: the
// PartialEq/PartialOrd impls and op_* of Variable).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "expr/value_ops.h"

namespace relaytrust::expr {

namespace {

std::string_view string_in(const Value::Storage& s) {
    if (const auto* view = std::get_if<std::string_view>(&s)) return *view;
    if (const auto* owned = std::get_if<std::string>(&s)) return *owned;
    return {};
}

}  // namespace

bool Value::to_bool() const {
    switch (v_.index()) {
        case 0:
            return false;
        case 1:
            return std::get<bool>(v_);
        case 2:
            return std::get<std::int64_t>(v_) != 0;
        case 3:
            return std::get<double>(v_) != 0.0;  // NaN is true, as in Rust
        case 4:
        case 5:
            return !string_in(v_).empty();
        default:
            return !std::get<std::shared_ptr<const List>>(v_)->empty();
    }
}

std::string_view Value::as_string_view() const {
    return string_in(v_);
}

std::string Value::to_string() const {
    std::string out;
    detail::append_text(out, *this);
    return out;
}

std::optional<double> Value::to_number() const {
    if (auto n = detail::numeric_value(*this)) return n->as_double();
    if (is_string()) {
        if (auto n = detail::parse_number_text(as_string_view())) return n->as_double();
    }
    return std::nullopt;
}

const Value::List* Value::as_list() const {
    const auto* list = std::get_if<std::shared_ptr<const List>>(&v_);
    return list ? list->get() : nullptr;
}

}  // namespace relaytrust::expr

namespace relaytrust::expr::detail {

Kind kind_of(const Value& v) {
    const auto& s = v.storage();
    if (std::holds_alternative<double>(s)) return Kind::Float;
    if (std::holds_alternative<std::int64_t>(s) || std::holds_alternative<bool>(s)) {
        return Kind::Integer;
    }
    if (v.is_list()) return Kind::List;
    return Kind::String;  // strings and the empty value
}

bool is_numeric(const Value& v) {
    Kind k = kind_of(v);
    return k == Kind::Integer || k == Kind::Float;
}

// --- parsing ---------------------------------------------------------------------------------

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (x != b[i]) return false;
    }
    return true;
}

}  // namespace

std::optional<std::int64_t> parse_int64(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (!all_digits(text)) return std::nullopt;
    // Accumulate as a negative number so INT64_MIN parses.
    std::int64_t value = 0;
    for (char c : text) {
        int digit = c - '0';
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_sub_overflow(value, digit, &value)) {
            return std::nullopt;
        }
    }
    if (negative) return value;
    if (value == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
    return -value;
}

std::optional<std::uint64_t> parse_uint64(std::string_view text) {
    if (!text.empty() && text[0] == '+') text.remove_prefix(1);
    if (!all_digits(text)) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (__builtin_mul_overflow(value, 10u, &value) ||
            __builtin_add_overflow(value, static_cast<std::uint64_t>(c - '0'), &value)) {
            return std::nullopt;
        }
    }
    return value;
}

std::optional<double> parse_double(std::string_view text) {
    bool negative = false;
    std::string_view body = text;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
        negative = body[0] == '-';
        body.remove_prefix(1);
    }
    if (iequals(body, "inf") || iequals(body, "infinity")) {
        return negative ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
    }
    if (iequals(body, "nan")) return std::numeric_limits<double>::quiet_NaN();

    // Validate Rust's grammar: digits [. digits] [e [sign] digits], at least one mantissa digit.
    std::size_t i = 0, int_digits = 0, frac_digits = 0;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9')
        ++i, ++int_digits;
    if (i < body.size() && body[i] == '.') {
        ++i;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9')
            ++i, ++frac_digits;
    }
    if (int_digits + frac_digits == 0) return std::nullopt;
    if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
        ++i;
        if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
        std::size_t exp_digits = 0;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9')
            ++i, ++exp_digits;
        if (exp_digits == 0) return std::nullopt;
    }
    if (i != body.size()) return std::nullopt;

    double value = 0;
    auto [end, ec] =
        std::from_chars(body.data(), body.data() + body.size(), value, std::chars_format::general);
    if (ec == std::errc::result_out_of_range) {
        // Rust rounds to infinity or zero instead of failing: decide by the decimal exponent of
        // the leading non-zero digit.
        std::size_t e = body.find_first_of("eE");
        std::string_view mantissa = body.substr(0, e);
        std::int64_t lead = 0;
        std::size_t dot = mantissa.find('.');
        std::size_t int_len = dot == std::string_view::npos ? mantissa.size() : dot;
        std::size_t first = mantissa.find_first_of("123456789");
        if (first != std::string_view::npos) {
            lead = first < int_len ? static_cast<std::int64_t>(int_len - 1 - first)
                                   : -static_cast<std::int64_t>(first - int_len);
        }
        if (e != std::string_view::npos) {
            std::string_view exp = body.substr(e + 1);
            bool exp_negative = !exp.empty() && exp[0] == '-';
            if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) exp.remove_prefix(1);
            auto magnitude = parse_uint64(exp).value_or(std::numeric_limits<std::uint64_t>::max());
            std::int64_t clamped =
                static_cast<std::int64_t>(std::min<std::uint64_t>(magnitude, 1u << 20));
            lead += exp_negative ? -clamped : clamped;
        }
        value = lead < 0 ? 0.0 : std::numeric_limits<double>::infinity();
    } else if (ec != std::errc() || end != body.data() + body.size()) {
        return std::nullopt;
    }
    return negative ? -value : value;
}

std::optional<Number> parse_number_text(std::string_view text) {
    if (auto i = parse_int64(text)) return Number::of_integer(*i);
    if (auto d = parse_double(text)) return Number::of_real(*d);
    return std::nullopt;
}

std::optional<Number> numeric_value(const Value& v) {
    const auto& s = v.storage();
    if (const auto* i = std::get_if<std::int64_t>(&s)) return Number::of_integer(*i);
    if (const auto* d = std::get_if<double>(&s)) return Number::of_real(*d);
    if (const auto* b = std::get_if<bool>(&s)) return Number::of_integer(*b ? 1 : 0);
    return std::nullopt;
}

Number coerce_number(const Value& v) {
    if (auto n = numeric_value(v)) return *n;
    if (const auto* list = v.as_list()) return Number::of_integer(list->empty() ? 1 : 0);
    if (auto n = parse_number_text(v.as_string_view())) return *n;
    return Number::of_integer(0);
}

std::optional<std::int64_t> to_integer(const Value& v) {
    const auto& s = v.storage();
    if (const auto* d = std::get_if<double>(&s)) {
        // Rust's `as i64`: saturating, NaN becomes 0.
        if (std::isnan(*d)) return 0;
        if (*d >= 9223372036854775807.0) return std::numeric_limits<std::int64_t>::max();
        if (*d <= -9223372036854775808.0) return std::numeric_limits<std::int64_t>::min();
        return static_cast<std::int64_t>(*d);
    }
    if (auto n = numeric_value(v)) return n->integer;
    if (v.is_string() && !v.as_string_view().empty()) return parse_int64(v.as_string_view());
    return std::nullopt;
}

std::optional<std::uint64_t> to_index(const Value& v) {
    const auto& s = v.storage();
    if (const auto* d = std::get_if<double>(&s)) {
        // Rust's `as usize`: negative and NaN become 0, saturating at the top.
        if (std::isnan(*d) || *d <= 0) return 0;
        if (*d >= 18446744073709551615.0) return std::numeric_limits<std::uint64_t>::max();
        return static_cast<std::uint64_t>(*d);
    }
    if (auto n = numeric_value(v)) return static_cast<std::uint64_t>(n->integer);  // wraps, as Rust
    if (v.is_string() && !v.as_string_view().empty()) return parse_uint64(v.as_string_view());
    return std::nullopt;
}

// --- comparison ------------------------------------------------------------------------------

namespace {

bool numbers_equal(const Number& a, const Number& b) {
    if (!a.is_float && !b.is_float) return a.integer == b.integer;
    return a.as_double() == b.as_double();
}

std::optional<int> compare_numbers(const Number& a, const Number& b) {
    if (!a.is_float && !b.is_float) return a.integer < b.integer ? -1 : (a.integer > b.integer);
    double x = a.as_double(), y = b.as_double();
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace

bool values_equal(const Value& a, const Value& b) {
    Kind ka = kind_of(a), kb = kind_of(b);
    bool na = ka == Kind::Integer || ka == Kind::Float;
    bool nb = kb == Kind::Integer || kb == Kind::Float;
    if (na && nb) return numbers_equal(*numeric_value(a), *numeric_value(b));
    if (ka == Kind::String && kb == Kind::String) return a.as_string_view() == b.as_string_view();
    if (ka == Kind::String && nb) return numbers_equal(coerce_number(a), *numeric_value(b));
    if (na && kb == Kind::String) return numbers_equal(*numeric_value(a), coerce_number(b));
    if (ka == Kind::List && kb == Kind::List) {
        const auto& x = *a.as_list();
        const auto& y = *b.as_list();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!values_equal(x[i], y[i])) return false;
        }
        return true;
    }
    return false;
}

std::optional<int> compare_values(const Value& a, const Value& b) {
    Kind ka = kind_of(a), kb = kind_of(b);
    bool na = ka == Kind::Integer || ka == Kind::Float;
    bool nb = kb == Kind::Integer || kb == Kind::Float;
    if (na && nb) return compare_numbers(*numeric_value(a), *numeric_value(b));
    if (ka == Kind::String && kb == Kind::String) {
        int c = a.as_string_view().compare(b.as_string_view());
        return c < 0 ? -1 : (c > 0);
    }
    if (ka == Kind::String && nb) return compare_numbers(coerce_number(a), *numeric_value(b));
    if (na && kb == Kind::String) return compare_numbers(*numeric_value(a), coerce_number(b));
    if (ka == Kind::List && kb == Kind::List) {
        const auto& x = *a.as_list();
        const auto& y = *b.as_list();
        std::size_t n = std::min(x.size(), y.size());
        for (std::size_t i = 0; i < n; ++i) {
            auto c = compare_values(x[i], y[i]);
            if (!c || *c != 0) return c;
        }
        return x.size() < y.size() ? -1 : (x.size() > y.size());
    }
    // Stalwart: a list or string is "greater" than anything else; a number is "less" than a
    // list.
    if (ka == Kind::List || ka == Kind::String) return 1;
    return -1;
}

// --- arithmetic ------------------------------------------------------------------------------

namespace {

std::int64_t saturate(bool overflow, std::int64_t value, bool positive_overflow) {
    if (!overflow) return value;
    return positive_overflow ? std::numeric_limits<std::int64_t>::max()
                             : std::numeric_limits<std::int64_t>::min();
}

Value list_with(const Value::List& head, const Value::List& tail) {
    Value::List out;
    out.reserve(head.size() + tail.size());
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), tail.begin(), tail.end());
    return Value::list(std::move(out));
}

Value list_without(const Value::List& items, const Value& drop) {
    Value::List out;
    for (const auto& item : items) {
        if (!values_equal(item, drop)) out.push_back(item);
    }
    return Value::list(std::move(out));
}

}  // namespace

Value add(const Value& a, const Value& b) {
    auto x = numeric_value(a), y = numeric_value(b);
    if (x && y) {
        if (!x->is_float && !y->is_float) {
            std::int64_t r;
            bool overflow = __builtin_add_overflow(x->integer, y->integer, &r);
            return Value(saturate(overflow, r, y->integer > 0));
        }
        return Value(x->as_double() + y->as_double());
    }
    const auto* la = a.as_list();
    const auto* lb = b.as_list();
    if (la && lb) return list_with(*la, *lb);
    if (la) return list_with(*la, Value::List{b});
    if (lb) return list_with(Value::List{a}, *lb);
    // At least one side is a string: concatenate, an empty string is the identity.
    if (kind_of(a) == Kind::String) {
        if (a.as_string_view().empty()) return b;
    } else if (b.as_string_view().empty()) {
        return a;
    }
    std::string out;
    append_text(out, a);
    append_text(out, b);
    return Value::owned(std::move(out));
}

Value subtract(const Value& a, const Value& b) {
    if (const auto* la = a.as_list()) return list_without(*la, b);
    if (const auto* lb = b.as_list()) return list_without(*lb, a);
    Number x = coerce_number(a), y = coerce_number(b);
    if (!x.is_float && !y.is_float) {
        std::int64_t r;
        bool overflow = __builtin_sub_overflow(x.integer, y.integer, &r);
        return Value(saturate(overflow, r, y.integer < 0));
    }
    return Value(x.as_double() - y.as_double());
}

Value multiply(const Value& a, const Value& b) {
    Number x = coerce_number(a), y = coerce_number(b);
    if (!x.is_float && !y.is_float) {
        std::int64_t r;
        bool overflow = __builtin_mul_overflow(x.integer, y.integer, &r);
        return Value(saturate(overflow, r, (x.integer < 0) == (y.integer < 0)));
    }
    return Value(x.as_double() * y.as_double());
}

Value divide(const Value& a, const Value& b) {
    // Stalwart: always a float; dividing by zero gives 0.0 rather than an error or infinity.
    double x = coerce_number(a).as_double(), y = coerce_number(b).as_double();
    return Value(y != 0.0 ? x / y : 0.0);
}

Value negate(const Value& v) {
    Number n = coerce_number(v);
    if (n.is_float) return Value(-n.real);
    // Rust's wrapping_neg: -INT64_MIN stays INT64_MIN.
    return Value(static_cast<std::int64_t>(0ULL - static_cast<std::uint64_t>(n.integer)));
}

// --- text ------------------------------------------------------------------------------------

std::string format_double(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    char buf[400];  // fixed notation of the extreme doubles needs ~330 characters
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    if (ec != std::errc()) return "0";
    return std::string(buf, end);
}

void append_text(std::string& out, const Value& v) {
    const auto& s = v.storage();
    if (const auto* b = std::get_if<bool>(&s)) {
        out += *b ? "true" : "false";
    } else if (const auto* i = std::get_if<std::int64_t>(&s)) {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *i);
        out.append(buf, end);
    } else if (const auto* d = std::get_if<double>(&s)) {
        out += format_double(*d);
    } else if (const auto* list = v.as_list()) {
        // Stalwart joins list items with CRLF; nested lists contribute nothing.
        bool first = true;
        for (const auto& item : *list) {
            if (!first) out += "\r\n";
            first = false;
            if (!item.is_list()) append_text(out, item);
        }
    } else {
        out += v.as_string_view();
    }
}

TextOf::TextOf(const Value& v) {
    if (v.is_string() || v.is_empty_value()) {
        view_ = v.as_string_view();
    } else {
        append_text(storage_, v);
        view_ = storage_;
    }
}

Value slice_of(const Value& source, std::string_view part) {
    if (std::holds_alternative<std::string_view>(source.storage())) return Value::borrowed(part);
    return Value::owned(std::string(part));
}

Value deep_owned(const Value& v) {
    if (std::holds_alternative<std::string_view>(v.storage())) {
        return Value::owned(std::string(v.as_string_view()));
    }
    if (const auto* list = v.as_list()) {
        Value::List out;
        out.reserve(list->size());
        for (const auto& item : *list)
            out.push_back(deep_owned(item));
        return Value::list(std::move(out));
    }
    return v;
}

}  // namespace relaytrust::expr::detail
