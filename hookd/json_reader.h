// A strict JSON reader for hook requests (RFC 8259: no comments, no trailing commas, no
// duplicate keys, nothing after the value, bounded nesting). jsoncpp decodes strings one
// character at a time through several calls, and a data-stage request is mostly one long
// string (the message body): profiling showed it at three quarters of hookd's CPU. This reader
// copies runs of plain characters at once. jsoncpp stays for everything else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relaytrust::hookd::json {

struct Value {
    enum class Type : std::uint8_t { Null, Bool, Integer, Number, String, Array, Object };

    Type type = Type::Null;
    bool boolean = false;
    // Integer: a JSON number without fraction or exponent that fits in 64 bits.
    bool negative = false;
    std::uint64_t magnitude = 0;
    std::string string;
    std::vector<Value> items;  // Array
    struct Member;
    std::vector<Member> members;  // Object, in document order

    bool is_null() const { return type == Type::Null; }
    bool is_string() const { return type == Type::String; }
    bool is_array() const { return type == Type::Array; }
    bool is_object() const { return type == Type::Object; }
    bool is_unsigned() const { return type == Type::Integer && !negative; }

    // The member called key, or nullptr (also when this is not an object).
    const Value* find(std::string_view key) const;
    Value* find(std::string_view key) {
        return const_cast<Value*>(static_cast<const Value&>(*this).find(key));
    }
};

// A named member of an object. (std::pair<std::string, Value> would name Value while it is
// still incomplete, which the standard library does not allow; a vector of a declared struct
// is fine.)
struct Value::Member {
    std::string first;  // the name
    Value second;
};

// Parses text into out. On failure returns false and sets error to one line:
// "offset N: what was expected".
bool parse(std::string_view text, Value& out, std::string& error, int max_depth = 64);

}  // namespace relaytrust::hookd::json
