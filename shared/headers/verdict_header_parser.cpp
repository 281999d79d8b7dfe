// Tokenising parsers for relay verdict headers. Each parser walks the unfolded value once with a
// cursor (linear time, no recursion) and either fills a SpamVerdict or names what it expected.
// Grammar per family: docs/verdict-headers.md.
#include "headers/verdict_header_parser.h"

#include <array>
#include <cstddef>

#include "headers/header_text.h"

namespace relaytrust::headers {
namespace {

using text::is_wsp;
using text::quote;

// ---- classification -------------------------------------------------------------------------

struct NamedKind {
    std::string_view name;
    VerdictHeaderKind kind;
};

// Names we read. "X-Amavis-" variants appear when amavis is configured with a renamed prefix;
// they carry the same grammar as the plain names.
constexpr std::array kParsedNames = {
    NamedKind{"X-Spam-Status", VerdictHeaderKind::SpamStatus},
    NamedKind{"X-Amavis-Spam-Status", VerdictHeaderKind::SpamStatus},
    NamedKind{"X-Spam-Flag", VerdictHeaderKind::SpamFlag},
    NamedKind{"X-Amavis-Spam-Flag", VerdictHeaderKind::SpamFlag},
    NamedKind{"X-Spam", VerdictHeaderKind::SpamFlag},
    NamedKind{"X-Spam-Level", VerdictHeaderKind::SpamLevel},
    NamedKind{"X-Amavis-Spam-Level", VerdictHeaderKind::SpamLevel},
    NamedKind{"X-Spam-Score", VerdictHeaderKind::SpamScore},
    NamedKind{"X-Amavis-Spam-Score", VerdictHeaderKind::SpamScore},
    NamedKind{"X-Spamd-Result", VerdictHeaderKind::SpamdResult},
    NamedKind{"X-Rspamd-Score", VerdictHeaderKind::RspamdScore},
    NamedKind{"X-Virus-Status", VerdictHeaderKind::VirusStatus},
    NamedKind{"X-Virus-Found", VerdictHeaderKind::VirusStatus},
    NamedKind{"X-Virus", VerdictHeaderKind::VirusStatus},
    NamedKind{"X-Virus-Scanned", VerdictHeaderKind::VirusScanned},
    // Strip-only names outside the prefixes below.
    NamedKind{"X-Quarantine-ID", VerdictHeaderKind::SpamOther},  // amavis
    NamedKind{"X-Quarantine", VerdictHeaderKind::SpamOther},     // Stalwart hook quarantine
};

// Every other name under these prefixes is SpamOther: stripped from untrusted sources, never
// read. These namespaces belong to the filters (SpamAssassin itself deletes every X-Spam-*
// header before scanning), so a copy that did not come from the trusted relay is forged or
// stale. That includes X-Spam-Report, X-Spam-Checker-Version, X-Spam-Tests, X-Spam-Result,
// X-Spam-LLM, X-Spamd-Bar, X-Rspamd-Action/-Server/-Queue-Id/-Pre-Result, X-Amavis-Alert and
// the other X-Amavis-* headers, X-Virus-Checker-Version, and X-Spam-Prev-*.
// X-Spam-Prev-* (Prev-Subject, Prev-Content-Type...) carry no verdict, but SpamAssassin uses
// them to restore a report_safe-wrapped message ("spamassassin -d"); a forged one would make
// that restore rewrite the subject or MIME type, so it is stripped like the rest. The trusted
// relay's own copies are kept, as for every SpamOther header.
constexpr std::array<std::string_view, 5> kStripOnlyPrefixes = {"X-Spam-", "X-Spamd-", "X-Rspamd-",
                                                                "X-Amavis-", "X-Virus-"};

bool istarts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// Every verdict header name starts with "X-": classify_verdict_header() turns every other
// header away with one test instead of a walk through both tables.
constexpr std::string_view kVerdictNameStart = "X-";
constexpr bool all_start_with_x_dash() {
    for (const NamedKind& known : kParsedNames) {
        if (!known.name.starts_with(kVerdictNameStart)) return false;
    }
    for (const std::string_view prefix : kStripOnlyPrefixes) {
        if (!prefix.starts_with(kVerdictNameStart)) return false;
    }
    return true;
}
static_assert(all_start_with_x_dash(), "classify_verdict_header's shortcut needs the X- start");

// ---- cursor ---------------------------------------------------------------------------------

class Cursor {
  public:
    explicit Cursor(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }
    std::string_view rest() const { return text_.substr(pos_); }
    void advance() { ++pos_; }
    void skip_wsp() {
        while (!at_end() && is_wsp(text_[pos_]))
            ++pos_;
    }
    // Between fields: whitespace and/or commas, in any mix.
    void skip_separators() {
        while (!at_end() && (is_wsp(text_[pos_]) || text_[pos_] == ','))
            ++pos_;
    }
    template <typename Predicate>
    std::string_view take_while(Predicate keep) {
        const std::size_t start = pos_;
        while (!at_end() && keep(text_[pos_]))
            ++pos_;
        return text_.substr(start, pos_ - start);
    }
    // True at end, whitespace or a comma: where a field value may stop.
    bool at_field_boundary() const { return at_end() || is_wsp(peek()) || peek() == ','; }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

bool is_key_char(char c) {
    return text::is_alpha(c) || text::is_digit(c) || c == '_' || c == '-' || c == '.';
}
bool is_plain_value_char(char c) {
    return !is_wsp(c) && c != ',';
}
// Test and symbol names: anything that cannot delimit a list.
bool is_test_name_char(char c) {
    return !is_wsp(c) && c != ',' && c != '=' && c != '[' && c != ']';
}

// The authoritative verdict word. Producers write Yes/No (SA, rspamd, Stalwart), YES/NO
// (_YESNOCAPS_, amavis) or True/False (X-Spamd-Result); case is not significant.
std::optional<bool> parse_boolean_word(std::string_view word) {
    if (iequals(word, "yes") || iequals(word, "true")) return true;
    if (iequals(word, "no") || iequals(word, "false")) return false;
    return std::nullopt;
}

std::string expected_number(std::string_view field, std::string_view got) {
    return std::string(field) + ": expected a number, got " + quote(got);
}

// Scans a bracketed value starting at '[' up to its matching ']' (nesting counted, not
// recursed). Returns false when the value never closes.
bool skip_bracketed(Cursor& cursor, std::string_view& inner) {
    const std::string_view rest = cursor.rest();
    std::size_t depth = 0;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '[') {
            ++depth;
        } else if (rest[i] == ']' && depth > 0 && --depth == 0) {
            inner = rest.substr(1, i - 1);
            for (std::size_t step = 0; step <= i; ++step)
                cursor.advance();
            return true;
        }
    }
    return false;
}

// ---- X-Spam-Status / X-Spam-Score fields ----------------------------------------------------

enum class Field { Score, Required, TaggedAbove, Tests, Reason, OtherNumber, OtherText };

struct FieldName {
    std::string_view name;
    Field field;
};

constexpr std::array kKnownFields = {
    FieldName{"score", Field::Score},
    FieldName{"hits", Field::Score},  // amavis < 2.6 and SpamAssassin 2.x
    FieldName{"required", Field::Required},
    FieldName{"tagged_above", Field::TaggedAbove},
    FieldName{"tests", Field::Tests},
    FieldName{"reason", Field::Reason},
    FieldName{"avg_confidence", Field::OtherNumber},  // Stalwart X-Spam-Score
    FieldName{"autolearn", Field::OtherText},
    FieldName{"autolearn_force", Field::OtherText},
    FieldName{"version", Field::OtherText},
    FieldName{"shortcircuit", Field::OtherText},
};

std::optional<Field> known_field(std::string_view key) {
    for (const FieldName& known : kKnownFields) {
        if (iequals(known.name, key)) return known.field;
    }
    return std::nullopt;
}

// True when the cursor sits on "<known key>=": used to end an unbracketed tests list, which
// may continue after a comma and a fold ("tests=A,B,\n\tC").
bool at_known_field(Cursor cursor) {
    const std::string_view key = cursor.take_while(is_key_char);
    return cursor.peek() == '=' && known_field(key).has_value();
}

// One "NAME" or "NAME=number" list item; the number is checked, only the name kept.
std::string parse_test_item(Cursor& cursor, std::vector<std::string>& tests) {
    const std::string_view name = cursor.take_while(is_test_name_char);
    if (name.empty()) {
        return "tests: expected a test name, got " + quote(cursor.rest());
    }
    if (cursor.peek() == '=') {
        cursor.advance();
        const std::string_view number =
            cursor.take_while([](char c) { return is_test_name_char(c) || c == '='; });
        if (!text::parse_decimal(number)) {
            return "tests: expected a number for " + quote(name) + ", got " + quote(number);
        }
    }
    tests.emplace_back(name);
    return {};
}

// amavis: tests=[A=1.1, B=-2] (may hold spaces, commas and folds).
std::string parse_bracketed_tests(Cursor& cursor, std::vector<std::string>& tests) {
    cursor.advance();  // '['
    while (true) {
        cursor.skip_separators();
        if (cursor.at_end()) return "tests: missing ']'";
        if (cursor.peek() == ']') {
            cursor.advance();
            break;
        }
        if (std::string error = parse_test_item(cursor, tests); !error.empty()) return error;
        if (!cursor.at_field_boundary() && cursor.peek() != ']') {
            return "tests: unexpected " + quote(cursor.rest()) + " in the list";
        }
    }
    if (!cursor.at_field_boundary())
        return "tests: unexpected " + quote(cursor.rest()) + " after ']'";
    return {};
}

// SpamAssassin: tests=A,B,C or tests=none; folds may follow a comma.
std::string parse_plain_tests(Cursor& cursor, std::vector<std::string>& tests) {
    if (cursor.at_field_boundary()) return {};  // "tests=" with nothing: an empty list
    // Room for the names up to the next white space, so the list does not regrow per name
    // (capped: a run of commas is no list, and must not reserve much).
    constexpr std::size_t kMaxReserved = 64;
    std::size_t names = 1;
    for (const char c : cursor.rest()) {
        if (is_wsp(c) || names == kMaxReserved) break;
        names += c == ',';
    }
    tests.reserve(tests.size() + names);
    while (true) {
        if (std::string error = parse_test_item(cursor, tests); !error.empty()) return error;
        if (cursor.peek() != ',') {
            if (!cursor.at_field_boundary()) return "tests: unexpected " + quote(cursor.rest());
            break;
        }
        cursor.advance();
        cursor.skip_wsp();
        if (cursor.at_end() || at_known_field(cursor)) break;
    }
    if (tests.size() == 1 && iequals(tests.front(), "none")) tests.clear();
    return {};
}

// A value that is not a list: up to whitespace or comma, or a whole [bracketed] value.
std::string read_value(Cursor& cursor, std::string_view key, std::string_view& value) {
    if (cursor.peek() == '[') {
        if (!skip_bracketed(cursor, value)) return std::string(key) + ": missing ']'";
        if (!cursor.at_field_boundary()) {
            return std::string(key) + ": unexpected " + quote(cursor.rest()) + " after ']'";
        }
        return {};
    }
    value = cursor.take_while(is_plain_value_char);
    return {};
}

std::string parse_number_into(std::string_view key, std::string_view value,
                              std::optional<double>& target) {
    const std::optional<double> number = text::parse_decimal(value);
    if (!number) return expected_number(key, value);
    target = number;
    return {};
}

// key=value fields after the leading verdict word, in any order, separated by whitespace
// and/or commas. Unknown keys are skipped; known keys must be well-formed and appear once.
std::string parse_fields(Cursor& cursor, SpamVerdict& verdict) {
    bool seen_score = false, seen_required = false, seen_tagged = false, seen_tests = false,
         seen_reason = false;
    const auto once = [](bool& seen, std::string_view key) -> std::string {
        if (seen) return "duplicate " + std::string(key) + "=";
        seen = true;
        return {};
    };
    while (true) {
        cursor.skip_separators();
        if (cursor.at_end()) return {};
        const std::string_view key = cursor.take_while(is_key_char);
        if (key.empty()) return "expected key=value, got " + quote(cursor.rest());
        if (cursor.peek() != '=') {
            if (!cursor.at_field_boundary()) {
                return "expected key=value, got " + quote(key) + " followed by " +
                       quote(cursor.rest());
            }
            // amavis lists these bare words; they carry nothing the verdict needs.
            if (iequals(key, "BLACKLISTED") || iequals(key, "WHITELISTED")) continue;
            return "unexpected word " + quote(key) + " (expected key=value)";
        }
        cursor.advance();  // '='

        const Field field = known_field(key).value_or(Field::OtherText);
        std::string error;
        std::string_view value;
        switch (field) {
            case Field::Tests:
                if (error = once(seen_tests, "tests"); !error.empty()) return error;
                error = cursor.peek() == '[' ? parse_bracketed_tests(cursor, verdict.tests)
                                             : parse_plain_tests(cursor, verdict.tests);
                break;
            case Field::Score:
                if (error = once(seen_score, "score (or hits)"); !error.empty()) return error;
                if (error = read_value(cursor, key, value); !error.empty()) return error;
                // amavis prints "score=x" when it has no score; that is not an error.
                if (value != "x") error = parse_number_into(key, value, verdict.score);
                break;
            case Field::Required:
                if (error = once(seen_required, "required"); !error.empty()) return error;
                if (error = read_value(cursor, key, value); !error.empty()) return error;
                error = parse_number_into(key, value, verdict.required);
                break;
            case Field::TaggedAbove:
                if (error = once(seen_tagged, "tagged_above"); !error.empty()) return error;
                if (error = read_value(cursor, key, value); !error.empty()) return error;
                error = parse_number_into(key, value, verdict.tagged_above);
                break;
            case Field::Reason:
                if (error = once(seen_reason, "reason"); !error.empty()) return error;
                if (error = read_value(cursor, key, value); !error.empty()) return error;
                verdict.reason = std::string(value);
                break;
            case Field::OtherNumber:
                if (error = read_value(cursor, key, value); !error.empty()) return error;
                if (!text::parse_decimal(value)) error = expected_number(key, value);
                break;
            case Field::OtherText:
                error = read_value(cursor, key, value);
                break;
        }
        if (!error.empty()) return error;
    }
}

// ---- one parser per family ------------------------------------------------------------------

// Yes|No[,] key=value... (SpamAssassin, amavis, rspamd, Stalwart)
std::string parse_spam_status(std::string_view value, SpamVerdict& verdict) {
    Cursor cursor(value);
    const std::string_view word = cursor.take_while(is_plain_value_char);
    const std::optional<bool> is_spam = parse_boolean_word(word);
    if (!is_spam) return "expected Yes or No first, got " + quote(word);
    verdict.is_spam = is_spam;
    return parse_fields(cursor, verdict);
}

// YES|NO|Yes|No|True|False and nothing else.
std::string parse_spam_flag(std::string_view value, SpamVerdict& verdict) {
    verdict.is_spam = parse_boolean_word(value);
    if (!verdict.is_spam) return "expected YES or NO, got " + quote(value);
    return {};
}

// One character repeated, e.g. "*****"; empty means a score below 1.
std::string parse_spam_level(std::string_view value, SpamVerdict& verdict) {
    if (!value.empty()) {
        const char bar = value.front();
        for (const char c : value) {
            if (c != bar || is_wsp(c) || static_cast<unsigned char>(c) >= 0x80) {
                return "expected one repeated character such as '***', got " + quote(value);
            }
        }
    }
    verdict.score = static_cast<double>(value.size());
    return {};
}

// amavis: a bare number. Stalwart: spam|ham, score=7.00[, avg_confidence=0.26]
std::string parse_spam_score(std::string_view value, SpamVerdict& verdict) {
    Cursor cursor(value);
    const std::string_view word = cursor.take_while(is_plain_value_char);
    if (iequals(word, "spam") || iequals(word, "ham")) {
        verdict.is_spam = iequals(word, "spam");
        return parse_fields(cursor, verdict);
    }
    verdict.score = text::parse_decimal(word);
    if (!verdict.score) return "expected a number or spam|ham, got " + quote(word);
    cursor.skip_wsp();
    if (!cursor.at_end()) return "expected only a number, got " + quote(value);
    return {};
}

std::string parse_rspamd_score(std::string_view value, SpamVerdict& verdict) {
    verdict.score = text::parse_decimal(value);
    if (!verdict.score) return expected_number("score", value);
    return {};
}

bool expect_char(Cursor& cursor, char expected) {
    cursor.skip_wsp();
    if (cursor.peek() != expected) return false;
    cursor.advance();
    cursor.skip_wsp();
    return true;
}

// rspamd: default: True|False [6.10 / 5.00]; SYM(1.00)[opts]; SYM2(-0.10)[]
// Old rspamd separated symbols with a newline only, so ';' is optional between symbols.
std::string parse_spamd_result(std::string_view value, SpamVerdict& verdict) {
    Cursor cursor(value);
    const std::string_view metric = cursor.take_while(is_key_char);
    if (metric.empty() || cursor.peek() != ':') {
        return "expected 'default: True|False [score / threshold]', got " + quote(value);
    }
    cursor.advance();
    cursor.skip_wsp();
    const std::string_view word = cursor.take_while(text::is_alpha);
    verdict.is_spam = parse_boolean_word(word);
    if (!verdict.is_spam) return "expected True or False after the metric, got " + quote(word);

    const auto is_number_char = [](char c) { return !is_wsp(c) && c != '/' && c != ']'; };
    if (!expect_char(cursor, '['))
        return "expected '[score / threshold]', got " + quote(cursor.rest());
    const std::string_view score = cursor.take_while(is_number_char);
    if (std::string error = parse_number_into("score", score, verdict.score); !error.empty()) {
        return error;
    }
    if (!expect_char(cursor, '/'))
        return "expected '/' after the score, got " + quote(cursor.rest());
    const std::string_view threshold = cursor.take_while(is_number_char);
    if (std::string error = parse_number_into("threshold", threshold, verdict.required);
        !error.empty()) {
        return error;
    }
    if (!expect_char(cursor, ']'))
        return "expected ']' after the threshold, got " + quote(cursor.rest());

    const auto is_symbol_char = [](char c) {
        return !is_wsp(c) && c != '(' && c != ')' && c != '[' && c != ']' && c != ';' && c != ',';
    };
    while (true) {
        while (!cursor.at_end() && (is_wsp(cursor.peek()) || cursor.peek() == ';'))
            cursor.advance();
        if (cursor.at_end()) return {};
        const std::string_view symbol = cursor.take_while(is_symbol_char);
        if (symbol.empty()) return "expected a symbol, got " + quote(cursor.rest());
        if (cursor.peek() != '(') return "symbol " + quote(symbol) + ": expected '(score)'";
        cursor.advance();
        const std::string_view symbol_score =
            cursor.take_while([](char c) { return c != ')' && !is_wsp(c); });
        if (cursor.peek() != ')') return "symbol " + quote(symbol) + ": missing ')'";
        if (!text::parse_decimal(symbol_score)) {
            return "symbol " + quote(symbol) + ": expected a number, got " + quote(symbol_score);
        }
        cursor.advance();
        if (cursor.peek() == '[') {
            std::string_view options;  // free text chosen by each rule; not needed
            if (!skip_bracketed(cursor, options)) {
                return "symbol " + quote(symbol) + ": missing ']' after the options";
            }
        }
        if (!cursor.at_end() && !is_wsp(cursor.peek()) && cursor.peek() != ';') {
            return "symbol " + quote(symbol) + ": unexpected " + quote(cursor.rest());
        }
        verdict.tests.emplace_back(symbol);
    }
}

// "name" or "name1,name2": what rspamd X-Virus and X-Virus-Found carry.
bool is_virus_name_list(std::string_view names) {
    if (names.empty() || names.front() == ',' || names.back() == ',') return false;
    char previous = '\0';
    for (const char c : names) {
        if (is_wsp(c) || c == '(' || c == ')' || (c == ',' && previous == ',')) return false;
        previous = c;
    }
    return true;
}

// ClamAV: Clean | Infected (Name) | Infected. X-Virus-Found: Yes|No|<name>.
// rspamd X-Virus: <name>[,<name>] or "<status_infected>, <names>".
std::string parse_virus_status(std::string_view value, SpamVerdict& verdict) {
    Cursor cursor(value);
    const std::string_view word =
        cursor.take_while([](char c) { return !is_wsp(c) && c != ',' && c != '('; });
    const std::string_view rest = text::trim(cursor.rest());
    const std::string expected =
        "expected Clean, Infected (name), Yes, No or a virus name, got " + quote(value);

    if (iequals(word, "clean")) {
        if (!rest.empty()) return expected;
        verdict.virus_found = false;
        return {};
    }
    if (const std::optional<bool> found = parse_boolean_word(word)) {
        if (!rest.empty()) return expected;
        verdict.virus_found = found;
        return {};
    }
    if (iequals(word, "infected")) {
        verdict.virus_found = true;
        if (rest.empty()) return {};
        std::string_view name;
        if (rest.front() == '(' && rest.back() == ')') {
            name = text::trim(rest.substr(1, rest.size() - 2));
        } else if (rest.front() == ',') {
            name = text::trim(rest.substr(1));
        }
        if (!is_virus_name_list(name)) return expected;
        verdict.virus_name = std::string(name);
        return {};
    }
    if (!is_virus_name_list(value)) return expected;
    verdict.virus_found = true;
    verdict.virus_name = std::string(value);
    return {};
}

}  // namespace

VerdictHeaderKind classify_verdict_header(std::string_view name) {
    name = text::trim(name);
    if (!istarts_with(name, kVerdictNameStart)) return VerdictHeaderKind::None;
    for (const NamedKind& known : kParsedNames) {
        if (iequals(known.name, name)) return known.kind;
    }
    for (const std::string_view prefix : kStripOnlyPrefixes) {
        if (name.size() > prefix.size() && istarts_with(name, prefix)) {
            return VerdictHeaderKind::SpamOther;
        }
    }
    return VerdictHeaderKind::None;
}

ParseResult parse_verdict_header(VerdictHeaderKind kind, std::string_view raw_value) {
    ParseResult result;
    std::string unfolded;  // only filled for a folded value
    const std::string_view value = unfold(raw_value, unfolded);

    switch (kind) {
        case VerdictHeaderKind::None:
            result.error = "not a verdict header";
            return result;
        case VerdictHeaderKind::SpamOther:  // stripped, never read: nothing to check
            result.ok = true;
            return result;
        case VerdictHeaderKind::VirusScanned:  // free text naming the scanner
            if (value.empty()) {
                result.error = "empty value";
                return result;
            }
            result.verdict.scanner = std::string(value);
            result.ok = true;
            return result;
        default:
            break;
    }

    if (const std::optional<std::size_t> offset = text::find_control(value)) {
        result.error = "control character at offset " + std::to_string(*offset);
        return result;
    }
    if (value.empty() && kind != VerdictHeaderKind::SpamLevel) {
        result.error = "empty value";
        return result;
    }

    SpamVerdict& verdict = result.verdict;
    switch (kind) {
        case VerdictHeaderKind::SpamStatus:
            result.error = parse_spam_status(value, verdict);
            break;
        case VerdictHeaderKind::SpamFlag:
            result.error = parse_spam_flag(value, verdict);
            break;
        case VerdictHeaderKind::SpamLevel:
            result.error = parse_spam_level(value, verdict);
            break;
        case VerdictHeaderKind::SpamScore:
            result.error = parse_spam_score(value, verdict);
            break;
        case VerdictHeaderKind::SpamdResult:
            result.error = parse_spamd_result(value, verdict);
            break;
        case VerdictHeaderKind::RspamdScore:
            result.error = parse_rspamd_score(value, verdict);
            break;
        case VerdictHeaderKind::VirusStatus:
            result.error = parse_virus_status(value, verdict);
            break;
        default:
            result.error = "unhandled header kind";
            break;
    }
    result.ok = result.error.empty();
    if (!result.ok) result.verdict = SpamVerdict{};  // never hand out half-parsed fields
    return result;
}

}  // namespace relaytrust::headers
