// libFuzzer target for relaytrust-hookd's JSON reader (hookd/json_reader.cpp), which decodes
// every hook request body from the network before anything else looks at it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "json_reader.h"

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
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

// A byte-at-a-time decoder of a JSON string's contents, written apart from the reader's SIMD
// scanner and decoder to compare against. False when the contents are not valid JSON.
bool reference_decode(std::string_view text, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c < 0x20) return false;
        if (c != '\\') {
            out += static_cast<char>(c);
            continue;
        }
        if (++i >= text.size()) return false;
        const char e = text[i];
        const char* simple = "\"\\/bfnrt";
        const char* decoded = "\"\\/\b\f\n\r\t";
        bool done = false;
        for (int k = 0; simple[k] && !done; ++k) {
            if (e == simple[k]) {
                out += decoded[k];
                done = true;
            }
        }
        if (done) continue;
        if (e != 'u') return false;
        auto read4 = [&](std::size_t at, unsigned& v) {
            if (at + 4 > text.size()) return false;
            v = 0;
            for (std::size_t k = at; k < at + 4; ++k) {
                if (hex(text[k]) < 0) return false;
                v = v * 16 + static_cast<unsigned>(hex(text[k]));
            }
            return true;
        };
        unsigned cp = 0;
        if (!read4(i + 1, cp)) return false;
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low = 0;
            if (i + 2 >= text.size() || text[i + 1] != '\\' || text[i + 2] != 'u' ||
                !read4(i + 3, low) || low < 0xDC00 || low > 0xDFFF) {
                return false;
            }
            i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        put_utf8(out, cp);
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using relaytrust::hookd::json::Document;
    using relaytrust::hookd::json::Node;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    Document document;
    std::string error;
    const bool ok = document.parse(text, error, 16);
    // Success and an error message are exclusive.
    if (ok != error.empty()) __builtin_trap();
    if (!ok) return 0;
    // Every node's subtree ends inside the array and after the node; every string is valid
    // and decodes as the reference decoder says, to the size the reader announced.
    std::string decoded;
    std::string expected;
    for (std::size_t i = 0; i < document.size(); ++i) {
        const Node& node = (&document.root())[i];
        if (node.end <= i || node.end > document.size()) __builtin_trap();
        if (node.key.size() > size) __builtin_trap();
        if (node.is_string()) {
            document.decode_into(node, decoded);
            if (!reference_decode(node.text, expected)) __builtin_trap();
            if (decoded != expected || decoded.size() != node.decoded_size) __builtin_trap();
            if (!node.escaped && decoded != node.text) __builtin_trap();
        }
    }
    return 0;
}
