#include "json_reader.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace relaytrust::hookd::json {

const Value* Value::find(std::string_view key) const {
    for (const auto& [name, value] : members) {
        if (name == key) return &value;
    }
    return nullptr;
}

namespace {

class Reader {
  public:
    Reader(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

    bool run(Value& out) {
        skip_space();
        if (!value(out, 0)) return false;
        skip_space();
        if (pos_ != text_.size()) return fail("unexpected text after the JSON value");
        return true;
    }

    std::string error() const { return "offset " + std::to_string(pos_) + ": " + error_; }

  private:
    bool fail(const char* what) {
        if (error_.empty()) error_ = what;
        return false;
    }

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }

    void skip_space() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    bool literal(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) return fail("invalid literal");
        pos_ += word.size();
        return true;
    }

    bool value(Value& out, int depth) {
        if (at_end()) return fail("unexpected end of input, expected a value");
        switch (peek()) {
            case '{':
                return object(out, depth + 1);
            case '[':
                return array(out, depth + 1);
            case '"':
                out.type = Value::Type::String;
                return string(out.string);
            case 't':
                out.type = Value::Type::Bool;
                out.boolean = true;
                return literal("true");
            case 'f':
                out.type = Value::Type::Bool;
                return literal("false");
            case 'n':
                out.type = Value::Type::Null;
                return literal("null");
            default:
                return number(out);
        }
    }

    bool object(Value& out, int depth) {
        if (depth > max_depth_) return fail("nesting too deep");
        out.type = Value::Type::Object;
        ++pos_;  // '{'
        skip_space();
        if (!at_end() && peek() == '}') {
            ++pos_;
            return true;
        }
        out.members.reserve(6);  // the widest hook object (context.client) has six members
        for (;;) {
            skip_space();
            if (at_end() || peek() != '"') return fail("expected a member name in quotes");
            std::string key;
            if (!string(key)) return false;
            // Duplicate keys would make the request mean two things.
            if (out.find(key)) return fail("duplicate member name");
            skip_space();
            if (at_end() || peek() != ':') return fail("expected ':' after a member name");
            ++pos_;
            skip_space();
            out.members.push_back({std::move(key), Value{}});
            if (!value(out.members.back().second, depth)) return false;
            skip_space();
            if (at_end()) return fail("unexpected end of input in an object");
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return true;
            }
            return fail("expected ',' or '}' in an object");
        }
    }

    bool array(Value& out, int depth) {
        if (depth > max_depth_) return fail("nesting too deep");
        out.type = Value::Type::Array;
        ++pos_;  // '['
        skip_space();
        if (!at_end() && peek() == ']') {
            ++pos_;
            return true;
        }
        out.items.reserve(4);  // hook arrays are short: [name, value] pairs, recipients
        for (;;) {
            skip_space();
            out.items.emplace_back();
            if (!value(out.items.back(), depth)) return false;
            skip_space();
            if (at_end()) return fail("unexpected end of input in an array");
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return true;
            }
            return fail("expected ',' or ']' in an array");
        }
    }

    static int hex_digit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    bool hex4(unsigned& out) {
        if (text_.size() - pos_ < 4) return fail("truncated \\u escape");
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const int d = hex_digit(text_[pos_++]);
            if (d < 0) return fail("invalid \\u escape");
            out = out * 16 + static_cast<unsigned>(d);
        }
        return true;
    }

    static void append_utf8(char*& w, unsigned cp) {
        if (cp < 0x80) {
            *w++ = static_cast<char>(cp);
        } else if (cp < 0x800) {
            *w++ = static_cast<char>(0xC0 | (cp >> 6));
            *w++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *w++ = static_cast<char>(0xE0 | (cp >> 12));
            *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *w++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            *w++ = static_cast<char>(0xF0 | (cp >> 18));
            *w++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *w++ = static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // Decodes the escape at pos_ into w (at most 4 bytes), moving w past what it wrote.
    bool escape(char*& w) {
        ++pos_;  // '\'
        if (at_end()) return fail("unexpected end of input in an escape");
        const char c = text_[pos_++];
        switch (c) {
            case '"':
            case '\\':
            case '/':
                *w++ = c;
                return true;
            case 'b':
                *w++ = '\b';
                return true;
            case 'f':
                *w++ = '\f';
                return true;
            case 'n':
                *w++ = '\n';
                return true;
            case 'r':
                *w++ = '\r';
                return true;
            case 't':
                *w++ = '\t';
                return true;
            case 'u':
                break;
            default:
                return fail("invalid escape");
        }
        unsigned cp = 0;
        if (!hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired low surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") return fail("unpaired high surrogate");
            pos_ += 2;
            unsigned low = 0;
            if (!hex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return fail("unpaired high surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(w, cp);
        return true;
    }

    // Bytes from `from` up to the string's closing quote (a quote not escaped by an odd run
    // of backslashes), or to the end of the text when it is unterminated.
    std::size_t encoded_length_from(std::size_t from) const {
        std::size_t i = from;
        for (;;) {
            const void* hit = std::memchr(text_.data() + i, '"', text_.size() - i);
            if (hit == nullptr) return text_.size() - from;
            const std::size_t quote = static_cast<const char*>(hit) - text_.data();
            std::size_t backslashes = 0;
            while (quote - backslashes > from && text_[quote - backslashes - 1] == '\\')
                ++backslashes;
            if (backslashes % 2 == 0) return quote - from;
            i = quote + 1;
        }
    }

    bool string(std::string& out) {
        ++pos_;  // opening quote
        const std::size_t start = pos_;
        pos_ = plain_run_end(pos_);
        if (at_end()) return fail("unterminated string");
        if (peek() == '"') {  // no escapes: one copy
            out.assign(text_.data() + start, pos_ - start);
            ++pos_;
            return true;
        }
        // Escapes (or a control character). Decoding never produces more bytes than it reads,
        // so a buffer of the encoded length holds the result: no growth, no per-byte appends.
        out.resize(encoded_length_from(start) + 4);  // + 4: room for one escape, see below
        char* const begin = out.data();
        char* const limit = begin + out.size() - 4;
        char* w = begin;
        std::memcpy(w, text_.data() + start, pos_ - start);
        w += pos_ - start;
        for (;;) {
            if (at_end()) return fail("unterminated string");
            const char c = peek();
            if (c == '"') {
                ++pos_;
                out.resize(static_cast<std::size_t>(w - begin));
                return true;
            }
            if (c != '\\') return fail("control character in a string");
            // Always true for valid input (decoded <= encoded); a guard, not a code path.
            if (w > limit) return fail("string longer than its encoded form");
            if (!escape(w)) return false;
            const std::size_t run = pos_;
            pos_ = plain_run_end(pos_);
            if (w > limit || static_cast<std::size_t>(limit - w) < pos_ - run) {
                return fail("string longer than its encoded form");
            }
            std::memcpy(w, text_.data() + run, pos_ - run);
            w += pos_ - run;
        }
    }

    // The first position from `from` holding '"', '\\' or a byte below 0x20 (or the end).
    // Many bytes at a time: a message body is one long string with few escapes.
    std::size_t plain_run_end(std::size_t from) const {
        constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
        constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
        auto has_zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
        std::size_t i = from;
#if defined(__SSE2__)
        // Sixteen bytes at a time where SSE2 exists (every x86-64).
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i backslash = _mm_set1_epi8('\\');
        const __m128i below_space = _mm_set1_epi8(0x20);
        const __m128i sign = _mm_set1_epi8(static_cast<char>(0x80));
        while (i + 16 <= text_.size()) {
            const __m128i chunk =
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(text_.data() + i));
            // Unsigned c < 0x20 as a signed compare after flipping the sign bits.
            const __m128i control =
                _mm_cmplt_epi8(_mm_xor_si128(chunk, sign), _mm_xor_si128(below_space, sign));
            const int mask = _mm_movemask_epi8(_mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                control));
            if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
            i += 16;
        }
#endif
        while (i + 8 <= text_.size()) {
            std::uint64_t word;
            std::memcpy(&word, text_.data() + i, 8);
            const std::uint64_t special = has_zero_byte(word ^ (kOnes * '"')) |
                                          has_zero_byte(word ^ (kOnes * '\\')) |
                                          ((word - kOnes * 0x20) & ~word & kHighs);
            if (special) {
                // A hint (borrows can flag a byte after a real match): look byte by byte.
                for (std::size_t k = i; k < i + 8; ++k) {
                    if (is_special(text_[k])) return k;
                }
            }
            i += 8;
        }
        while (i < text_.size() && !is_special(text_[i]))
            ++i;
        return i;
    }

    static bool is_special(char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c == '"' || c == '\\' || c < 0x20;
    }

    static bool is_digit(char c) {
        return c >= '0' && c <= '9';
    }

    bool number(Value& out) {
        const std::size_t start = pos_;
        bool negative = false;
        if (peek() == '-') {
            negative = true;
            ++pos_;
        }
        if (at_end() || !is_digit(peek())) {
            pos_ = start;
            return fail("expected a value");
        }
        std::uint64_t magnitude = 0;
        bool fits = true;
        if (peek() == '0') {
            ++pos_;
            if (!at_end() && is_digit(peek())) return fail("leading zero in a number");
        } else {
            while (!at_end() && is_digit(peek())) {
                const auto digit = static_cast<std::uint64_t>(peek() - '0');
                if (magnitude > (UINT64_MAX - digit) / 10) fits = false;
                magnitude = magnitude * 10 + digit;
                ++pos_;
            }
        }
        bool integer = true;
        if (!at_end() && peek() == '.') {
            integer = false;
            ++pos_;
            if (at_end() || !is_digit(peek())) return fail("expected digits after '.'");
            while (!at_end() && is_digit(peek()))
                ++pos_;
        }
        if (!at_end() && (peek() == 'e' || peek() == 'E')) {
            integer = false;
            ++pos_;
            if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
            if (at_end() || !is_digit(peek())) return fail("expected digits in an exponent");
            while (!at_end() && is_digit(peek()))
                ++pos_;
        }
        // Only integers are ever read as numbers; others just need to be well-formed.
        out.type = integer && fits ? Value::Type::Integer : Value::Type::Number;
        out.negative = negative && magnitude != 0;
        out.magnitude = magnitude;
        return true;
    }

    std::string_view text_;
    int max_depth_;
    std::size_t pos_ = 0;
    std::string error_;
};

}  // namespace

bool parse(std::string_view text, Value& out, std::string& error, int max_depth) {
    Reader reader(text, max_depth);
    out = Value{};
    if (reader.run(out)) return true;
    error = reader.error();
    return false;
}

}  // namespace relaytrust::hookd::json
