// Strict parsers for the verdict headers AV/spam relays write (SpamAssassin, amavis, rspamd,
// Stalwart, ClamAV). Parse, don't grep: a token "BAYES_00" never means "yes".
// Grammar notes: ../shared/reference/field-notes.md §4.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::headers {

// Which header family a name belongs to (case-insensitive names).
enum class VerdictHeaderKind {
    None,          // not a verdict header
    SpamStatus,    // X-Spam-Status (SA, amavis, rspamd, Stalwart), X-Amavis-Spam-Status
    SpamFlag,      // X-Spam-Flag: YES|NO, X-Spam: Yes|No (rspamd)
    SpamLevel,     // X-Spam-Level: ***
    SpamScore,     // X-Spam-Score: 6.1 (amavis) | spam|ham, score=7.00 (Stalwart)
    SpamdResult,   // X-Spamd-Result: default: True [s / t]; ...
    RspamdScore,   // X-Rspamd-Score: 6.10
    SpamOther,     // other verdict-bearing names we strip but do not read:
                   // X-Spam-Report, X-Spam-Checker-Version, X-Spam-Tests, X-Spamd-Bar,
                   // X-Rspamd-Action, X-Spam-Result, X-Amavis-*, X-Quarantine-ID...
    VirusStatus,   // X-Virus-Status: Clean | Infected (ClamAV), X-Virus-Found / X-Virus
    VirusScanned,  // X-Virus-Scanned: ClamAV using ClamSMTP / amavisd-new at host (free text)
};

VerdictHeaderKind classify_verdict_header(std::string_view name);

// What one header instance says. Fields a header does not carry stay empty.
struct SpamVerdict {
    std::optional<bool> is_spam;         // the authoritative Yes/No (or spam|ham, True|False)
    std::optional<double> score;         // score= / hits= / bare number / [s / t]
    std::optional<double> required;      // required= / threshold t
    std::optional<double> tagged_above;  // amavis tagged_above=
    std::vector<std::string> tests;      // tests=A,B or tests=[A=1.1, B=-2] (names only)
    std::string reason;                  // Stalwart reason=...
    std::optional<bool> virus_found;     // for virus headers
    std::string virus_name;              // ClamAV "Infected (Eicar-Test-Signature)" etc.
    std::string scanner;                 // X-Virus-Scanned text
};

struct ParseResult {
    bool ok = false;
    std::string error;  // why it did not parse (for `relaytrust test` output and logs)
    SpamVerdict verdict;
};

// Unfolds (removes CRLF before WSP) and trims the raw value, then parses per kind.
ParseResult parse_verdict_header(VerdictHeaderKind kind, std::string_view raw_value);

// RFC 5322 unfolding: CRLF or LF followed by WSP becomes that WSP. Also trims both ends.
std::string unfold(std::string_view raw_value);

// The same text as unfold(raw_value), without a copy when there is nothing to unfold: a view
// of raw_value when it has no line break inside, else of `storage`, which receives the
// unfolded text. The view lives as long as both.
std::string_view unfold(std::string_view raw_value, std::string& storage);

// ASCII case-insensitive equality for header names. Inline: the engine compares header names
// many times per message, and most comparisons end at the length check.
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i] && lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace relaytrust::headers
