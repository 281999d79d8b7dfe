// Strict Received parser: lex the unfolded value into words, comments and ';' (comments per
// RFC 5322: nested, with quoted pairs; nesting counted, never recursed), then walk the clauses
// of RFC 5321 §4.4: [from X (TCP-info)] by Y [via|with|id|for|<atom> value]... ; date-time.
//
// The HELO word in the from clause is chosen by the client, and some MTAs (Postfix collapses
// "HELO a b c") copy it with spaces and parentheses. So the from clause is read defensively:
// "by" must come right after it, each clause may appear once, and the TCP-info may hold only
// one IP literal. A client that smuggles "(x [192.0.2.66])" into its HELO produces a hop that
// fails to parse instead of one that names a forged address.
#include "headers/received_parser.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "headers/header_text.h"
#include "headers/verdict_header_parser.h"

namespace relaytrust::headers {
namespace {

using text::is_wsp;
using text::quote;

// Real headers nest comments two deep at most ("(ptr [ip] (may be forged))").
constexpr std::size_t kMaxCommentDepth = 16;

// ---- lexer ----------------------------------------------------------------------------------

enum class TokenKind { Word, Comment, Semicolon };

struct Token {
    TokenKind kind;
    std::string_view text;  // Word: the word; Comment: inside the outer parentheses
    std::size_t end;        // offset just past the token in the unfolded value
};

// Scans the comment that opens at value[start] == '('. Returns the offset past its closing
// ')' or an error.
std::string scan_comment(std::string_view value, std::size_t start, std::size_t& end) {
    std::size_t depth = 0;
    for (std::size_t i = start; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '\\') {
            ++i;  // quoted-pair: the next character is literal
        } else if (c == '(') {
            if (++depth > kMaxCommentDepth) return "comments nested too deeply";
        } else if (c == ')' && --depth == 0) {
            end = i + 1;
            return {};
        }
    }
    return "unterminated comment";
}

// A word runs to whitespace, a parenthesis or ';'. Quoted strings inside it (a quoted local
// part in "for <\"a b\"@example>") are taken whole.
std::string scan_word(std::string_view value, std::size_t start, std::size_t& end) {
    std::size_t i = start;
    while (i < value.size()) {
        const char c = value[i];
        if (is_wsp(c) || c == '(' || c == ')' || c == ';') break;
        if (c == '"') {
            ++i;
            while (i < value.size() && value[i] != '"')
                i += value[i] == '\\' ? 2 : 1;
            if (i >= value.size()) return "unterminated quoted string";
        }
        ++i;
    }
    end = i;
    return {};
}

std::string tokenize(std::string_view value, std::vector<Token>& tokens) {
    std::size_t i = 0;
    while (i < value.size()) {
        const char c = value[i];
        if (is_wsp(c)) {
            ++i;
            continue;
        }
        std::size_t end = i + 1;
        if (c == ';') {
            tokens.push_back({TokenKind::Semicolon, value.substr(i, 1), end});
        } else if (c == ')') {
            return "unbalanced ')'";
        } else if (c == '(') {
            if (std::string error = scan_comment(value, i, end); !error.empty()) return error;
            tokens.push_back({TokenKind::Comment, value.substr(i + 1, end - i - 2), end});
        } else {
            if (std::string error = scan_word(value, i, end); !error.empty()) return error;
            tokens.push_back({TokenKind::Word, value.substr(i, end - i), end});
        }
        i = end;
    }
    return {};
}

// Splits a comment's inside into whitespace-separated words, noting each word's nesting depth
// (0 = directly inside the comment). Nested comments' parentheses separate words.
struct CommentWord {
    std::string_view text;
    std::size_t depth;
};

std::vector<CommentWord> comment_words(std::string_view inside) {
    std::vector<CommentWord> words;
    std::size_t depth = 0;
    std::size_t start = 0;
    bool in_word = false;
    const auto flush = [&](std::size_t end) {
        if (in_word) words.push_back({inside.substr(start, end - start), depth});
        in_word = false;
    };
    for (std::size_t i = 0; i < inside.size(); ++i) {
        const char c = inside[i];
        if (is_wsp(c) || c == '(' || c == ')') {
            flush(i);
            if (c == '(') ++depth;
            if (c == ')' && depth > 0) --depth;
            continue;
        }
        if (!in_word) {
            in_word = true;
            start = i;
        }
        if (c == '\\' && i + 1 < inside.size()) ++i;
    }
    flush(inside.size());
    return words;
}

// ---- addresses ------------------------------------------------------------------------------

bool is_ipv4(const std::string& text) {
    in_addr address{};
    return inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool is_ipv6(const std::string& text) {
    in6_addr address{};
    return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

// "[192.0.2.1]", "[IPv6:2001:db8::1]" (Postfix, Sendmail), "[2001:db8::1]" (Exim, Stalwart),
// optionally followed by ":port" (Exim). Sets ip to the address without brackets or prefix.
std::string parse_ip_literal(std::string_view literal, std::string& ip) {
    const std::string invalid = quote(literal) + " is not a valid IP address literal";
    const std::size_t close = literal.find(']');
    if (literal.empty() || literal.front() != '[' || close == std::string_view::npos) {
        return invalid;
    }
    const std::string_view port = literal.substr(close + 1);
    if (!port.empty()) {
        if (port.size() < 2 || port.size() > 6 || port.front() != ':') return invalid;
        for (const char c : port.substr(1)) {
            if (!text::is_digit(c)) return invalid;
        }
    }
    std::string_view address = literal.substr(1, close - 1);
    constexpr std::size_t kMaxAddressText = 45;  // INET6_ADDRSTRLEN - 1
    if (address.size() > 5 && iequals(address.substr(0, 5), "IPv6:")) {
        address.remove_prefix(5);
        if (address.size() > kMaxAddressText || !is_ipv6(std::string(address))) return invalid;
    } else {
        const std::string candidate(address.substr(0, kMaxAddressText + 1));
        if (address.size() > kMaxAddressText || (!is_ipv4(candidate) && !is_ipv6(candidate))) {
            return invalid;
        }
    }
    ip = std::string(address);
    return {};
}

// ---- date -----------------------------------------------------------------------------------

constexpr std::array<std::string_view, 7> kDayNames = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

template <std::size_t N>
bool is_one_of(std::string_view word, const std::array<std::string_view, N>& names) {
    for (const std::string_view name : names) {
        if (iequals(word, name)) return true;
    }
    return false;
}

bool all_digits(std::string_view text, std::size_t min_size, std::size_t max_size) {
    if (text.size() < min_size || text.size() > max_size) return false;
    for (const char c : text) {
        if (!text::is_digit(c)) return false;
    }
    return true;
}

int two_digits(std::string_view text) {
    return (text[0] - '0') * 10 + (text[1] - '0');
}

// hh:mm or hh:mm:ss
bool is_time_of_day(std::string_view word) {
    if (word.size() != 5 && word.size() != 8) return false;
    if (!all_digits(word.substr(0, 2), 2, 2) || word[2] != ':' ||
        !all_digits(word.substr(3, 2), 2, 2)) {
        return false;
    }
    if (two_digits(word.substr(0, 2)) > 23 || two_digits(word.substr(3, 2)) > 59) return false;
    if (word.size() == 8) {
        if (word[5] != ':' || !all_digits(word.substr(6, 2), 2, 2)) return false;
        if (two_digits(word.substr(6, 2)) > 60) return false;  // 60: leap second
    }
    return true;
}

// +hhmm / -hhmm, or an obsolete alphabetic zone (UT, GMT, EST, ... per RFC 5322 §4.3).
bool is_zone(std::string_view word) {
    if (word.size() == 5 && (word[0] == '+' || word[0] == '-')) {
        return all_digits(word.substr(1), 4, 4) && two_digits(word.substr(3, 2)) <= 59;
    }
    if (word.empty() || word.size() > 5) return false;
    for (const char c : word) {
        if (!text::is_alpha(c)) return false;
    }
    return true;
}

// RFC 5322 date-time: [day-name ","] day month year hh:mm[:ss] zone, comments ignored.
std::string check_date(const std::vector<Token>& tokens, std::size_t first) {
    std::vector<std::string_view> words;
    for (std::size_t i = first; i < tokens.size(); ++i) {
        if (tokens[i].kind != TokenKind::Word) continue;
        std::string_view word = tokens[i].text;
        // "Tue," or "Tue,1": split the day name off at its comma.
        if (const std::size_t comma = word.find(','); comma != std::string_view::npos) {
            words.push_back(word.substr(0, comma));
            word.remove_prefix(comma + 1);
            if (word.empty()) continue;
        }
        words.push_back(word);
    }
    if (words.empty()) return "date: missing after ';'";

    std::size_t next = 0;
    if (!words[0].empty() && text::is_alpha(words[0][0])) {
        if (!is_one_of(words[0], kDayNames)) return "date: unknown day name " + quote(words[0]);
        ++next;
    }
    const auto take = [&]() -> std::string_view {
        return next < words.size() ? words[next++] : std::string_view{};
    };
    const std::string_view day = take();
    if (!all_digits(day, 1, 2) || day == "0" || day == "00" ||
        (day.size() == 2 && two_digits(day) > 31)) {
        return "date: expected a day of month, got " + quote(day);
    }
    const std::string_view month = take();
    if (!is_one_of(month, kMonthNames)) return "date: expected a month name, got " + quote(month);
    const std::string_view year = take();
    if (!all_digits(year, 2, 4)) return "date: expected a year, got " + quote(year);
    const std::string_view time = take();
    if (!is_time_of_day(time)) return "date: expected hh:mm:ss, got " + quote(time);
    const std::string_view zone = take();
    if (zone.empty()) return "date: missing time zone";
    if (!is_zone(zone)) return "date: expected a zone such as +0000, got " + quote(zone);
    if (next < words.size()) return "date: unexpected " + quote(words[next]) + " after the zone";
    return {};
}

// ---- clauses --------------------------------------------------------------------------------

bool is_atom(std::string_view word) {
    if (word.empty()) return false;
    for (const char c : word) {
        const bool atext =
            text::is_alpha(c) || text::is_digit(c) ||
            std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
        if (!atext) return false;
    }
    return true;
}

// The by-host: a domain, an address literal, or a bare address (Gmail writes IPv6 bare).
bool is_host(std::string_view word) {
    if (word.empty()) return false;
    if (word.front() == '[') return word.back() == ']';
    for (const char c : word) {
        if (!text::is_alpha(c) && !text::is_digit(c) && c != '-' && c != '.' && c != '_' &&
            c != ':') {
            return false;
        }
    }
    return true;
}

std::string lowercase(std::string_view word) {
    std::string lower(word);
    for (char& c : lower)
        c = text::to_lower(c);
    return lower;
}

// Fills from_helo, from_ptr and from_ip from "from <word> (<TCP-info>) (<more comments>)".
//   Postfix/Sendmail/Stalwart: from HELO (PTR [ip])      PTR may be "unknown", "user@PTR"
//   Sendmail, no PTR:           from HELO ([ip])
//   Exim:                       from PTR ([ip]:port helo=HELO)   from [ip] (helo=HELO)
// The IP comes only from the TCP-info comment, or from an Exim-style literal from-word.
std::string read_from_clause(std::string_view from_word,
                             const std::vector<std::string_view>& comments, ReceivedHop& hop) {
    std::vector<CommentWord> tcp_info;
    if (!comments.empty()) tcp_info = comment_words(comments.front());

    // Exactly one place may hold an IP literal: the top level of the first comment.
    std::size_t literal_count = 0;
    std::optional<std::size_t> literal_index;
    for (std::size_t w = 0; w < tcp_info.size(); ++w) {
        if (tcp_info[w].text.front() != '[') continue;
        ++literal_count;
        if (tcp_info[w].depth == 0) literal_index = w;
    }
    for (std::size_t c = 1; c < comments.size(); ++c) {
        for (const CommentWord& word : comment_words(comments[c])) {
            if (word.text.front() == '[') ++literal_count;
        }
    }
    if (literal_count > 1) return "from: more than one IP literal in the from clause";
    if (literal_count == 1 && !literal_index) return "from: IP literal outside the TCP-info";
    const CommentWord* literal = literal_index ? &tcp_info[*literal_index] : nullptr;

    std::string exim_helo;
    bool exim_style = !tcp_info.empty();  // only key=value words (helo=, ident=, port=)
    for (const CommentWord& word : tcp_info) {
        if (word.depth != 0 || &word == literal) continue;
        const std::size_t equals = word.text.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            exim_style = false;
        } else if (iequals(word.text.substr(0, equals), "helo")) {
            exim_helo = std::string(word.text.substr(equals + 1));
        }
    }

    if (literal != nullptr) {
        if (iequals(literal->text, "[unknown]")) {
            // Postfix writes this when it could not learn the peer address: no IP, no error.
        } else if (std::string error = parse_ip_literal(literal->text, hop.from_ip);
                   !error.empty()) {
            return "from: " + error;
        }
        if (*literal_index > 0 && tcp_info[*literal_index - 1].depth == 0) {
            std::string_view ptr = tcp_info[*literal_index - 1].text;
            if (const std::size_t at = ptr.rfind('@'); at != std::string_view::npos) {
                ptr.remove_prefix(at + 1);  // Sendmail ident: "user@host.example"
            }
            if (!iequals(ptr, "unknown") && ptr.find('=') == std::string_view::npos) {
                hop.from_ptr = std::string(ptr);
            }
        }
    } else if (from_word.front() == '[' && (comments.empty() || exim_style)) {
        // Exim without a verified host name: "from [192.0.2.1]" or "from [ip] (helo=x)".
        if (std::string error = parse_ip_literal(from_word, hop.from_ip); !error.empty()) {
            return "from: " + error;
        }
    }

    if (!exim_helo.empty()) {
        // Exim puts the verified host name first and the HELO in the comment.
        hop.from_helo = exim_helo;
        if (from_word.front() != '[') hop.from_ptr = std::string(from_word);
    } else {
        hop.from_helo = std::string(from_word);
    }
    return {};
}

struct ClauseParser {
    const std::vector<Token>& tokens;
    std::size_t end;  // index of the final ';'
    std::size_t next = 0;

    bool at_end() const { return next >= end; }
    const Token& peek() const { return tokens[next]; }

    // Comments between clauses; returns their insides (the from clause needs them).
    std::vector<std::string_view> take_comments() {
        std::vector<std::string_view> comments;
        while (!at_end() && peek().kind == TokenKind::Comment)
            comments.push_back(tokens[next++].text);
        return comments;
    }

    // The value word right after a clause keyword.
    std::string take_value(std::string_view keyword, std::string_view& value) {
        if (at_end() || peek().kind != TokenKind::Word) {
            return "'" + std::string(keyword) + "' needs a value";
        }
        value = tokens[next++].text;
        return {};
    }
};

std::string parse_clauses(const std::vector<Token>& tokens, std::size_t semicolon,
                          ReceivedHop& hop) {
    ClauseParser parser{tokens, semicolon};
    parser.take_comments();  // e.g. Sendmail local: "(from root@localhost) by ..."
    if (parser.at_end()) return "missing 'by' clause";

    if (parser.peek().kind == TokenKind::Word && iequals(parser.peek().text, "from")) {
        ++parser.next;
        std::string_view from_word;
        if (std::string error = parser.take_value("from", from_word); !error.empty()) {
            return error;
        }
        if (from_word.front() == '<' || from_word.front() == '"') {
            return "from: expected a domain or address literal, got " + quote(from_word);
        }
        const std::vector<std::string_view> comments = parser.take_comments();
        if (std::string error = read_from_clause(from_word, comments, hop); !error.empty()) {
            return error;
        }
    }

    // "by" must follow the from clause directly (comments aside): see the file comment.
    if (parser.at_end()) return "missing 'by' clause";
    if (!iequals(parser.peek().text, "by")) {
        return "expected 'by', got " + quote(parser.peek().text);
    }
    ++parser.next;
    std::string_view by_host;
    if (std::string error = parser.take_value("by", by_host); !error.empty()) return error;
    if (!is_host(by_host)) return "by: expected a host name, got " + quote(by_host);
    hop.by_host = std::string(by_host);
    parser.take_comments();

    bool seen_via = false, seen_with = false, seen_id = false, seen_for = false;
    while (!parser.at_end()) {
        const std::string_view keyword = parser.peek().text;  // a Word: comments were taken
        ++parser.next;
        const std::string lower = lowercase(keyword);
        if (lower == "from") return "'from' must be the first clause";
        if (lower == "by") return "duplicate 'by' clause";
        bool* seen = lower == "via"    ? &seen_via
                     : lower == "with" ? &seen_with
                     : lower == "id"   ? &seen_id
                     : lower == "for"  ? &seen_for
                                       : nullptr;
        if (seen == nullptr && !is_atom(keyword)) {
            return "unexpected " + quote(keyword) + " where a clause should start";
        }
        if (seen != nullptr) {
            if (*seen) return "duplicate '" + lower + "' clause";
            *seen = true;
        }
        std::string_view value;
        if (std::string error = parser.take_value(keyword, value); !error.empty()) return error;
        if (lower == "with") {
            hop.with = std::string(value);
        } else if (lower == "id") {
            hop.id = std::string(value);
        } else if (lower == "for") {
            if (value.front() == '<') {
                if (value.size() < 2 || value.back() != '>') return "for: missing '>'";
                value = value.substr(1, value.size() - 2);
            }
            hop.for_addr = std::string(value);
        }
        // via and additional clauses (Exim "tls <cipher>") are checked but not kept.
        parser.take_comments();
    }
    return {};
}

}  // namespace

ReceivedParseResult parse_received(std::string_view raw_value) {
    ReceivedParseResult result;
    const std::string value = unfold(raw_value);
    const auto fail = [&result](std::string error) {
        result.error = std::move(error);
        result.hop = ReceivedHop{};  // never hand out half-parsed fields
        return result;
    };

    if (value.empty()) return fail("empty value");
    if (const std::optional<std::size_t> offset = text::find_control(value)) {
        return fail("control character at offset " + std::to_string(*offset));
    }
    std::vector<Token> tokens;
    if (std::string error = tokenize(value, tokens); !error.empty()) return fail(error);

    std::size_t semicolon = tokens.size();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i].kind != TokenKind::Semicolon) continue;
        if (semicolon != tokens.size()) return fail("unexpected ';' before the date");
        semicolon = i;
    }
    if (semicolon == tokens.size()) return fail("missing ';' before the date");

    if (std::string error = check_date(tokens, semicolon + 1); !error.empty()) return fail(error);
    result.hop.date =
        std::string(text::trim(std::string_view(value).substr(tokens[semicolon].end)));
    if (std::string error = parse_clauses(tokens, semicolon, result.hop); !error.empty()) {
        return fail(error);
    }
    result.ok = true;
    return result;
}

}  // namespace relaytrust::headers
