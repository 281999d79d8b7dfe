#include "headers/authentication_results.h"

#include <algorithm>
#include <cctype>

#include "headers/verdict_header_parser.h"

namespace relaytrust::headers {

std::string AuthResult::property(std::string_view name) const {
    for (const auto& [key, value] : properties) {
        if (iequals(key, name)) return value;
    }
    return "";
}

const AuthResult* AuthenticationResults::find(std::string_view method) const {
    for (const auto& r : results) {
        if (r.method == method) return &r;
    }
    return nullptr;
}

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Tokens of an RFC 8601 value with comments removed: words, quoted strings, and the
// separators ';', '=', '/'.
class Tokenizer {
  public:
    explicit Tokenizer(std::string_view text) : text_(text) {}

    // Returns false at the end; `error` set on malformed input.
    bool next(std::string& token, bool& quoted) {
        skip_cfws();
        if (!error.empty() || pos_ >= text_.size()) return false;
        quoted = false;
        const char c = text_[pos_];
        if (c == ';' || c == '=' || c == '/') {
            token.assign(1, c);
            ++pos_;
            return true;
        }
        if (c == '"') {
            quoted = true;
            token.clear();
            for (++pos_; pos_ < text_.size() && text_[pos_] != '"'; ++pos_) {
                if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
                token += text_[pos_];
            }
            if (pos_ >= text_.size()) {
                error = "unterminated quoted string";
                return false;
            }
            ++pos_;
            return true;
        }
        const std::size_t start = pos_;
        while (pos_ < text_.size() && !is_special(text_[pos_]))
            ++pos_;
        token.assign(text_.substr(start, pos_ - start));
        return true;
    }

    std::string error;

  private:
    static bool is_special(char c) {
        return c == ';' || c == '=' || c == '/' || c == '"' || c == '(' || c == ' ' || c == '\t' ||
               c == '\r' || c == '\n';
    }

    void skip_cfws() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                ++pos_;
            } else if (c == '(') {
                int depth = 0;
                for (; pos_ < text_.size(); ++pos_) {
                    if (text_[pos_] == '\\') {
                        ++pos_;
                    } else if (text_[pos_] == '(') {
                        ++depth;
                    } else if (text_[pos_] == ')' && --depth == 0) {
                        break;
                    }
                }
                if (pos_ >= text_.size()) {
                    error = "unterminated comment";
                    return;
                }
                ++pos_;
            } else {
                return;
            }
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

AuthenticationResults parse_authentication_results(std::string_view raw_value) {
    AuthenticationResults out;
    Tokenizer tok(raw_value);
    std::vector<std::pair<std::string, bool>> tokens;
    std::string t;
    bool quoted = false;
    while (tok.next(t, quoted))
        tokens.emplace_back(t, quoted);
    if (!tok.error.empty()) {
        out.error = tok.error;
        return out;
    }
    std::size_t i = 0;
    auto at = [&](std::string_view s) {
        return i < tokens.size() && !tokens[i].second && tokens[i].first == s;
    };
    if (tokens.empty() || at(";") || at("=")) {
        out.error = "expected an authserv-id";
        return out;
    }
    out.authserv_id = lower(tokens[i++].first);
    if (i < tokens.size() && !at(";")) {
        // Optional authres-version: a number after the authserv-id.
        if (std::all_of(tokens[i].first.begin(), tokens[i].first.end(),
                        [](unsigned char c) { return std::isdigit(c); })) {
            ++i;
        } else {
            out.error = "expected ';' after the authserv-id";
            return out;
        }
    }
    while (at(";")) {
        ++i;
        if (i >= tokens.size()) break;
        if (tokens[i].first == "none" && !tokens[i].second) {  // "; none" = no results
            ++i;
            continue;
        }
        AuthResult r;
        r.method = lower(tokens[i++].first);
        if (at("/")) {  // method version
            i += 2;
        }
        if (!at("=") || i + 1 >= tokens.size()) {
            out.error = "expected method=result after ';'";
            return out;
        }
        ++i;
        r.result = lower(tokens[i++].first);
        if (i + 1 < tokens.size() && !tokens[i].second && lower(tokens[i].first) == "reason" &&
            tokens[i + 1].first == "=") {
            i += 3;  // reason=value
        }
        // ptype.property=value pairs until the next ';'.
        while (i < tokens.size() && !at(";")) {
            if (i + 2 >= tokens.size() || tokens[i + 1].first != "=" || tokens[i + 1].second) {
                out.error = "expected ptype.property=value";
                return out;
            }
            std::string value = tokens[i + 2].first;
            std::string key = lower(tokens[i].first);
            i += 3;
            // Values such as header.b base64 may contain '/', which the tokenizer splits.
            while (at("/") && i + 1 < tokens.size()) {
                value += "/" + tokens[i + 1].first;
                i += 2;
            }
            r.properties.emplace_back(std::move(key), std::move(value));
        }
        out.results.push_back(std::move(r));
    }
    if (i < tokens.size()) {
        out.error = "unexpected '" + tokens[i].first + "'";
        return out;
    }
    out.ok = true;
    return out;
}

}  // namespace relaytrust::headers
