#include "expr/pattern.h"

#include <cctype>

namespace relaytrust::expr {

namespace {

struct ScanError {
    std::size_t offset;
    std::string message;
};

// Checks the pattern's structure. Returns the problem, if any.
std::optional<ScanError> scan(std::string_view p) {
    int depth = 0;
    bool in_class = false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 >= p.size()) return ScanError{i, "regular expression ends with a backslash"};
            char e = p[++i];
            if (std::string_view("AzZpPQEKGhHeaRXV").find(e) != std::string_view::npos) {
                return ScanError{i - 1, std::string("escape '\\") + e +
                                            "' is not supported by relaytrust's regex engine"};
            }
            if (!in_class && e >= '1' && e <= '9') {
                return ScanError{i - 1, "backreferences are not supported"};
            }
            if ((e == 'x' || e == 'u') && i + 1 < p.size() && p[i + 1] == '{') {
                return ScanError{i - 1, std::string("write '\\") + e +
                                            "{...}' as \\xHH or \\uHHHH for relaytrust"};
            }
            continue;
        }
        if (in_class) {
            if (c == '[' && i + 1 < p.size() &&
                (p[i + 1] == ':' || p[i + 1] == '=' || p[i + 1] == '.')) {
                // POSIX class such as [:alpha:] inside a bracket expression.
                char kind = p[i + 1];
                std::size_t close = p.find(std::string{kind, ']'}, i + 2);
                if (close == std::string_view::npos) {
                    return ScanError{i, "unterminated '[:' class in regular expression"};
                }
                i = close + 1;
            } else if (c == ']') {
                in_class = false;
            }
            continue;
        }
        switch (c) {
            case '[':
                in_class = true;
                // A ']' right after '[' or '[^' is a literal in Rust's syntax.
                if (i + 1 < p.size() && p[i + 1] == '^') ++i;
                if (i + 1 < p.size() && p[i + 1] == ']') {
                    return ScanError{i, "write a literal ']' at the start of a class as '\\]'"};
                }
                break;
            case '(':
                if (i + 1 < p.size() && p[i + 1] == '?') {
                    char kind = i + 2 < p.size() ? p[i + 2] : '\0';
                    if (kind != ':' && kind != '=' && kind != '!') {
                        return ScanError{i, "group syntax '(?" + std::string(1, kind) +
                                                "' is not supported (only (?:...), (?=...), "
                                                "(?!...) and a leading (?i))"};
                    }
                }
                if (++depth > Pattern::kMaxGroupDepth) {
                    return ScanError{i, "regular expression nests groups too deeply (limit " +
                                            std::to_string(Pattern::kMaxGroupDepth) + ")"};
                }
                break;
            case ')':
                if (--depth < 0) return ScanError{i, "unmatched ')' in regular expression"};
                break;
            case '{': {
                // Counted repetition {n}, {n,}, {n,m}: bound the NFA size.
                std::size_t j = i + 1;
                unsigned long value = 0;
                while (j < p.size() &&
                       (std::isdigit(static_cast<unsigned char>(p[j])) || p[j] == ',')) {
                    if (p[j] == ',') {
                        value = 0;
                    } else {
                        value = value * 10 + static_cast<unsigned long>(p[j] - '0');
                        if (value > Pattern::kMaxRepeat) {
                            return ScanError{
                                i, "repetition count above " + std::to_string(Pattern::kMaxRepeat)};
                        }
                    }
                    ++j;
                }
                break;
            }
            default:
                break;
        }
    }
    if (in_class) return ScanError{p.size(), "unterminated '[' in regular expression"};
    if (depth > 0) return ScanError{p.size(), "missing ')' in regular expression"};
    return std::nullopt;
}

}  // namespace

std::optional<Pattern> Pattern::compile(std::string_view source, std::size_t& error_offset,
                                        std::string& error) {
    if (source.size() > kMaxLength) {
        error_offset = 0;
        error = "regular expression is longer than " + std::to_string(kMaxLength) + " bytes";
        return std::nullopt;
    }
    auto flags = std::regex::ECMAScript;
#ifdef _GLIBCXX_RELEASE
    // Thompson-style matching: time linear in the input, recursion bounded by the pattern.
    flags |= std::regex_constants::__polynomial;
#endif
    std::size_t body_start = 0;
    // Rust's inline case-insensitivity flag is common in Stalwart configs; honour it at the
    // start of the pattern, where it applies to everything.
    if (source.substr(0, 4) == "(?i)") {
        flags |= std::regex::icase;
        body_start = 4;
    }
    std::string_view body = source.substr(body_start);
    if (auto problem = scan(body)) {
        error_offset = body_start + problem->offset;
        error = problem->message;
        return std::nullopt;
    }
    // The lazy prefix turns a search into one anchored pass (used with match_continuous), and
    // group 1 is the whole match ($0).
    std::string wrapped = "(?:[\\s\\S]*?)(";
    wrapped.append(body);
    wrapped += ')';
    try {
        Pattern p;
        p.regex_ = std::make_shared<const std::regex>(wrapped, flags);
        return p;
    } catch (const std::regex_error& e) {
        error_offset = 0;
        error = std::string("invalid regular expression: ") + e.what();
    } catch (const std::exception& e) {
        error_offset = 0;
        error = std::string("regular expression too complex: ") + e.what();
    }
    return std::nullopt;
}

bool Pattern::search(std::string_view haystack, std::vector<std::string>* captures) const {
    if (captures) captures->clear();
    if (!regex_) return false;
    std::match_results<std::string_view::const_iterator> m;
    bool found = false;
    try {
        found = std::regex_search(haystack.begin(), haystack.end(), m, *regex_,
                                  std::regex_constants::match_continuous);
    } catch (const std::exception&) {
        return false;  // resource limits inside the regex engine: treat as no match
    }
    if (found && captures) {
        for (std::size_t i = 1; i < m.size(); ++i) {
            captures->push_back(m[i].matched ? m[i].str() : std::string());
        }
    }
    return found;
}

}  // namespace relaytrust::expr
