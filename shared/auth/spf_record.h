// SPF record syntax (RFC 7208 §4.5, §4.6, §5, §6, §7.1, §12): record selection, the term
// parser and macro-string parsing. Evaluation is in auth/spf.h, expansion in auth/spf_macro.h.
//
// The whole record is parsed before anything is evaluated, so a syntax error anywhere is a
// permerror even when an earlier term would have matched (RFC 7208 §4.6).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/network_set.h"

namespace relaytrust::auth {

// --- macro strings (RFC 7208 §7.1) ---

struct MacroPiece {
    enum class Kind : std::uint8_t { Literal, Macro };
    Kind kind = Kind::Literal;
    std::string literal;      // Kind::Literal: text after %% %_ %- substitution
    char letter = 0;          // Kind::Macro: lower-case macro letter (s l o d i p v h c r t)
    bool url_escape = false;  // the letter was written in upper case
    unsigned keep_parts = 0;  // DIGIT transformer: keep this many right-hand parts; 0 = all
    bool reverse = false;     // "r" transformer
    std::string delimiters;   // "" means "."
};

struct MacroString {
    std::vector<MacroPiece> pieces;
    std::string text;  // as written
    bool has_macros() const;
};

// Where a macro-string appears: c, r and t are only allowed in explanation text (§7.1), and
// only explanation text may contain spaces (explain-string = *( macro-string / SP )). Values of
// unknown modifiers follow the DomainSpec letter rules without the domain-end requirement.
enum class MacroContext : std::uint8_t { DomainSpec, Explanation };

// nullopt and *error set on a syntax error ("%" not followed by {, %, _ or -; unknown letter;
// zero DIGIT; characters outside %x21-7E).
std::optional<MacroString> parse_macro_string(std::string_view text, MacroContext context,
                                              std::string* error = nullptr);

// domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand.
std::optional<MacroString> parse_domain_spec(std::string_view text, std::string* error = nullptr);

// --- records ---

enum class SpfQualifier : char { Pass = '+', Fail = '-', SoftFail = '~', Neutral = '?' };

enum class SpfMechanismKind : std::uint8_t { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists };

std::string_view mechanism_name(SpfMechanismKind kind);

struct SpfMechanism {
    SpfQualifier qualifier = SpfQualifier::Pass;
    SpfMechanismKind kind = SpfMechanismKind::All;
    std::optional<MacroString> domain;  // include/exists always; a/mx/ptr when ":" given
    net::IpAddress network;             // ip4 / ip6
    unsigned ip4_prefix = 32;           // ip4, and a/mx against IPv4 clients
    unsigned ip6_prefix = 128;          // ip6, and a/mx against IPv6 clients
    std::string text;                   // the term as written, e.g. "-ip4:192.0.2.0/24"

    // Needs DNS, so counts against the 10-lookup limit (§4.6.4).
    bool counts_as_lookup() const;
};

struct SpfModifier {
    std::string name;  // lower-case
    MacroString value;
};

struct SpfRecord {
    std::vector<SpfMechanism> mechanisms;        // in record order
    std::optional<MacroString> redirect;         // redirect=
    std::optional<MacroString> explanation;      // exp=
    std::vector<SpfModifier> unknown_modifiers;  // parsed for syntax, otherwise ignored (§6)
};

struct SpfParseResult {
    std::optional<SpfRecord> record;
    std::string error;  // set when !record: what is wrong, quoting the term
};

// True for "v=spf1" exactly or followed by a space, case-insensitively (§4.5).
bool is_spf_record(std::string_view txt);

// Parses a record that is_spf_record() accepted. Terms are separated by one or more spaces;
// any other whitespace or control character is a syntax error, and so is non-ASCII text.
SpfParseResult parse_spf_record(std::string_view text);

}  // namespace relaytrust::auth
