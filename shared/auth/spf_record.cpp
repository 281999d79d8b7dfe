#include "auth/spf_record.h"

#include <algorithm>
#include <array>

namespace relaytrust::auth {

namespace {

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

std::string lower(std::string_view text) {
    std::string result(text);
    for (char& c : result)
        c = ascii_lower(c);
    return result;
}

bool set_error(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
}

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
    if (label.empty()) return false;
    bool has_alpha = false;
    bool has_dash = false;
    for (const char c : label) {
        if (c == '-') {
            has_dash = true;
        } else if (is_alpha(c)) {
            has_alpha = true;
        } else if (!is_digit(c)) {
            return false;
        }
    }
    if (has_dash) return label.front() != '-' && label.back() != '-';
    return has_alpha;
}

// A CIDR length written as "0" or without leading zeros, at most `maximum`.
std::optional<unsigned> parse_prefix_length(std::string_view digits, unsigned maximum) {
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
    unsigned value = 0;
    for (const char c : digits) {
        if (!is_digit(c)) return std::nullopt;
        value = value * 10 + unsigned(c - '0');
    }
    if (value > maximum) return std::nullopt;
    return value;
}

// Splits a trailing "/digits" off `body`; returns the digits ("" when there is none).
std::string_view take_trailing_length(std::string_view& body) {
    std::size_t start = body.size();
    while (start > 0 && is_digit(body[start - 1]))
        --start;
    if (start == body.size() || start == 0 || body[start - 1] != '/') return {};
    const std::string_view digits = body.substr(start);
    body = body.substr(0, start - 1);
    return digits;
}

net::IpAddress masked(net::IpAddress address, unsigned prefix_bits_128) {
    for (unsigned bit = prefix_bits_128; bit < 128; ++bit)
        address.bytes[bit / 8] &= std::uint8_t(~(0x80u >> (bit % 8)));
    return address;
}

bool only_address_characters(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
               c == '.';
    });
}

}  // namespace

bool MacroString::has_macros() const {
    return std::any_of(pieces.begin(), pieces.end(), [](const MacroPiece& piece) {
        return piece.kind == MacroPiece::Kind::Macro;
    });
}

namespace {

// Parses and reports whether the text ends with a macro-expand (for domain-end).
std::optional<MacroString> parse_macro_string_impl(std::string_view text, MacroContext context,
                                                   std::string* error, bool* ends_with_expand) {
    MacroString result;
    result.text = std::string(text);
    bool last_was_expand = false;
    auto add_literal = [&](std::string_view literal) {
        if (result.pieces.empty() || result.pieces.back().kind != MacroPiece::Kind::Literal) {
            result.pieces.push_back(MacroPiece{});
        }
        result.pieces.back().literal += literal;
    };
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c != '%') {
            const bool space_ok = context == MacroContext::Explanation && c == ' ';
            if ((c < 0x21 || c > 0x7e) && !space_ok) {
                set_error(error, "invalid character in '" + std::string(text) + "'");
                return std::nullopt;
            }
            add_literal(std::string_view(&text[i], 1));
            last_was_expand = false;
            ++i;
            continue;
        }
        if (i + 1 >= text.size()) {
            set_error(error, "'%' at the end of '" + std::string(text) + "'");
            return std::nullopt;
        }
        const char next = text[i + 1];
        if (next == '%' || next == '_' || next == '-') {
            add_literal(next == '%' ? "%" : next == '_' ? " " : "%20");
            last_was_expand = true;
            i += 2;
            continue;
        }
        if (next != '{') {
            set_error(error, "'%' must be followed by {, %, _ or - in '" + std::string(text) + "'");
            return std::nullopt;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            set_error(error, "unterminated macro in '" + std::string(text) + "'");
            return std::nullopt;
        }
        const std::string_view body = text.substr(i + 2, close - (i + 2));
        if (body.empty()) {
            set_error(error, "empty macro in '" + std::string(text) + "'");
            return std::nullopt;
        }
        MacroPiece piece;
        piece.kind = MacroPiece::Kind::Macro;
        piece.letter = ascii_lower(body[0]);
        piece.url_escape = body[0] >= 'A' && body[0] <= 'Z';
        static constexpr std::string_view kRecordLetters = "slodipvh";
        static constexpr std::string_view kExplanationLetters = "slodipvhcrt";
        const std::string_view allowed =
            context == MacroContext::Explanation ? kExplanationLetters : kRecordLetters;
        if (allowed.find(piece.letter) == std::string_view::npos) {
            set_error(error,
                      std::string("macro letter '") + body[0] + "' is not allowed " +
                          (std::string_view("crt").find(piece.letter) != std::string_view::npos
                               ? "outside exp= text"
                               : "(RFC 7208 §7.1)") +
                          " in '" + std::string(text) + "'");
            return std::nullopt;
        }
        std::size_t k = 1;
        if (k < body.size() && is_digit(body[k])) {
            unsigned long value = 0;
            while (k < body.size() && is_digit(body[k])) {
                value = std::min<unsigned long>(value * 10 + unsigned(body[k] - '0'), 100000);
                ++k;
            }
            if (value == 0) {
                set_error(error, "macro part count 0 in '" + std::string(text) + "'");
                return std::nullopt;
            }
            piece.keep_parts = unsigned(value);
        }
        if (k < body.size() && (body[k] == 'r' || body[k] == 'R')) {
            piece.reverse = true;
            ++k;
        }
        for (; k < body.size(); ++k) {
            if (std::string_view(".-+,/_=").find(body[k]) == std::string_view::npos) {
                set_error(error, "invalid macro delimiter '" + std::string(1, body[k]) + "' in '" +
                                     std::string(text) + "'");
                return std::nullopt;
            }
            piece.delimiters += body[k];
        }
        result.pieces.push_back(std::move(piece));
        last_was_expand = true;
        i = close + 1;
    }
    if (ends_with_expand) *ends_with_expand = last_was_expand;
    return result;
}

}  // namespace

std::optional<MacroString> parse_macro_string(std::string_view text, MacroContext context,
                                              std::string* error) {
    return parse_macro_string_impl(text, context, error, nullptr);
}

std::optional<MacroString> parse_domain_spec(std::string_view text, std::string* error) {
    if (text.empty()) {
        set_error(error, "empty domain-spec");
        return std::nullopt;
    }
    bool ends_with_expand = false;
    auto parsed = parse_macro_string_impl(text, MacroContext::DomainSpec, error, &ends_with_expand);
    if (!parsed) return std::nullopt;
    if (ends_with_expand) return parsed;
    // domain-end = "." toplabel [ "." ]
    std::string_view rest = text;
    if (rest.ends_with('.')) rest.remove_suffix(1);
    const std::size_t dot = rest.rfind('.');
    if (dot == std::string_view::npos || !is_toplabel(rest.substr(dot + 1))) {
        set_error(error, "'" + std::string(text) +
                             "' does not end in a valid top-level label (use a full domain name)");
        return std::nullopt;
    }
    return parsed;
}

std::string_view mechanism_name(SpfMechanismKind kind) {
    switch (kind) {
        case SpfMechanismKind::All:
            return "all";
        case SpfMechanismKind::Include:
            return "include";
        case SpfMechanismKind::A:
            return "a";
        case SpfMechanismKind::Mx:
            return "mx";
        case SpfMechanismKind::Ptr:
            return "ptr";
        case SpfMechanismKind::Ip4:
            return "ip4";
        case SpfMechanismKind::Ip6:
            return "ip6";
        case SpfMechanismKind::Exists:
            return "exists";
    }
    return "?";
}

bool SpfMechanism::counts_as_lookup() const {
    return kind == SpfMechanismKind::Include || kind == SpfMechanismKind::A ||
           kind == SpfMechanismKind::Mx || kind == SpfMechanismKind::Ptr ||
           kind == SpfMechanismKind::Exists;
}

bool is_spf_record(std::string_view txt) {
    if (txt.size() < 6) return false;
    if (lower(txt.substr(0, 6)) != "v=spf1") return false;
    return txt.size() == 6 || txt[6] == ' ';
}

namespace {

bool parse_mechanism(std::string_view term, SpfMechanism& mechanism, std::string* error) {
    mechanism.text = std::string(term);
    std::string_view rest = term;
    switch (rest.front()) {
        case '+':
        case '-':
        case '~':
        case '?':
            mechanism.qualifier = SpfQualifier(rest.front());
            rest.remove_prefix(1);
            break;
        default:
            break;
    }
    const std::size_t name_end = std::min(rest.find(':'), rest.find('/'));
    const std::string name = lower(rest.substr(0, name_end));
    std::string_view body =
        name_end == std::string_view::npos ? std::string_view{} : rest.substr(name_end);
    auto bad = [&](std::string why) {
        return set_error(error, "'" + std::string(term) + "': " + why);
    };

    static constexpr std::array<std::pair<std::string_view, SpfMechanismKind>, 8> kNames{{
        {"all", SpfMechanismKind::All},
        {"include", SpfMechanismKind::Include},
        {"a", SpfMechanismKind::A},
        {"mx", SpfMechanismKind::Mx},
        {"ptr", SpfMechanismKind::Ptr},
        {"ip4", SpfMechanismKind::Ip4},
        {"ip6", SpfMechanismKind::Ip6},
        {"exists", SpfMechanismKind::Exists},
    }};
    const auto known = std::find_if(kNames.begin(), kNames.end(),
                                    [&](const auto& entry) { return entry.first == name; });
    if (known == kNames.end()) return bad("unknown mechanism");
    mechanism.kind = known->second;

    auto parse_target = [&](std::string_view spec) -> bool {
        std::string why;
        mechanism.domain = parse_domain_spec(spec, &why);
        return mechanism.domain ? true : bad(why);
    };

    switch (mechanism.kind) {
        case SpfMechanismKind::All:
            if (!body.empty()) return bad("'all' takes no argument");
            return true;
        case SpfMechanismKind::Include:
        case SpfMechanismKind::Exists:
            if (!body.starts_with(':')) return bad("needs ':' and a domain");
            return parse_target(body.substr(1));
        case SpfMechanismKind::Ptr:
            if (body.empty()) return true;
            if (!body.starts_with(':')) return bad("'ptr' takes no CIDR length");
            return parse_target(body.substr(1));
        case SpfMechanismKind::A:
        case SpfMechanismKind::Mx: {
            // dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ], from the end.
            std::string_view digits = take_trailing_length(body);
            if (!digits.empty() && body.ends_with('/')) {
                body.remove_suffix(1);
                const auto length = parse_prefix_length(digits, 128);
                if (!length) return bad("IPv6 CIDR length must be 0-128");
                mechanism.ip6_prefix = *length;
                digits = take_trailing_length(body);
            }
            if (!digits.empty()) {
                const auto length = parse_prefix_length(digits, 32);
                if (!length) return bad("IPv4 CIDR length must be 0-32");
                mechanism.ip4_prefix = *length;
            }
            if (body.empty()) return true;
            if (!body.starts_with(':')) return bad("malformed argument");
            return parse_target(body.substr(1));
        }
        case SpfMechanismKind::Ip4:
        case SpfMechanismKind::Ip6: {
            const bool v4 = mechanism.kind == SpfMechanismKind::Ip4;
            if (!body.starts_with(':')) return bad("needs ':' and a network");
            body.remove_prefix(1);
            std::string_view address_text = body;
            unsigned prefix = v4 ? 32 : 128;
            if (const std::size_t slash = body.find('/'); slash != std::string_view::npos) {
                address_text = body.substr(0, slash);
                const auto length = parse_prefix_length(body.substr(slash + 1), v4 ? 32 : 128);
                if (!length)
                    return bad(v4 ? "IPv4 CIDR length must be 0-32"
                                  : "IPv6 CIDR length must be 0-128");
                prefix = *length;
            }
            const bool has_colon = address_text.find(':') != std::string_view::npos;
            const auto address = only_address_characters(address_text)
                                     ? net::IpAddress::parse(address_text)
                                     : std::nullopt;
            // ip4 takes a dotted quad only; ip6 any IPv6 spelling (incl. "::ffff:1.2.3.4").
            if (!address || has_colon == v4 || (v4 && !address->is_v4))
                return bad(v4 ? "not an IPv4 address" : "not an IPv6 address");
            mechanism.network = masked(*address, v4 ? 96 + prefix : prefix);
            if (v4) {
                mechanism.ip4_prefix = prefix;
            } else {
                mechanism.ip6_prefix = prefix;
            }
            return true;
        }
    }
    return bad("unknown mechanism");
}

// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ), then "="; returns the name length.
std::size_t modifier_name_length(std::string_view term) {
    if (term.empty() || !is_alpha(term[0])) return 0;
    std::size_t i = 1;
    while (i < term.size() &&
           (is_alnum(term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.'))
        ++i;
    return i < term.size() && term[i] == '=' ? i : 0;
}

}  // namespace

SpfParseResult parse_spf_record(std::string_view text) {
    SpfParseResult result;
    if (!is_spf_record(text)) {
        result.error = "not an SPF record (no 'v=spf1')";
        return result;
    }
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80) {
            result.error = "non-ASCII character in the record";
            return result;
        }
        if (byte != ' ' && (byte < 0x21 || byte > 0x7e)) {
            result.error = "control character in the record (terms are separated by spaces only)";
            return result;
        }
    }
    SpfRecord record;
    std::string_view rest = text.substr(6);
    while (!rest.empty()) {
        const std::size_t start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        const std::size_t end = rest.find(' ');
        const std::string_view term = rest.substr(0, end);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);

        if (const std::size_t name_length = modifier_name_length(term); name_length > 0) {
            const std::string name = lower(term.substr(0, name_length));
            const std::string_view value = term.substr(name_length + 1);
            std::string why;
            if (name == "redirect" || name == "exp") {
                auto& slot = name == "redirect" ? record.redirect : record.explanation;
                if (slot) {
                    result.error = "'" + name + "=' appears more than once";
                    return result;
                }
                slot = parse_domain_spec(value, &why);
                if (!slot) {
                    result.error = "'" + std::string(term) + "': " + why;
                    return result;
                }
            } else {
                auto parsed = parse_macro_string(value, MacroContext::DomainSpec, &why);
                if (!parsed) {
                    result.error = "'" + std::string(term) + "': " + why;
                    return result;
                }
                record.unknown_modifiers.push_back(SpfModifier{name, std::move(*parsed)});
            }
            continue;
        }
        SpfMechanism mechanism;
        if (!parse_mechanism(term, mechanism, &result.error)) return result;
        record.mechanisms.push_back(std::move(mechanism));
    }
    result.record = std::move(record);
    return result;
}

}  // namespace relaytrust::auth
