#include "stalwart_rules.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace relaytrust::hookd::test {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string lowercase(std::string text) {
    for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

// Stalwart's strip_brackets: trim, drop a leading "<" and everything from the last ">".
std::string strip_brackets(std::string_view address) {
    address = trim(address);
    if (!address.empty() && address.front() == '<') {
        address.remove_prefix(1);
        if (auto close = address.rfind('>'); close != std::string_view::npos) {
            address = address.substr(0, close);
        }
        return std::string(trim(address));
    }
    return std::string(address);
}

bool rust_ascii_whitespace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

std::string require_string(const Json::Value& item, const char* key) {
    if (!item.isMember(key) || !item[key].isString()) {
        throw std::runtime_error(std::string("modification needs string '") + key + "'");
    }
    return item[key].asString();
}

std::uint32_t require_index(const Json::Value& item) {
    const Json::Value& index = item["index"];
    if (!(index.type() == Json::intValue || index.type() == Json::uintValue) || !index.isUInt()) {
        throw std::runtime_error("modification needs an unsigned 32-bit 'index'");
    }
    return index.asUInt();
}

}  // namespace

WireModification decode_wire_modification(const Json::Value& item) {
    if (!item.isObject()) throw std::runtime_error("modification is not an object");
    WireModification m;
    m.type = require_string(item, "type");
    if (m.type == "changeFrom" || m.type == "addRecipient" || m.type == "deleteRecipient" ||
        m.type == "replaceContents") {
        m.value = require_string(item, "value");
    } else if (m.type == "addHeader") {
        m.name = require_string(item, "name");
        m.value = require_string(item, "value");
    } else if (m.type == "insertHeader" || m.type == "changeHeader") {
        m.index = require_index(item);
        m.name = require_string(item, "name");
        m.value = require_string(item, "value");
    } else if (m.type == "deleteHeader") {
        m.index = require_index(item);
        m.name = require_string(item, "name");
    } else {
        throw std::runtime_error("unknown modification type '" + m.type + "'");
    }
    return m;
}

std::vector<WireModification> decode_wire_modifications(const Json::Value& array) {
    std::vector<WireModification> out;
    for (const auto& item : array)
        out.push_back(decode_wire_modification(item));
    return out;
}

StalwartMessage parse_stalwart_message(std::string_view raw) {
    StalwartMessage message;
    std::size_t pos = 0;
    auto line_end = [&](std::size_t from) {
        const std::size_t nl = raw.find('\n', from);
        return nl == std::string_view::npos ? raw.size() : nl + 1;
    };
    while (pos < raw.size()) {
        const std::size_t end = line_end(pos);
        const std::string_view line = raw.substr(pos, end - pos);
        if (line == "\r\n" || line == "\n") {
            pos = end;
            break;
        }
        // A header: its first line, then every continuation line starting with SP/HT.
        std::size_t header_end = end;
        while (header_end < raw.size() && (raw[header_end] == ' ' || raw[header_end] == '\t')) {
            header_end = line_end(header_end);
        }
        const std::string_view header = raw.substr(pos, header_end - pos);
        const std::size_t colon = header.find(':');
        if (colon == std::string_view::npos) throw std::runtime_error("header without colon");
        message.headers.emplace_back(std::string(header.substr(0, colon)),
                                     std::string(header.substr(colon + 1)));
        pos = header_end;
    }
    message.raw_headers = std::string(raw.substr(0, pos));
    message.raw_body = std::string(raw.substr(pos));
    return message;
}

std::string apply_stalwart_modifications(const std::vector<WireModification>& modifications,
                                         std::string_view raw_message, StalwartEnvelope* envelope) {
    const StalwartMessage message = parse_stalwart_message(raw_message);
    std::string body;
    // (index, name, value, is_change) as Stalwart collects them.
    std::vector<std::tuple<std::uint32_t, std::string, std::string, bool>> header_changes;
    bool needs_rewrite = false;
    auto in_original = [&](const std::string& name) {
        return std::any_of(message.headers.begin(), message.headers.end(),
                           [&](const auto& h) { return iequals(h.first, name); });
    };

    for (const auto& m : modifications) {
        if (m.type == "changeFrom") {
            if (envelope) {
                const std::string sender = strip_brackets(m.value);
                envelope->from = sender;
            }
        } else if (m.type == "addRecipient") {
            const std::string rcpt = strip_brackets(m.value);
            if (envelope && rcpt.find('@') != std::string::npos) {
                const std::string lower = lowercase(rcpt);
                if (std::find(envelope->to.begin(), envelope->to.end(), lower) ==
                    envelope->to.end()) {
                    envelope->to.push_back(lower);
                }
            }
        } else if (m.type == "deleteRecipient") {
            if (envelope) {
                const std::string rcpt = strip_brackets(m.value);  // not lowercased
                std::erase(envelope->to, rcpt);
            }
        } else if (m.type == "replaceContents") {
            body += m.value;  // several in one list are concatenated
        } else if (m.type == "addHeader") {
            header_changes.emplace_back(0, m.name, m.value, false);
        } else if (m.type == "insertHeader") {
            header_changes.emplace_back(m.index, m.name, m.value, false);
            needs_rewrite = true;
        } else if (m.type == "changeHeader" || m.type == "deleteHeader") {
            const std::string value = m.type == "deleteHeader" ? "" : m.value;
            if (value.empty() || in_original(m.name)) {
                header_changes.emplace_back(m.index, m.name, value, true);
                needs_rewrite = true;
            } else {
                header_changes.emplace_back(0, m.name, value, false);  // added on top
            }
        }
    }

    if (header_changes.empty()) {
        if (body.empty()) return std::string(raw_message);
        return message.raw_headers + body;
    }
    const std::string& new_body = body.empty() ? message.raw_body : body;

    std::string out;
    if (!needs_rewrite) {
        // Only additions: written in list order above the untouched header block.
        for (const auto& [index, name, value, is_change] : header_changes) {
            out += name + ": " + value;
            if (!value.ends_with('\n')) out += "\r\n";
        }
        return out + message.raw_headers + new_body;
    }

    auto headers = message.headers;
    for (const auto& [index, name, value, is_change] : header_changes) {
        if (is_change) {
            // The index-th header called name (1-based); "" deletes it; no such one: nothing.
            std::uint32_t count = 0;
            for (auto it = headers.begin(); it != headers.end(); ++it) {
                if (!iequals(it->first, name) || ++count != index) continue;
                if (value.empty()) {
                    headers.erase(it);
                } else {
                    it->second = value;
                }
                break;
            }
        } else {
            // Before the index-th header called name, or before the last one if there are
            // fewer; on top when there is none or index is 0.
            std::size_t position = 0;
            if (index > 0) {
                std::uint32_t count = 0;
                for (std::size_t i = 0; i < headers.size(); ++i) {
                    if (!iequals(headers[i].first, name)) continue;
                    position = i;
                    if (++count == index) break;
                }
            }
            headers.insert(headers.begin() + static_cast<std::ptrdiff_t>(position), {name, value});
        }
    }
    for (const auto& [name, value] : headers) {
        out += name;
        out += !value.empty() && rust_ascii_whitespace(value.front()) ? ":" : ": ";
        out += value;
        if (!value.ends_with('\n')) out += "\r\n";
    }
    return out + "\r\n" + new_body;
}

}  // namespace relaytrust::hookd::test
