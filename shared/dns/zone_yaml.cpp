#include "dns/zone_yaml.h"

#include <cstdint>
#include <optional>

namespace relaytrust::dns::yaml {

const Node* Node::find(std::string_view key) const {
    for (const auto& [name, value] : fields) {
        if (name == key) return &value;
    }
    return nullptr;
}

namespace {

struct Line {
    std::string text;
    int number = 0;
};

struct ParseError {
    int line;
    std::string message;
};

int indent_of(std::string_view text) {
    int indent = 0;
    while (indent < int(text.size()) && text[indent] == ' ')
        ++indent;
    return indent;
}

// Empty, whitespace only, or a comment line.
bool is_blank(std::string_view text) {
    const std::size_t first = text.find_first_not_of(' ');
    return first == std::string_view::npos || text[first] == '#';
}

std::string_view trim_right(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    return trim_right(text);
}

// Cuts a trailing " # comment" from plain text (a '#' right after a non-space is content).
std::string_view strip_comment(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t'))
            return trim_right(text.substr(0, i));
    }
    return trim_right(text);
}

void append_utf8(std::string& out, std::uint32_t code_point) {
    if (code_point < 0x80) {
        out += char(code_point);
    } else if (code_point < 0x800) {
        out += char(0xc0 | (code_point >> 6));
        out += char(0x80 | (code_point & 0x3f));
    } else if (code_point < 0x10000) {
        out += char(0xe0 | (code_point >> 12));
        out += char(0x80 | ((code_point >> 6) & 0x3f));
        out += char(0x80 | (code_point & 0x3f));
    } else {
        out += char(0xf0 | (code_point >> 18));
        out += char(0x80 | ((code_point >> 12) & 0x3f));
        out += char(0x80 | ((code_point >> 6) & 0x3f));
        out += char(0x80 | (code_point & 0x3f));
    }
}

bool is_plain_null(std::string_view text) {
    return text == "~" || text == "null" || text == "Null" || text == "NULL";
}

class Parser {
  public:
    explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

    Node parse_document() {
        Node root = parse_block(-1);
        skip_blank();
        if (pos_ < lines_.size()) fail("unexpected content (indentation?)");
        return root;
    }

  private:
    std::vector<Line> lines_;
    std::size_t pos_ = 0;

    [[noreturn]] void fail(const std::string& message) const {
        const int number = pos_ < lines_.size() ? lines_[pos_].number
                           : lines_.empty()     ? 0
                                                : lines_.back().number;
        throw ParseError{number, message};
    }

    void skip_blank() {
        while (pos_ < lines_.size() && is_blank(lines_[pos_].text))
            ++pos_;
    }

    static bool is_sequence_entry(std::string_view content) {
        return !content.empty() && content[0] == '-' && (content.size() == 1 || content[1] == ' ');
    }

    // Finds the ':' that ends a mapping key in `content`; npos when the line is not a key line.
    static std::size_t key_colon(std::string_view content) {
        if (content.empty() || content[0] == '[' || content[0] == '{' || content[0] == '#' ||
            is_sequence_entry(content))
            return std::string_view::npos;
        std::size_t i = 0;
        if (content[0] == '"' || content[0] == '\'') {
            const char quote = content[0];
            for (i = 1; i < content.size(); ++i) {
                if (quote == '"' && content[i] == '\\') {
                    ++i;
                } else if (content[i] == quote) {
                    if (quote == '\'' && i + 1 < content.size() && content[i + 1] == '\'') {
                        ++i;
                        continue;
                    }
                    break;
                }
            }
            if (i >= content.size()) return std::string_view::npos;
            ++i;
            while (i < content.size() && content[i] == ' ')
                ++i;
            if (i < content.size() && content[i] == ':' &&
                (i + 1 == content.size() || content[i + 1] == ' '))
                return i;
            return std::string_view::npos;
        }
        for (; i < content.size(); ++i) {
            if (content[i] == '#' && i > 0 && content[i - 1] == ' ') return std::string_view::npos;
            if (content[i] == ':' && (i + 1 == content.size() || content[i + 1] == ' ')) return i;
        }
        return std::string_view::npos;
    }

    std::string parse_key(std::string_view key_text) {
        key_text = trim(key_text);
        if (!key_text.empty() && (key_text[0] == '"' || key_text[0] == '\'')) {
            std::size_t end = 0;
            std::string key = quoted_on_line(key_text, end);
            return key;
        }
        if (key_text == "?" ||
            (!key_text.empty() && (key_text[0] == '&' || key_text[0] == '*' || key_text[0] == '!')))
            fail("complex keys, anchors, aliases and tags are not supported");
        return std::string(key_text);
    }

    // A quoted scalar that must close on this line (keys, flow items). `end` is the index after
    // the closing quote.
    std::string quoted_on_line(std::string_view text, std::size_t& end) {
        std::string value;
        const char quote = text[0];
        std::size_t i = 1;
        for (; i < text.size(); ++i) {
            const char c = text[i];
            if (c == quote) {
                if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
                    value += '\'';
                    ++i;
                    continue;
                }
                end = i + 1;
                return value;
            }
            if (quote == '"' && c == '\\') {
                i = read_escape(text, i, value);
                continue;
            }
            value += c;
        }
        fail("unterminated quoted scalar");
    }

    // Decodes the escape at text[i] == '\\'; returns the index of its last character.
    std::size_t read_escape(std::string_view text, std::size_t i, std::string& out) {
        if (i + 1 >= text.size()) fail("dangling backslash");
        const char kind = text[i + 1];
        auto hex = [&](std::size_t digits) -> std::size_t {
            // The digits sit at text[i + 2] .. text[i + 1 + digits].
            if (i + 1 + digits >= text.size()) fail("truncated \\x/\\u escape");
            std::uint32_t code_point = 0;
            for (std::size_t k = 0; k < digits; ++k) {
                const char h = text[i + 2 + k];
                code_point <<= 4;
                if (h >= '0' && h <= '9') {
                    code_point |= std::uint32_t(h - '0');
                } else if (h >= 'a' && h <= 'f') {
                    code_point |= std::uint32_t(h - 'a' + 10);
                } else if (h >= 'A' && h <= 'F') {
                    code_point |= std::uint32_t(h - 'A' + 10);
                } else {
                    fail("bad hex digit in escape");
                }
            }
            append_utf8(out, code_point);
            return i + 1 + digits;
        };
        switch (kind) {
            case '0':
                out += '\0';
                break;
            case 'a':
                out += '\a';
                break;
            case 'b':
                out += '\b';
                break;
            case 't':
            case '\t':
                out += '\t';
                break;
            case 'n':
                out += '\n';
                break;
            case 'v':
                out += '\v';
                break;
            case 'f':
                out += '\f';
                break;
            case 'r':
                out += '\r';
                break;
            case 'e':
                out += '\x1b';
                break;
            case ' ':
                out += ' ';
                break;
            case '"':
                out += '"';
                break;
            case '/':
                out += '/';
                break;
            case '\\':
                out += '\\';
                break;
            case 'N':
                append_utf8(out, 0x85);
                break;
            case '_':
                append_utf8(out, 0xa0);
                break;
            case 'L':
                append_utf8(out, 0x2028);
                break;
            case 'P':
                append_utf8(out, 0x2029);
                break;
            case 'x':
                return hex(2);
            case 'u':
                return hex(4);
            case 'U':
                return hex(8);
            default:
                fail(std::string("unknown escape \\") + kind);
        }
        return i + 1;
    }

    // A quoted scalar starting at lines_[pos_].text[column], possibly continued on following
    // lines (YAML line folding). Leaves pos_ on the line after the scalar.
    Node quoted_scalar(std::size_t column) {
        Node node;
        node.kind = Node::Kind::Scalar;
        node.quoted = true;
        node.line = lines_[pos_].number;
        std::string_view text = lines_[pos_].text;
        const char quote = text[column];
        std::size_t i = column + 1;
        std::string pending_space;  // whitespace that is kept only if the line does not end
        int empty_lines = 0;
        bool continued = false;
        while (true) {
            for (; i < text.size(); ++i) {
                const char c = text[i];
                if (c == quote) {
                    if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
                        node.scalar += pending_space;
                        pending_space.clear();
                        node.scalar += '\'';
                        ++i;
                        continue;
                    }
                    node.scalar += pending_space;
                    const std::string_view rest = strip_comment(text.substr(i + 1));
                    if (!trim(rest).empty()) fail("text after closing quote");
                    ++pos_;
                    return node;
                }
                if (quote == '"' && c == '\\') {
                    if (i + 1 == text.size()) {  // escaped line break: join without space
                        pending_space.clear();
                        continued = true;
                        break;
                    }
                    node.scalar += pending_space;
                    pending_space.clear();
                    i = read_escape(text, i, node.scalar);
                    continue;
                }
                if (c == ' ' || c == '\t') {
                    pending_space += c;
                } else {
                    node.scalar += pending_space;
                    pending_space.clear();
                    node.scalar += c;
                }
            }
            // Line break inside the scalar: trailing blanks go, then fold.
            if (!continued) pending_space.clear();
            ++pos_;
            empty_lines = 0;
            while (pos_ < lines_.size() && trim(lines_[pos_].text).empty()) {
                ++empty_lines;
                ++pos_;
            }
            if (pos_ >= lines_.size()) fail("unterminated quoted scalar");
            if (!continued) {
                if (empty_lines > 0) {
                    node.scalar.append(std::size_t(empty_lines), '\n');
                } else {
                    pending_space = " ";
                }
            }
            continued = false;
            text = lines_[pos_].text;
            i = std::size_t(indent_of(text));
        }
    }

    static void skip_spaces(std::string_view text, std::size_t& i) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
    }

    // One flow node ([...], {...}, quoted or plain scalar) at text[i]; advances i past it.
    Node flow_node(std::string_view text, std::size_t& i, int line_number, bool in_mapping) {
        skip_spaces(text, i);
        Node node;
        node.line = line_number;
        if (i >= text.size()) fail("unterminated flow collection");
        const char first = text[i];
        if (first == '[' || first == '{') {
            const char close = first == '[' ? ']' : '}';
            node.kind = first == '[' ? Node::Kind::Sequence : Node::Kind::Mapping;
            ++i;
            while (true) {
                skip_spaces(text, i);
                if (i >= text.size()) fail("unterminated flow collection");
                if (text[i] == close) {
                    ++i;
                    return node;
                }
                if (node.kind == Node::Kind::Sequence) {
                    node.items.push_back(flow_node(text, i, line_number, false));
                } else {
                    Node key = flow_node(text, i, line_number, true);
                    if (!key.is_scalar()) fail("flow mapping keys must be scalars");
                    skip_spaces(text, i);
                    if (i >= text.size() || text[i] != ':') fail("expected ':' in flow mapping");
                    ++i;
                    skip_spaces(text, i);
                    Node value;
                    value.line = line_number;
                    if (i < text.size() && text[i] != ',' && text[i] != '}')
                        value = flow_node(text, i, line_number, false);
                    node.fields.push_back(Field{std::move(key.scalar), std::move(value)});
                }
                skip_spaces(text, i);
                if (i < text.size() && text[i] == ',') {
                    ++i;
                } else if (i >= text.size() || text[i] != close) {
                    fail(std::string("expected ',' or '") + close + "' in flow collection");
                }
            }
        }
        if (first == '"' || first == '\'') {
            std::size_t end = 0;
            node.kind = Node::Kind::Scalar;
            node.quoted = true;
            node.scalar = quoted_on_line(text.substr(i), end);
            i += end;
            return node;
        }
        if (first == '&' || first == '*' || first == '!')
            fail("anchors, aliases and tags are not supported");
        // Plain scalar: ends at a flow indicator, or at ": " when it is a mapping key.
        const std::size_t start = i;
        while (i < text.size() && text[i] != ',' && text[i] != ']' && text[i] != '}') {
            if (text[i] == ':' && (i + 1 == text.size() || text[i + 1] == ' ' ||
                                   (in_mapping && (text[i + 1] == ',' || text[i + 1] == '}'))))
                break;
            ++i;
        }
        const std::string_view plain = trim(text.substr(start, i - start));
        if (plain.empty() && !in_mapping) fail("empty entry in flow collection");
        if (is_plain_null(plain) && !in_mapping) {
            node.kind = Node::Kind::Null;
        } else {
            node.kind = Node::Kind::Scalar;
            node.scalar = std::string(plain);
        }
        return node;
    }

    // A flow collection starting at `column` of the current line; it may continue over the
    // following lines until its brackets balance. Leaves pos_ on the line after it.
    Node flow_collection(std::size_t column) {
        const int line_number = lines_[pos_].number;
        std::string text(lines_[pos_].text.substr(column));
        int depth = 0;
        std::size_t scanned = 0;
        char quote = 0;
        while (true) {
            for (; scanned < text.size(); ++scanned) {
                const char c = text[scanned];
                if (quote) {
                    if (quote == '"' && c == '\\') {
                        ++scanned;
                    } else if (c == quote) {
                        quote = 0;
                    }
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '[' || c == '{') {
                    ++depth;
                } else if (c == ']' || c == '}') {
                    --depth;
                } else if (c == '#' && scanned > 0 && text[scanned - 1] == ' ' && depth > 0) {
                    text.erase(scanned);  // comment inside a multi-line collection
                    break;
                }
                if (depth == 0) break;
            }
            if (depth == 0 || quote) break;
            ++pos_;
            if (pos_ >= lines_.size()) fail("unterminated flow collection");
            text += ' ';
            text += trim(lines_[pos_].text);
        }
        if (quote) fail("quoted scalars inside flow collections must close on their line");
        std::size_t i = 0;
        Node node = flow_node(text, i, line_number, false);
        if (!trim(strip_comment(std::string_view(text).substr(i))).empty())
            fail("text after flow collection");
        ++pos_;
        return node;
    }

    Node block_scalar(std::string_view header, int parent_indent) {
        Node node;
        node.kind = Node::Kind::Scalar;
        node.line = lines_[pos_].number;
        const bool folded = header[0] == '>';
        char chomping = ' ';
        int explicit_indent = 0;
        for (const char c : strip_comment(header.substr(1))) {
            if (c == '-' || c == '+') {
                chomping = c;
            } else if (c >= '1' && c <= '9') {
                explicit_indent = c - '0';
            } else if (c != ' ') {
                fail("bad block scalar header");
            }
        }
        ++pos_;
        int content_indent = explicit_indent > 0 ? parent_indent + explicit_indent : -1;
        std::vector<std::string_view> content;
        while (pos_ < lines_.size()) {
            // Trailing blanks are content in block scalars (only '\r' was dropped on reading).
            const std::string_view text = lines_[pos_].text;
            if (text.find_first_not_of(' ') == std::string_view::npos) {
                content.emplace_back();
                ++pos_;
                continue;
            }
            const int indent = indent_of(text);
            if (content_indent < 0) {
                if (indent <= parent_indent) break;
                content_indent = indent;
            }
            if (indent < content_indent) break;
            content.push_back(text.substr(std::size_t(content_indent)));
            ++pos_;
        }
        std::size_t trailing_empty = 0;
        while (!content.empty() && content.back().empty()) {
            content.pop_back();
            ++trailing_empty;
        }
        auto more_indented = [](std::string_view piece) {
            return !piece.empty() && (piece[0] == ' ' || piece[0] == '\t');
        };
        std::string value;
        std::optional<std::size_t> last_text_line;
        for (std::size_t k = 0; k < content.size(); ++k) {
            const std::string_view piece = content[k];
            if (k > 0) {
                if (!folded) {
                    value += '\n';
                } else if (piece.empty()) {
                    value += '\n';  // folding keeps each empty line as one newline
                } else if (!last_text_line) {
                    value += '\n';
                } else if (more_indented(piece) || more_indented(content[*last_text_line])) {
                    value += '\n';  // breaks around more-indented lines are kept
                } else if (!content[k - 1].empty()) {
                    value += ' ';  // a single break between two text lines folds to a space
                }
            }
            value += piece;
            if (!piece.empty()) last_text_line = k;
        }
        if (!content.empty()) {
            if (chomping == ' ') value += '\n';
            if (chomping == '+') value.append(trailing_empty + 1, '\n');
        }
        node.scalar = std::move(value);
        return node;
    }

    // The value that starts at `column` of the current line; consumes it and any lines that
    // continue it (folded plain scalars must be indented deeper than `parent_indent`).
    Node inline_value(std::size_t column, int parent_indent) {
        const Line& line = lines_[pos_];
        const std::string_view text = line.text;
        const std::string_view rest = text.substr(column);
        if (rest.empty()) fail("missing value");
        switch (rest[0]) {
            case '"':
            case '\'':
                return quoted_scalar(column);
            case '[':
            case '{':
                return flow_collection(column);
            case '|':
            case '>':
                return block_scalar(rest, parent_indent);
            case '&':
            case '*':
            case '!':
                fail("anchors, aliases and tags are not supported");
            default:
                break;
        }
        Node node;
        node.line = line.number;
        std::string value(strip_comment(rest));
        ++pos_;
        // Continuation lines of a multi-line plain scalar.
        int empty_lines = 0;
        while (pos_ < lines_.size()) {
            const std::string_view next = lines_[pos_].text;
            if (trim(next).empty()) {
                ++empty_lines;
                ++pos_;
                continue;
            }
            if (indent_of(next) <= parent_indent || is_blank(next)) break;
            const std::string_view content = trim(next);
            if (key_colon(content) != std::string_view::npos || is_sequence_entry(content)) break;
            if (empty_lines > 0) {
                value.append(std::size_t(empty_lines), '\n');
            } else {
                value += ' ';
            }
            empty_lines = 0;
            value += strip_comment(content);
            ++pos_;
        }
        if (empty_lines > 0) {
            // Blank lines after the scalar belong to whatever follows; step back over them so
            // line numbers in errors stay right (they are skipped again anyway).
            pos_ -= std::size_t(empty_lines);
        }
        if (is_plain_null(value)) {
            node.kind = Node::Kind::Null;
        } else {
            node.kind = Node::Kind::Scalar;
            node.scalar = std::move(value);
        }
        return node;
    }

    // A node whose lines are indented deeper than `parent_indent`; Null when there is none.
    Node parse_block(int parent_indent) {
        skip_blank();
        Node node;
        if (pos_ >= lines_.size()) return node;
        const std::string_view text = lines_[pos_].text;
        const int indent = indent_of(text);
        if (indent <= parent_indent) return node;
        if (text.find('\t') < std::size_t(indent)) fail("tabs are not allowed in indentation");
        const std::string_view content = text.substr(std::size_t(indent));
        if (is_sequence_entry(content)) return parse_sequence(indent);
        if (key_colon(content) != std::string_view::npos) return parse_mapping(indent);
        return inline_value(std::size_t(indent), parent_indent);
    }

    Node parse_sequence(int indent) {
        Node node;
        node.kind = Node::Kind::Sequence;
        node.line = lines_[pos_].number;
        while (true) {
            skip_blank();
            if (pos_ >= lines_.size()) break;
            std::string& text = lines_[pos_].text;
            const int line_indent = indent_of(text);
            if (line_indent < indent) break;
            if (line_indent > indent) fail("bad indentation in sequence");
            const std::string_view content = std::string_view(text).substr(std::size_t(indent));
            if (!is_sequence_entry(content)) break;
            const std::size_t after_dash = content.find_first_not_of(' ', 1);
            if (after_dash == std::string_view::npos || content[after_dash] == '#') {
                ++pos_;
                Node item = parse_block(indent);
                node.items.push_back(std::move(item));
                continue;
            }
            // "- key: value" / "- - x" / "- scalar": blank out the dash so the entry reads as
            // a node indented at its own column, then parse it as one.
            text[std::size_t(indent)] = ' ';
            node.items.push_back(parse_block(indent));
        }
        return node;
    }

    Node parse_mapping(int indent) {
        Node node;
        node.kind = Node::Kind::Mapping;
        node.line = lines_[pos_].number;
        while (true) {
            skip_blank();
            if (pos_ >= lines_.size()) break;
            const std::string_view text = lines_[pos_].text;
            const int line_indent = indent_of(text);
            if (line_indent < indent) break;
            if (line_indent > indent) fail("bad indentation in mapping");
            const std::string_view content = text.substr(std::size_t(indent));
            const std::size_t colon = key_colon(content);
            if (colon == std::string_view::npos) {
                if (is_sequence_entry(content)) break;  // parent's sequence at the same column
                fail("expected 'key: value'");
            }
            std::string key = parse_key(content.substr(0, colon));
            const std::size_t value_start = content.find_first_not_of(' ', colon + 1);
            Node value;
            if (value_start == std::string_view::npos || content[value_start] == '#') {
                ++pos_;
                skip_blank();
                // "key:" followed by a sequence at the key's own column is still its value.
                if (pos_ < lines_.size() && indent_of(lines_[pos_].text) == indent &&
                    is_sequence_entry(std::string_view(lines_[pos_].text).substr(indent))) {
                    value = parse_sequence(indent);
                } else {
                    value = parse_block(indent);
                }
            } else {
                value = inline_value(std::size_t(indent) + value_start, indent);
            }
            bool replaced = false;
            for (auto& field : node.fields) {
                if (field.key == key) {  // like PyYAML: a repeated key keeps the last value
                    field.value = std::move(value);
                    replaced = true;
                    break;
                }
            }
            if (!replaced) node.fields.push_back(Field{std::move(key), std::move(value)});
        }
        return node;
    }
};

}  // namespace

Stream parse_stream(std::string_view text) {
    Stream stream;
    std::vector<std::vector<Line>> documents;
    std::vector<Line> current;
    bool explicit_start = false;
    int number = 0;
    auto finish = [&](bool force) {
        bool any = false;
        for (const Line& line : current)
            any = any || !is_blank(line.text);
        if (any || force) documents.push_back(std::move(current));
        current.clear();
    };
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view raw = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++number;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        if (raw == "---" || raw.starts_with("--- ")) {
            finish(explicit_start);
            explicit_start = true;
            const std::string_view inline_content = trim(raw.substr(3));
            if (!inline_content.empty() && inline_content[0] != '#') {
                stream.error =
                    "line " + std::to_string(number) + ": content after '---' is not supported";
                return stream;
            }
            continue;
        }
        if (raw == "...") {
            finish(explicit_start);
            explicit_start = false;
            continue;
        }
        if (raw.starts_with("%")) continue;  // %YAML / %TAG directives
        current.push_back(Line{std::string(raw), number});
    }
    finish(explicit_start);

    for (auto& lines : documents) {
        try {
            stream.documents.push_back(Parser(std::move(lines)).parse_document());
        } catch (const ParseError& error) {
            stream.error = "line " + std::to_string(error.line) + ": " + error.message;
            stream.documents.clear();
            return stream;
        }
    }
    return stream;
}

}  // namespace relaytrust::dns::yaml
