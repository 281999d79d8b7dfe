#include "json_reader.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RELAYTRUST_JSON_AVX2 1
#endif

namespace relaytrust::hookd::json {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Four hex digits at p (already validated).
unsigned hex4_at(const char* p) {
    unsigned value = 0;
    for (int i = 0; i < 4; ++i)
        value = value * 16 + static_cast<unsigned>(hex_digit(p[i]));
    return value;
}

char* write_utf8(char* w, unsigned cp) {
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
    return w;
}

// Writes the decoded form of [p, end), a string's contents that the reader has validated (so
// every backslash starts a complete, well-formed escape), to w; returns the end of what it
// wrote. w must have room for end - p bytes: decoding never grows a string, which also makes
// the sixteen-byte stores below safe (they never run ahead of the input).
char* decode_to(const char* p, const char* const end, char* w) {
    for (;;) {
#if defined(__SSE2__)
        const __m128i backslash = _mm_set1_epi8('\\');
        while (end - p >= 16) {
            const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(w), chunk);
            const int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash));
            if (mask == 0) {
                p += 16;
                w += 16;
                continue;
            }
            const int plain = __builtin_ctz(mask);
            p += plain;
            w += plain;
            break;
        }
#endif
        while (p < end && *p != '\\')
            *w++ = *p++;
        if (p == end) return w;
        const char c = p[1];
        p += 2;
        switch (c) {
            case 'b':
                *w++ = '\b';
                break;
            case 'f':
                *w++ = '\f';
                break;
            case 'n':
                *w++ = '\n';
                break;
            case 'r':
                *w++ = '\r';
                break;
            case 't':
                *w++ = '\t';
                break;
            case 'u': {
                unsigned cp = hex4_at(p);
                p += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {  // validated: a low surrogate follows
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4_at(p + 2) - 0xDC00);
                    p += 6;
                }
                w = write_utf8(w, cp);
                break;
            }
            default:  // '"', '\\', '/'
                *w++ = c;
        }
    }
}

// Decodes encoded onto the end of out.
void append_decoded(std::string_view encoded, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + encoded.size());
    char* const begin = out.data();
    char* const w = decode_to(encoded.data(), encoded.data() + encoded.size(), begin + start);
    out.resize(static_cast<std::size_t>(w - begin));
}

// An escape that is a backslash and one character: \" \\ \/ \b \f \n \r \t.
bool is_short_escape(char c) {
    switch (c) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            return true;
        default:
            return false;
    }
}

#if defined(RELAYTRUST_JSON_AVX2)
// The bulk of Reader::string for CPUs with AVX2 (chosen at run time: Debian's x86-64 baseline
// has only SSE2). Walks a string's contents from `from`, 32 bytes at a time, stepping over
// short escapes inside each block's bitmask instead of stopping at each (a body has two on
// every line); counts them in short_escapes. Returns the first position it leaves to the
// caller: a quote, a control character, any other escape, or where fewer than 32 bytes are
// left.
__attribute__((target("avx2"))) std::size_t skim_string_avx2(const char* data, std::size_t size,
                                                             std::size_t from,
                                                             std::size_t& short_escapes) {
    const __m256i quote = _mm256_set1_epi8('"');
    const __m256i backslash = _mm256_set1_epi8('\\');
    const __m256i highest_control = _mm256_set1_epi8(0x1F);
    std::size_t i = from;
    while (i + 32 <= size) {
        const __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
        // c <= 0x1F (unsigned) exactly when min(c, 0x1F) == c.
        const __m256i control = _mm256_cmpeq_epi8(_mm256_min_epu8(chunk, highest_control), chunk);
        const __m256i special = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(chunk, quote), _mm256_cmpeq_epi8(chunk, backslash)),
            control);
        auto mask = static_cast<std::uint32_t>(_mm256_movemask_epi8(special));
        std::size_t next = i + 32;
        while (mask != 0) {
            const auto bit = static_cast<unsigned>(__builtin_ctz(mask));
            const std::size_t at = i + bit;
            if (data[at] != '\\' || at + 1 >= size || !is_short_escape(data[at + 1])) return at;
            ++short_escapes;
            // The escaped character may itself be special (\" or \\): skip both.
            if (bit + 2 >= 32) {
                next = at + 2;
                break;
            }
            mask &= ~0u << (bit + 2);
        }
        i = next;
    }
    return i;
}

bool cpu_has_avx2() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

const bool kHasAvx2 = cpu_has_avx2();
#endif

}  // namespace

class Reader {
  public:
    Reader(Document& document, std::string_view text, int max_depth)
        : document_(document), text_(text), max_depth_(max_depth) {}

    bool run() {
        document_.nodes_.clear();
        document_.names_.clear();
        // A data request with a dozen headers has about 70 values: no growth for a usual one.
        document_.nodes_.reserve(128);
        skip_space();
        if (!value(0)) return false;
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

    std::vector<Node>& nodes() { return document_.nodes_; }

    // Appends the value at pos_ (and its subtree) to the node array.
    bool value(int depth) {
        if (at_end()) return fail("unexpected end of input, expected a value");
        const std::size_t index = nodes().size();
        nodes().emplace_back();
        bool ok = false;
        switch (peek()) {
            case '{':
                ok = object(index, depth + 1);
                break;
            case '[':
                ok = array(index, depth + 1);
                break;
            case '"': {
                Node& node = nodes()[index];
                node.type = Type::String;
                std::size_t shrink = 0;
                ok = string(node.text, node.escaped, shrink);
                node.decoded_size = node.text.size() - shrink;
                break;
            }
            case 't':
                nodes()[index].type = Type::Bool;
                nodes()[index].boolean = true;
                ok = literal("true");
                break;
            case 'f':
                nodes()[index].type = Type::Bool;
                ok = literal("false");
                break;
            case 'n':
                ok = literal("null");
                break;
            default:
                ok = number(nodes()[index]);
        }
        nodes()[index].end = static_cast<std::uint32_t>(nodes().size());
        return ok;
    }

    bool object(std::size_t index, int depth) {
        if (depth > max_depth_) return fail("nesting too deep");
        nodes()[index].type = Type::Object;
        ++pos_;  // '{'
        skip_space();
        if (!at_end() && peek() == '}') {
            ++pos_;
            return true;
        }
        std::uint32_t count = 0;
        for (;;) {
            skip_space();
            if (at_end() || peek() != '"') return fail("expected a member name in quotes");
            std::string_view name;
            bool escaped = false;
            std::size_t shrink = 0;
            if (!string(name, escaped, shrink)) return false;
            if (escaped) name = decoded_name(name);
            skip_space();
            if (at_end() || peek() != ':') return fail("expected ':' after a member name");
            ++pos_;
            skip_space();
            const std::size_t child = nodes().size();
            if (!value(depth)) return false;
            nodes()[child].key = name;
            ++count;
            skip_space();
            if (at_end()) return fail("unexpected end of input in an object");
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') break;
            return fail("expected ',' or '}' in an object");
        }
        nodes()[index].count = count;
        // Duplicate keys would make the request mean two things.
        if (has_duplicate_names(index)) return fail("duplicate member name");
        ++pos_;  // '}'
        return true;
    }

    bool array(std::size_t index, int depth) {
        if (depth > max_depth_) return fail("nesting too deep");
        nodes()[index].type = Type::Array;
        ++pos_;  // '['
        skip_space();
        if (!at_end() && peek() == ']') {
            ++pos_;
            return true;
        }
        std::uint32_t count = 0;
        for (;;) {
            skip_space();
            if (!value(depth)) return false;
            ++count;
            skip_space();
            if (at_end()) return fail("unexpected end of input in an array");
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') break;
            return fail("expected ',' or ']' in an array");
        }
        nodes()[index].count = count;
        ++pos_;  // ']'
        return true;
    }

    // A name with escapes, decoded into the document's name buffer (see Document::names_).
    std::string_view decoded_name(std::string_view encoded) {
        std::string& buffer = document_.names_;
        if (buffer.capacity() < text_.size()) buffer.reserve(text_.size());
        const std::size_t start = buffer.size();
        append_decoded(encoded, buffer);  // within the reserved capacity: no reallocation
        return std::string_view(buffer).substr(start);
    }

    bool hex4() {
        if (text_.size() - pos_ < 4) return fail("truncated \\u escape");
        for (int i = 0; i < 4; ++i) {
            if (hex_digit(text_[pos_++]) < 0) return fail("invalid \\u escape");
        }
        return true;
    }

    // Checks the escape at pos_ and moves past it; nothing is decoded here. shrink grows by
    // how much shorter the decoded form is.
    bool escape(std::size_t& shrink) {
        ++pos_;  // '\'
        if (at_end()) return fail("unexpected end of input in an escape");
        const char c = text_[pos_++];
        if (is_short_escape(c)) {
            shrink += 1;
            return true;
        }
        if (c != 'u') return fail("invalid escape");
        const std::size_t digits = pos_;
        if (!hex4()) return false;
        const unsigned cp = hex4_at(text_.data() + digits);
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired low surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") return fail("unpaired high surrogate");
            pos_ += 2;
            const std::size_t low_digits = pos_;
            if (!hex4()) return false;
            const unsigned low = hex4_at(text_.data() + low_digits);
            if (low < 0xDC00 || low > 0xDFFF) return fail("unpaired high surrogate");
            shrink += 12 - 4;  // two escapes, one four-byte UTF-8 sequence
            return true;
        }
        shrink += 6 - (cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3);
        return true;
    }

    // Validates the string at pos_ (opening quote) and returns its contents as written; shrink
    // grows by how much shorter the decoded value is.
    bool string(std::string_view& contents, bool& escaped, std::size_t& shrink) {
        ++pos_;  // opening quote
        const std::size_t start = pos_;
#if defined(__SSE2__)
        // Names and most short values end, unescaped, within sixteen bytes: one probe
        // instead of the scanning calls below.
        if (pos_ + 16 <= text_.size()) {
            const int mask = special_bytes16(text_.data() + pos_);
            if (mask != 0) {
                const auto first = static_cast<std::size_t>(__builtin_ctz(mask));
                if (text_[pos_ + first] == '"') {
                    contents = text_.substr(start, first);
                    pos_ += first + 1;
                    return true;
                }
            }
        }
#endif
        for (;;) {
#if defined(RELAYTRUST_JSON_AVX2)
            if (kHasAvx2) {
                std::size_t skipped = 0;
                pos_ = skim_string_avx2(text_.data(), text_.size(), pos_, skipped);
                if (skipped != 0) escaped = true;
                shrink += skipped;
            }
#endif
            pos_ = plain_run_end(pos_);
            if (at_end()) return fail("unterminated string");
            const char c = peek();
            if (c == '"') {
                contents = text_.substr(start, pos_ - start);
                ++pos_;
                return true;
            }
            if (c != '\\') return fail("control character in a string");
            escaped = true;
            // Runs of the common escapes (a body has \r\n on every line) without a call or a
            // fresh scan between them.
            while (pos_ + 1 < text_.size() && text_[pos_] == '\\' &&
                   is_short_escape(text_[pos_ + 1])) {
                pos_ += 2;
                ++shrink;
            }
            if (!at_end() && peek() == '\\' && !escape(shrink)) return false;
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
        while (i + 16 <= text_.size()) {
            const int mask = special_bytes16(text_.data() + i);
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

#if defined(__SSE2__)
    // Bit k set where p[k] (k < 16) is '"', '\\' or below 0x20.
    static int special_bytes16(const char* p) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i sign = _mm_set1_epi8(static_cast<char>(0x80));
        // Unsigned c < 0x20 as a signed compare after flipping the sign bits.
        const __m128i control =
            _mm_cmplt_epi8(_mm_xor_si128(chunk, sign), _mm_xor_si128(_mm_set1_epi8(0x20), sign));
        return _mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('"')),
                                      _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'))),
                         control));
    }
#endif

    static bool is_special(char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c == '"' || c == '\\' || c < 0x20;
    }

    static bool is_digit(char c) {
        return c >= '0' && c <= '9';
    }

    bool number(Node& out) {
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
        out.type = integer && fits ? Type::Integer : Type::Number;
        out.negative = negative && magnitude != 0;
        out.magnitude = magnitude;
        return true;
    }

    Document& document_;
    std::string_view text_;
    int max_depth_;
    std::size_t pos_ = 0;
    std::string error_;
    // Two member names with at most a handful of siblings are compared pairwise; a large
    // object (nothing Stalwart sends, but anyone can) is sorted first, so a crafted body
    // cannot make the check quadratic.
    bool has_duplicate_names(std::size_t object) {
        const std::vector<Node>& all = nodes();
        const std::size_t end = all.size();
        if (all[object].count <= 16) {
            for (std::size_t i = object + 1; i < end; i = all[i].end) {
                for (std::size_t j = object + 1; j < i; j = all[j].end) {
                    if (all[i].key == all[j].key) return true;
                }
            }
            return false;
        }
        names_.clear();
        for (std::size_t i = object + 1; i < end; i = all[i].end)
            names_.push_back(all[i].key);
        std::sort(names_.begin(), names_.end());
        return std::adjacent_find(names_.begin(), names_.end()) != names_.end();
    }

    std::vector<std::string_view> names_;  // a large object's member names, sorted
};

bool Document::parse(std::string_view text, std::string& error, int max_depth) {
    Reader reader(*this, text, max_depth);
    if (reader.run()) return true;
    nodes_.clear();
    error = reader.error();
    return false;
}

void Document::release_if_over(std::size_t max_nodes) {
    if (nodes_.capacity() > max_nodes) std::vector<Node>().swap(nodes_);
    if (names_.capacity() > max_nodes * sizeof(Node)) std::string().swap(names_);
}

const Node* Document::find(const Node& object, std::string_view key) const {
    if (!object.is_object()) return nullptr;
    for (const Node* child = first_child(object); child && child < nodes_.data() + object.end;
         child = next_sibling(*child)) {
        if (child->key == key) return child;
    }
    return nullptr;
}

void decode_validated(std::string_view text, std::string& out) {
    out.clear();
    append_decoded(text, out);
}

void Document::decode_into(const Node& node, std::string& out) const {
    if (node.escaped) {
        decode_validated(node.text, out);
    } else {
        out.assign(node.text);
    }
}

std::string Document::string(const Node& node) const {
    std::string out;
    decode_into(node, out);
    return out;
}

}  // namespace relaytrust::hookd::json
