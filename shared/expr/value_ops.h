// Stalwart's value semantics (coercions, comparisons, arithmetic) shared by the evaluator and
// the function library. Private to shared/expr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "expr/expression.h"

namespace relaytrust::expr::detail {

// Stalwart's numeric view of a value: integers stay integers (saturating arithmetic),
// anything with a fraction is a double.
struct Number {
    bool is_float = false;
    std::int64_t integer = 0;
    double real = 0;

    static Number of_integer(std::int64_t v) { return Number{false, v, 0}; }
    static Number of_real(double v) { return Number{true, 0, v}; }
    double as_double() const { return is_float ? real : static_cast<double>(integer); }
    Value to_value() const { return is_float ? Value(real) : Value(integer); }
};

// How Stalwart sees a value: there is no "empty" (an unset variable is the empty string) and
// booleans are the integers 1 and 0.
enum class Kind { String, Integer, Float, List };
Kind kind_of(const Value& v);
bool is_numeric(const Value& v);

// Text parsing with the exact grammar of Rust's FromStr (what Stalwart uses): optional sign,
// no whitespace, no hex; floats accept "1.", ".5", "1e5", "inf", "NaN".
std::optional<std::int64_t> parse_int64(std::string_view text);
std::optional<std::uint64_t> parse_uint64(std::string_view text);
std::optional<double> parse_double(std::string_view text);
std::optional<Number> parse_number_text(std::string_view text);  // integer first, then float

// Numbers (and booleans) as they are; nullopt for anything else.
std::optional<Number> numeric_value(const Value& v);
// Stalwart's parse_number: numeric strings parse, other strings are 0, a list is 1 when it is
// empty and 0 otherwise (sic), booleans are 1/0.
Number coerce_number(const Value& v);
// Stalwart's to_integer / to_usize (used for indexes, counts, bit_and).
std::optional<std::int64_t> to_integer(const Value& v);
std::optional<std::uint64_t> to_index(const Value& v);

bool values_equal(const Value& a, const Value& b);
// -1 / 0 / +1, or nullopt when unordered (NaN). Mixed kinds follow Stalwart's rules.
std::optional<int> compare_values(const Value& a, const Value& b);

Value add(const Value& a, const Value& b);
Value subtract(const Value& a, const Value& b);
Value multiply(const Value& a, const Value& b);
Value divide(const Value& a, const Value& b);
Value negate(const Value& v);

// Rust's Display for f64: shortest round-trip digits, never an exponent ("1", "0.1", "inf").
std::string format_double(double d);
void append_text(std::string& out, const Value& v);

// A value's text without copying when it already is a string.
class TextOf {
  public:
    explicit TextOf(const Value& v);
    TextOf(const TextOf&) = delete;
    TextOf& operator=(const TextOf&) = delete;
    std::string_view view() const { return view_; }

  private:
    std::string storage_;
    std::string_view view_;
};

// A part of `source`'s text as a value: borrowed when the source is borrowed (so no copy),
// owned when the source owns its text (the source may be a temporary).
Value slice_of(const Value& source, std::string_view part);
// A copy that borrows nothing (used when folding constants at compile time).
Value deep_owned(const Value& v);

}  // namespace relaytrust::expr::detail
