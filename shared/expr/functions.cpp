// The function library. Behaviour follows Stalwart's implementations in
// crates/common/src/expr/functions/{array,email,misc,text}.rs, including their quirks (e.g.
// strip_prefix returns "" when the prefix is absent); see docs/expressions.md.
#include <algorithm>
#include <cmath>

#include "expr/digest.h"
#include "expr/node.h"
#include "expr/text.h"
#include "expr/value_ops.h"
#include "net/network_set.h"

namespace relaytrust::expr {

using detail::slice_of;
using detail::TextOf;

// --- registry --------------------------------------------------------------------------------

const std::vector<FunctionInfo>& all_functions() {
    static const std::vector<FunctionInfo> kFunctions = {
        {"count", Function::Count, 1, true},
        {"sort", Function::Sort, 2, true},
        {"dedup", Function::Dedup, 1, true},
        {"winnow", Function::Winnow, 1, true},
        {"is_intersect", Function::IsIntersect, 2, true},
        {"is_email", Function::IsEmail, 1, true},
        {"email_part", Function::EmailPart, 2, true},
        {"is_empty", Function::IsEmpty, 1, true},
        {"is_number", Function::IsNumber, 1, true},
        {"bit_and", Function::BitAnd, 2, true},
        {"is_ip_addr", Function::IsIpAddr, 1, true},
        {"is_ipv4_addr", Function::IsIpv4Addr, 1, true},
        {"is_ipv6_addr", Function::IsIpv6Addr, 1, true},
        {"is_ip_in_cidr", Function::IsIpInCidr, 2, true},
        {"ip_reverse_name", Function::IpReverseName, 1, true},
        {"trim", Function::Trim, 1, true},
        {"trim_end", Function::TrimEnd, 1, true},
        {"trim_start", Function::TrimStart, 1, true},
        {"len", Function::Len, 1, true},
        {"to_lowercase", Function::ToLowercase, 1, true},
        {"to_uppercase", Function::ToUppercase, 1, true},
        // relaytrust's short names (asked for by admins used to other filters).
        {"lower", Function::ToLowercase, 1, true},
        {"upper", Function::ToUppercase, 1, true},
        {"is_uppercase", Function::IsUppercase, 1, true},
        {"is_lowercase", Function::IsLowercase, 1, true},
        {"has_digits", Function::HasDigits, 1, true},
        {"count_spaces", Function::CountSpaces, 1, true},
        {"count_uppercase", Function::CountUppercase, 1, true},
        {"count_lowercase", Function::CountLowercase, 1, true},
        {"count_chars", Function::CountChars, 1, true},
        {"contains", Function::Contains, 2, true},
        {"contains_ignore_case", Function::ContainsIgnoreCase, 2, true},
        {"eq_ignore_case", Function::EqIgnoreCase, 2, true},
        {"starts_with", Function::StartsWith, 2, true},
        {"ends_with", Function::EndsWith, 2, true},
        {"lines", Function::Lines, 1, true},
        {"substring", Function::Substring, 3, true},
        {"strip_prefix", Function::StripPrefix, 2, true},
        {"strip_suffix", Function::StripSuffix, 2, true},
        {"split", Function::Split, 2, true},
        {"rsplit", Function::Rsplit, 2, true},
        {"split_once", Function::SplitOnce, 2, true},
        {"rsplit_once", Function::RsplitOnce, 2, true},
        {"split_n", Function::SplitN, 3, true},
        {"split_words", Function::SplitWords, 1, true},
        {"hash", Function::Hash, 2, true},
        {"if_then", Function::IfThen, 3, true},
        // matches() records $N captures, so it is never folded away.
        {"matches", Function::Matches, 2, false},
        {"in_network", Function::InNetwork, 2, false},
        {"header", Function::Header, 1, false},
        {"has_header", Function::HasHeader, 1, false},
    };
    return kFunctions;
}

const FunctionInfo* find_function(std::string_view name) {
    for (const auto& f : all_functions()) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

bool is_unsupported_stalwart_function(std::string_view name) {
    static constexpr std::string_view kServerState[] = {
        "is_local_domain", "is_local_address", "key_get",   "key_exists", "key_set", "counter_incr",
        "counter_get",     "dns_query",        "sql_query", "system",     "metric"};
    return std::find(std::begin(kServerState), std::end(kServerState), name) !=
           std::end(kServerState);
}

std::string_view function_hint(std::string_view name) {
    struct Hint {
        std::string_view name, hint;
    };
    static constexpr Hint kHints[] = {
        {"lowercase", "to_lowercase(s)"},
        {"tolower", "to_lowercase(s)"},
        {"uppercase", "to_uppercase(s)"},
        {"toupper", "to_uppercase(s)"},
        {"domain_part", "email_part(address, 'domain')"},
        {"domain", "email_part(address, 'domain')"},
        {"local_part", "email_part(address, 'local')"},
        {"length", "len(v)"},
        {"size", "count(list)"},
        {"match", "matches('regex', value)"},
        {"regex", "matches('regex', value)"},
        {"in_cidr", "is_ip_in_cidr(ip, 'cidr')"},
        {"ip_in_cidr", "is_ip_in_cidr(ip, 'cidr')"},
        {"startswith", "starts_with(s, prefix)"},
        {"endswith", "ends_with(s, suffix)"},
        {"if", "if_then(condition, then, else)"},
    };
    for (const auto& h : kHints) {
        if (h.name == name) return h.hint;
    }
    return {};
}

// --- helpers ---------------------------------------------------------------------------------

namespace {

Value boolean(bool b) {
    return Value(b);
}
Value integer(std::size_t n) {
    return Value(static_cast<std::int64_t>(n));
}

// Stalwart's Variable::transform: a string maps through f, each list item maps through f (as
// text), anything else maps as its text. f(source, text) must only slice `source`.
template <typename F>
Value transform(const Value& v, F f) {
    auto one = [&](const Value& item) -> Value {
        if (item.is_string() || item.is_empty_value()) return f(item, item.as_string_view());
        Value text = Value::owned(item.to_string());
        return f(text, text.as_string_view());
    };
    if (const auto* list = v.as_list()) {
        Value::List out;
        out.reserve(list->size());
        for (const auto& item : *list)
            out.push_back(one(item));
        return Value::list(std::move(out));
    }
    return one(v);
}

// Stalwart's into_array: a list as is, a non-empty scalar as a one-item list, "" as [].
Value::List into_items(const Value& v) {
    if (const auto* list = v.as_list()) return *list;
    if (detail::kind_of(v) == detail::Kind::String && v.as_string_view().empty()) return {};
    return {v};
}

bool is_empty_string(const Value& v) {
    return detail::kind_of(v) == detail::Kind::String && v.as_string_view().empty();
}

// A strict weak order for sort(): numbers (NaN last), then strings, then lists. Stalwart's own
// order is not transitive across kinds, which std::sort must not be given.
bool sort_less(const Value& a, const Value& b) {
    auto rank = [](const Value& v) {
        switch (detail::kind_of(v)) {
            case detail::Kind::Integer:
            case detail::Kind::Float:
                return 0;
            case detail::Kind::String:
                return 1;
            default:
                return 2;
        }
    };
    int ra = rank(a), rb = rank(b);
    if (ra != rb) return ra < rb;
    if (ra == 0) {
        auto x = *detail::numeric_value(a), y = *detail::numeric_value(b);
        if (!x.is_float && !y.is_float) return x.integer < y.integer;
        double dx = x.as_double(), dy = y.as_double();
        if (std::isnan(dx) || std::isnan(dy)) return !std::isnan(dx) && std::isnan(dy);
        return dx < dy;
    }
    if (ra == 1) return a.as_string_view() < b.as_string_view();
    const auto& la = *a.as_list();
    const auto& lb = *b.as_list();
    return std::lexicographical_compare(la.begin(), la.end(), lb.begin(), lb.end(), sort_less);
}

bool list_contains(const Value::List& list, const Value& needle) {
    return std::any_of(list.begin(), list.end(),
                       [&](const Value& item) { return detail::values_equal(item, needle); });
}

// Byte ranges of separator matches, non-overlapping, left to right (Rust's str::split). An
// empty separator matches at every character boundary, both ends included.
std::vector<std::pair<std::size_t, std::size_t>> separator_matches(std::string_view s,
                                                                   std::string_view sep,
                                                                   std::size_t limit) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    if (sep.empty()) {
        for (std::size_t i = 0; out.size() < limit;) {
            out.emplace_back(i, i);
            if (i >= s.size()) break;
            i += text::decode(s, i).length;
        }
        return out;
    }
    for (std::size_t pos = 0; out.size() < limit;) {
        std::size_t at = s.find(sep, pos);
        if (at == std::string_view::npos) break;
        out.emplace_back(at, at + sep.size());
        pos = at + sep.size();
    }
    return out;
}

// Rust's splitn(max_pieces, sep).
Value split_pieces(const Value& source, std::string_view s, std::string_view sep,
                   std::size_t max_pieces) {
    Value::List out;
    if (max_pieces == 0) return Value::list(std::move(out));
    auto matches = separator_matches(s, sep, max_pieces - 1);
    std::size_t start = 0;
    for (const auto& [from, to] : matches) {
        out.push_back(slice_of(source, s.substr(start, from - start)));
        start = to;
    }
    out.push_back(slice_of(source, s.substr(start)));
    return Value::list(std::move(out));
}

// Rust's rsplit(sep): pieces from the right.
Value rsplit_pieces(const Value& source, std::string_view s, std::string_view sep) {
    Value::List out;
    if (sep.empty()) {
        auto all = split_pieces(source, s, sep, static_cast<std::size_t>(-1));
        const auto& items = *all.as_list();
        out.assign(items.rbegin(), items.rend());
        return Value::list(std::move(out));
    }
    std::size_t end = s.size();
    while (true) {
        std::size_t at = end >= sep.size() ? s.substr(0, end).rfind(sep) : std::string_view::npos;
        if (at == std::string_view::npos) break;
        out.push_back(slice_of(source, s.substr(at + sep.size(), end - at - sep.size())));
        end = at;
    }
    out.push_back(slice_of(source, s.substr(0, end)));
    return Value::list(std::move(out));
}

Value pair(const Value& source, std::string_view s, std::size_t at, std::size_t sep_len) {
    return Value::list(
        {slice_of(source, s.substr(0, at)), slice_of(source, s.substr(at + sep_len))});
}

bool is_email(std::string_view s) {
    // Stalwart's fn_is_email scanner, byte by byte.
    unsigned char last = 0;
    bool in_quote = false;
    int at_count = 0, dot_count = 0;
    std::size_t local_len = 0, len = 0;
    static constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~";
    for (char ch_signed : s) {
        auto ch = static_cast<unsigned char>(ch_signed);
        bool atext = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= 'A' && ch <= 'Z') || ch >= 0x7F ||
                     kAtext.find(static_cast<char>(ch)) != std::string_view::npos;
        if (atext) {
            ++len;
        } else if (ch == '.' && !in_quote) {
            if (last == '.' || last == '@' || len == 0) return false;
            ++len;
            if (at_count == 1) ++dot_count;
        } else if (ch == '@' && !in_quote) {
            ++at_count;
            local_len = len;
            len = 0;
        } else if ((ch == '>' || ch == ':' || ch == ',' || ch == ' ') && in_quote) {
            ++len;
        } else if (ch == '"' && (!in_quote || last != '\\')) {
            in_quote = !in_quote;
        } else if (ch == '\\' && in_quote && last != '\\') {
            // escape inside a quoted local part
        } else if (!in_quote) {
            return false;
        }
        last = ch;
    }
    return at_count == 1 && dot_count > 0 && local_len > 0 && len > 0;
}

template <typename Pred>
std::size_t count_if_char(std::string_view s, Pred pred) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size();) {
        auto ch = text::decode(s, i);
        if (pred(ch.code_point)) ++n;
        i += ch.length;
    }
    return n;
}

// All alphabetic characters satisfy `pred` (vacuously true without letters), as Stalwart's
// is_uppercase / is_lowercase.
template <typename Pred>
bool letters_all(std::string_view s, Pred pred) {
    for (std::size_t i = 0; i < s.size();) {
        auto ch = text::decode(s, i);
        if (text::is_alphabetic(ch.code_point) && !pred(ch.code_point)) return false;
        i += ch.length;
    }
    return true;
}

bool has_ascii_upper(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}
bool has_ascii_lower(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}
bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

Value change_case(const Value& source, std::string_view s, bool upper) {
    // Unchanged text stays a view (no allocation for the common already-lower-case address).
    if (is_ascii(s) && !(upper ? has_ascii_lower(s) : has_ascii_upper(s)))
        return slice_of(source, s);
    return Value::owned(upper ? text::to_upper(s) : text::to_lower(s));
}

Value lines_of(const Value& source, std::string_view s) {
    Value::List out;
    std::size_t start = 0;
    while (start < s.size()) {
        std::size_t nl = s.find('\n', start);
        if (nl == std::string_view::npos) {
            out.push_back(slice_of(source, s.substr(start)));
            break;
        }
        std::string_view line = s.substr(start, nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        out.push_back(slice_of(source, line));
        start = nl + 1;
    }
    return Value::list(std::move(out));
}

Value substring(const Value& source, std::string_view s, std::uint64_t skip, std::uint64_t take) {
    std::size_t i = 0;
    for (std::uint64_t n = 0; n < skip && i < s.size(); ++n)
        i += text::decode(s, i).length;
    std::size_t begin = i;
    for (std::uint64_t n = 0; n < take && i < s.size(); ++n)
        i += text::decode(s, i).length;
    return slice_of(source, s.substr(begin, i - begin));
}

Value split_words(const Value& source, std::string_view s) {
    Value::List out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size()) {
            auto ch = text::decode(s, i);
            if (!text::is_whitespace(ch.code_point)) break;
            i += ch.length;
        }
        std::size_t start = i;
        bool alnum = true;
        while (i < s.size()) {
            auto ch = text::decode(s, i);
            if (text::is_whitespace(ch.code_point)) break;
            alnum = alnum && text::is_alphanumeric(ch.code_point);
            i += ch.length;
        }
        if (i > start && alnum) out.push_back(slice_of(source, s.substr(start, i - start)));
    }
    return Value::list(std::move(out));
}

}  // namespace

// --- dispatch --------------------------------------------------------------------------------

namespace {

// The function bodies, given evaluated arguments. Kept out of line and off the recursive
// evaluate_node -> call_function path, whose stack frames must stay small (nesting depth is
// up to 256).
[[gnu::noinline]] Value apply_function(const Node& node, EvalState& state, const Value& a,
                                       const Value& b, const Value& c) {
    switch (node.function) {
        // --- compile-time bound ---
        case Function::Matches:
            return boolean(node.pattern->search(TextOf(a).view(),
                                                state.record_captures ? &state.captures : nullptr));
        case Function::InNetwork:
            return boolean(node.network != nullptr && node.network->contains(TextOf(a).view()));
        case Function::Header: {
            auto value = state.context.header(TextOf(a).view());
            return Value::borrowed(value ? *value : std::string_view());
        }
        case Function::HasHeader:
            return boolean(state.context.header(TextOf(a).view()).has_value());
        // --- lists ---
        case Function::Count:
            if (const auto* list = a.as_list()) return integer(list->size());
            return integer(is_empty_string(a) ? 0 : 1);
        case Function::Sort: {
            auto items = into_items(a);
            bool ascending = b.to_bool();
            bool all_strings = std::all_of(items.begin(), items.end(),
                                           [](const Value& v) { return v.is_string(); });
            auto less = [&](const Value& x, const Value& y) {
                return all_strings ? x.as_string_view() < y.as_string_view() : sort_less(x, y);
            };
            if (ascending) {
                std::stable_sort(items.begin(), items.end(), less);
            } else {
                std::stable_sort(items.begin(), items.end(),
                                 [&](const Value& x, const Value& y) { return less(y, x); });
            }
            return Value::list(std::move(items));
        }
        case Function::Dedup: {
            Value::List out;
            for (const auto& item : into_items(a)) {
                if (!list_contains(out, item)) out.push_back(item);
            }
            return Value::list(std::move(out));
        }
        case Function::Winnow: {
            const auto* list = a.as_list();
            if (!list) return a;
            Value::List out;
            for (const auto& item : *list) {
                if (!is_empty_string(item)) out.push_back(item);
            }
            return Value::list(std::move(out));
        }
        case Function::IsIntersect: {
            const auto* la = a.as_list();
            const auto* lb = b.as_list();
            if (la && lb) {
                return boolean(std::any_of(la->begin(), la->end(),
                                           [&](const Value& x) { return list_contains(*lb, x); }));
            }
            if (la) return boolean(list_contains(*la, b));
            if (lb) return boolean(list_contains(*lb, a));
            return boolean(false);
        }

        // --- e-mail ---
        case Function::IsEmail:
            return boolean(is_email(TextOf(a).view()));
        case Function::EmailPart: {
            TextOf part(b);
            bool local = part.view() == "local", domain = part.view() == "domain";
            return transform(a, [&](const Value& source, std::string_view s) -> Value {
                std::size_t at = s.rfind('@');
                if (at == std::string_view::npos || !(local || domain)) return Value::borrowed("");
                return slice_of(source, text::trim(local ? s.substr(0, at) : s.substr(at + 1)));
            });
        }

        // --- misc ---
        case Function::IsEmpty:
            if (const auto* list = a.as_list()) return boolean(list->empty());
            return boolean(is_empty_string(a));
        case Function::IsNumber:
            return boolean(detail::is_numeric(a));
        case Function::BitAnd: {
            auto x = detail::to_integer(a), y = detail::to_integer(b);
            return Value(x && y ? (*x & *y) : std::int64_t{0});
        }
        case Function::IsIpAddr:
            return boolean(ip::parse(TextOf(a).view()).has_value());
        case Function::IsIpv4Addr: {
            auto address = ip::parse(TextOf(a).view());
            return boolean(address && address->is_v4);
        }
        case Function::IsIpv6Addr: {
            auto address = ip::parse(TextOf(a).view());
            return boolean(address && !address->is_v4);
        }
        case Function::IsIpInCidr: {
            auto address = ip::parse(TextOf(a).view());
            if (!address) return boolean(false);
            if (node.cidr) return boolean(node.cidr->matches(*address));
            auto cidr = ip::CidrMatcher::parse(TextOf(b).view());
            return boolean(cidr && cidr->matches(*address));
        }
        case Function::IpReverseName: {
            auto address = ip::parse(TextOf(a).view());
            return address ? Value::owned(ip::reverse_name(*address)) : Value::borrowed("");
        }

        // --- text ---
        case Function::Trim:
            return transform(a, [](const Value& src, std::string_view s) {
                return slice_of(src, text::trim(s));
            });
        case Function::TrimEnd:
            return transform(a, [](const Value& src, std::string_view s) {
                return slice_of(src, text::trim_end(s));
            });
        case Function::TrimStart:
            return transform(a, [](const Value& src, std::string_view s) {
                return slice_of(src, text::trim_start(s));
            });
        case Function::Len:
            if (const auto* list = a.as_list()) return integer(list->size());
            return integer(TextOf(a).view().size());
        case Function::ToLowercase:
            return transform(
                a, [](const Value& src, std::string_view s) { return change_case(src, s, false); });
        case Function::ToUppercase:
            return transform(
                a, [](const Value& src, std::string_view s) { return change_case(src, s, true); });
        case Function::IsUppercase:
            return transform(a, [](const Value&, std::string_view s) {
                return boolean(letters_all(s, [](char32_t ch) { return text::is_uppercase(ch); }));
            });
        case Function::IsLowercase:
            return transform(a, [](const Value&, std::string_view s) {
                return boolean(letters_all(s, [](char32_t ch) { return text::is_lowercase(ch); }));
            });
        case Function::HasDigits:
            return transform(a, [](const Value&, std::string_view s) {
                return boolean(std::any_of(s.begin(), s.end(),
                                           [](char ch) { return ch >= '0' && ch <= '9'; }));
            });
        case Function::CountSpaces:
            return integer(count_if_char(TextOf(a).view(), text::is_whitespace));
        case Function::CountUppercase:
            return integer(count_if_char(TextOf(a).view(), [](char32_t ch) {
                return text::is_alphabetic(ch) && text::is_uppercase(ch);
            }));
        case Function::CountLowercase:
            return integer(count_if_char(TextOf(a).view(), [](char32_t ch) {
                return text::is_alphabetic(ch) && text::is_lowercase(ch);
            }));
        case Function::CountChars:
            return integer(text::count_chars(TextOf(a).view()));
        case Function::Contains:
            if (const auto* list = a.as_list()) return boolean(list_contains(*list, b));
            return boolean(TextOf(a).view().find(TextOf(b).view()) != std::string_view::npos);
        case Function::ContainsIgnoreCase: {
            TextOf needle(b);
            if (const auto* list = a.as_list()) {
                return boolean(std::any_of(list->begin(), list->end(), [&](const Value& item) {
                    return item.is_string() &&
                           text::equals_ignore_ascii_case(item.as_string_view(), needle.view());
                }));
            }
            if (a.is_string() || a.is_empty_value()) {
                return boolean(
                    text::to_lower(a.as_string_view()).find(text::to_lower(needle.view())) !=
                    std::string::npos);
            }
            return boolean(TextOf(a).view().find(needle.view()) != std::string_view::npos);
        }
        case Function::EqIgnoreCase:
            return boolean(text::equals_ignore_ascii_case(TextOf(a).view(), TextOf(b).view()));
        case Function::StartsWith: {
            TextOf s(a), prefix(b);
            return boolean(s.view().substr(0, prefix.view().size()) == prefix.view());
        }
        case Function::EndsWith: {
            TextOf s(a), suffix(b);
            return boolean(s.view().size() >= suffix.view().size() &&
                           s.view().substr(s.view().size() - suffix.view().size()) ==
                               suffix.view());
        }
        case Function::Lines:
            if (a.is_string() || a.is_empty_value()) return lines_of(a, a.as_string_view());
            return a;
        case Function::Substring: {
            Value source = a.is_string() ? a : Value::owned(a.to_string());
            return substring(source, source.as_string_view(), detail::to_index(b).value_or(0),
                             detail::to_index(c).value_or(0));
        }
        case Function::StripPrefix: {
            TextOf prefix(b);
            return transform(a, [&](const Value& src, std::string_view s) -> Value {
                if (s.substr(0, prefix.view().size()) != prefix.view()) return Value::borrowed("");
                return slice_of(src, s.substr(prefix.view().size()));
            });
        }
        case Function::StripSuffix: {
            TextOf suffix(b);
            return transform(a, [&](const Value& src, std::string_view s) -> Value {
                std::size_t n = suffix.view().size();
                if (s.size() < n || s.substr(s.size() - n) != suffix.view())
                    return Value::borrowed("");
                return slice_of(src, s.substr(0, s.size() - n));
            });
        }
        case Function::Split:
        case Function::Rsplit:
        case Function::SplitOnce:
        case Function::RsplitOnce:
        case Function::SplitN: {
            Value source = a.is_string() ? a : Value::owned(a.to_string());
            std::string_view s = source.as_string_view();
            TextOf sep(b);
            switch (node.function) {
                case Function::Split:
                    return split_pieces(source, s, sep.view(), static_cast<std::size_t>(-1));
                case Function::Rsplit:
                    return rsplit_pieces(source, s, sep.view());
                case Function::SplitOnce: {
                    std::size_t at = s.find(sep.view());
                    if (at == std::string_view::npos) return Value::borrowed("");
                    return pair(source, s, at, sep.view().size());
                }
                case Function::RsplitOnce: {
                    std::size_t at = s.rfind(sep.view());
                    if (at == std::string_view::npos) return Value::borrowed("");
                    return pair(source, s, at, sep.view().size());
                }
                default: {
                    // split_n(s, sep, n): at most n splits, i.e. Rust's splitn(n + 1).
                    auto n = static_cast<std::uint64_t>(detail::to_integer(c).value_or(0));
                    std::size_t pieces = n == static_cast<std::uint64_t>(-1) ? n : n + 1;
                    return split_pieces(source, s, sep.view(), pieces);
                }
            }
        }
        case Function::SplitWords: {
            Value source = a.is_string() ? a : Value::owned(a.to_string());
            return split_words(source, source.as_string_view());
        }
        case Function::Hash: {
            auto digest = digest::hex(TextOf(b).view(), TextOf(a).view());
            return digest ? Value::owned(std::move(*digest)) : Value::borrowed("");
        }
        default:
            return Value();
    }
}

}  // namespace

Value call_function(const Node& node, EvalState& state) {
    const auto& args = node.children;
    if (node.function == Function::IfThen) {  // only the chosen branch is evaluated
        bool condition = evaluate_node(*args[0], state).to_bool();
        return evaluate_node(*args[condition ? 1 : 2], state);
    }
    Value values[3];
    for (std::size_t i = 0; i < args.size() && i < 3; ++i) {
        values[i] = evaluate_node(*args[i], state);
    }
    return apply_function(node, state, values[0], values[1], values[2]);
}

}  // namespace relaytrust::expr
