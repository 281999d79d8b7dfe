#include "hook_response.h"

#include <array>
#include <string_view>

namespace relaytrust::hookd {

namespace {

constexpr std::array<std::string_view, 4> kActionNames = {"accept", "discard", "reject",
                                                          "quarantine"};
constexpr std::array<std::string_view, 8> kModificationNames = {
    "changeFrom", "addRecipient", "deleteRecipient", "replaceContents",
    "addHeader",  "insertHeader", "changeHeader",    "deleteHeader"};

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid
// (overlongs, surrogates and code points above U+10FFFF are invalid, as in Rust's str).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length;
    unsigned char min_second = 0x80, max_second = 0xBF;
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) min_second = 0xA0;
        if (lead == 0xED) max_second = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) min_second = 0x90;
        if (lead == 0xF4) max_second = 0x8F;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
    for (std::size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return length;
}

// Printable ASCII other than '"' and '\\': copied as it is. A table: one load per byte.
constexpr std::array<bool, 256> kPlainJsonByte = [] {
    std::array<bool, 256> plain{};
    for (int byte = 0x20; byte < 0x7f; ++byte)
        plain[byte] = byte != '"' && byte != '\\';
    return plain;
}();

void append_json_string(std::string& out, std::string_view text, bool one_line = false) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < text.size();) {
        // Header values are mostly plain text: copy each run of it in one append.
        std::size_t run_end = i;
        while (run_end < text.size() && kPlainJsonByte[static_cast<unsigned char>(text[run_end])])
            ++run_end;
        if (run_end != i) {
            out.append(text.substr(i, run_end - i));
            i = run_end;
            continue;
        }
        const char c = text[i];
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80) {
            const std::size_t length = utf8_sequence_length(text, i);
            if (length == 0) {
                out += "\xEF\xBF\xBD";  // U+FFFD
                ++i;
            } else {
                out.append(text.substr(i, length));
                i += length;
            }
            continue;
        }
        ++i;
        if (one_line && (c == '\r' || c == '\n')) {
            out += ' ';
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (byte < 0x20 || byte == 0x7f) {
                    out += "\\u00";
                    out += kHex[byte >> 4];
                    out += kHex[byte & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void append_modification(std::string& out, const HookModification& m) {
    using Type = HookModification::Type;
    out += "{\"type\":";
    append_json_string(out, hook_modification_type_name(m.type));
    switch (m.type) {
        case Type::InsertHeader:
        case Type::ChangeHeader:
        case Type::DeleteHeader:
            out += ",\"index\":";
            out += std::to_string(m.index);
            out += ",\"name\":";
            append_json_string(out, m.name);
            if (m.type != Type::DeleteHeader) {
                out += ",\"value\":";
                append_json_string(out, m.value);
            }
            break;
        case Type::AddHeader:
            out += ",\"name\":";
            append_json_string(out, m.name);
            out += ",\"value\":";
            append_json_string(out, m.value);
            break;
        case Type::ChangeFrom:
        case Type::AddRecipient:
        case Type::DeleteRecipient:
        case Type::ReplaceContents:
            out += ",\"value\":";
            append_json_string(out, m.value);
            break;
    }
    out += '}';
}

}  // namespace

std::string_view hook_action_name(HookAction action) {
    return kActionNames[static_cast<std::size_t>(action)];
}

std::string_view hook_modification_type_name(HookModification::Type type) {
    return kModificationNames[static_cast<std::size_t>(type)];
}

std::string encode_hook_response(const HookResponse& response) {
    std::string out;
    std::size_t estimate = 64;
    for (const auto& m : response.modifications)
        estimate += m.name.size() + m.value.size() + 64;
    out.reserve(estimate);
    out += "{\"action\":";
    append_json_string(out, hook_action_name(response.action));
    if (response.reply) {
        const HookSmtpReply& reply = *response.reply;
        out += ",\"response\":{\"status\":";
        out += std::to_string(reply.status);
        // snake_case on purpose: Stalwart silently ignores "enhancedStatus".
        if (!reply.enhanced_status.empty()) {
            out += ",\"enhanced_status\":";
            append_json_string(out, reply.enhanced_status, true);
        }
        out += ",\"message\":";
        append_json_string(out, reply.message, true);
        out += ",\"disconnect\":false}";
    }
    if (!response.modifications.empty()) {
        out += ",\"modifications\":[";
        for (std::size_t i = 0; i < response.modifications.size(); ++i) {
            if (i) out += ',';
            append_modification(out, response.modifications[i]);
        }
        out += ']';
    }
    out += '}';
    return out;
}

}  // namespace relaytrust::hookd
