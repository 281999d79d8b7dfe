// Text helpers for DKIM (RFC 6376) and DMARC (RFC 7489 / RFC 9989): the DKIM tag-list syntax,
// base64 with folding whitespace, and domain-name checks shared by the signature, key-record
// and DMARC code.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::auth {

// One "name=value" of an RFC 6376 §3.2 tag-list.
struct DkimTag {
    std::string_view name;
    std::string_view value;  // surrounding whitespace removed, inner folding whitespace kept
    // Offsets into the parsed text: just after '=' and the end of the tag-spec (the ';' or the
    // end of the text). The DKIM header hash needs the exact bytes of b= to blank them.
    std::size_t after_equals = 0;
    std::size_t spec_end = 0;
};

struct DkimTagList {
    bool ok = false;
    std::string error;  // set when !ok
    std::vector<DkimTag> tags;

    const DkimTag* find(std::string_view name) const;
};

// Parses "tag=value; tag=value; ..." where values may contain folding whitespace (CRLF + WSP).
// Tag names are case-sensitive; a duplicate tag is an error (RFC 6376 §3.2). Empty tag-specs
// (";;" or a trailing ";") are tolerated.
DkimTagList parse_dkim_tag_list(std::string_view text);

constexpr bool is_dkim_whitespace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Removes SP, HTAB, CR and LF from both ends.
std::string_view trim_dkim_whitespace(std::string_view text);

// Splits on `separator` and trims whitespace from each piece (empty pieces are kept).
std::vector<std::string_view> split_trimmed(std::string_view text, char separator);

// Base64 (RFC 4648) with whitespace allowed anywhere, as in b=, bh= and p=. Padding is optional;
// any other stray character makes the whole value invalid.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

std::string ascii_lower(std::string_view text);
bool iequals_ascii(std::string_view a, std::string_view b);

// A DNS name as DKIM and DMARC use it: dot-separated labels of 1..63 bytes, at most 253 bytes
// in all, no leading/trailing dot. Letters, digits, '-' and '_' are allowed (selectors and
// _dmarc-style names use '_'); bytes >= 0x80 are allowed so U-labels pass through to DNS.
bool is_valid_domain_name(std::string_view name);

// True when `name` equals `parent` or ends with "." + parent (ASCII case-insensitive).
bool is_same_or_subdomain(std::string_view name, std::string_view parent);

}  // namespace relaytrust::auth
