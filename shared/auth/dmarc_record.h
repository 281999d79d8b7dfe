// DMARC policy record parser (RFC 7489 §6.3 and RFC 9989: np=, psd=, t=).
//
// Lenient where the RFCs say to be: tag names and values are case-insensitive, whitespace
// around '=' is allowed, unknown tags and malformed tag-specs are ignored, an invalid value for
// an optional tag falls back to its default (RFC 7489 §6.3). A missing or invalid p= (or an
// invalid sp=) invalidates the record unless rua= holds a usable URI, in which case the record
// acts as p=none (RFC 7489 §6.6.3). An invalid np= is ignored (np then follows sp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::auth {

enum class DmarcPolicy : std::uint8_t { None, Quarantine, Reject };
enum class DmarcAlignmentMode : std::uint8_t { Relaxed, Strict };
enum class DmarcPsd : std::uint8_t { Unset, Yes, No };  // psd=u|y|n (RFC 9989)

std::string_view dmarc_policy_name(DmarcPolicy policy);  // "none" | "quarantine" | "reject"

struct DmarcRecord {
    DmarcPolicy policy = DmarcPolicy::None;              // p=
    DmarcPolicy subdomain_policy = DmarcPolicy::None;    // sp=, defaults to p=
    DmarcPolicy nonexistent_policy = DmarcPolicy::None;  // np=, defaults to sp=
    bool has_subdomain_policy = false;                   // sp= was given
    bool has_nonexistent_policy = false;                 // np= was given
    bool policy_from_rua_fallback = false;  // p=/sp= unusable, kept alive as p=none by rua=
    DmarcAlignmentMode dkim_alignment = DmarcAlignmentMode::Relaxed;  // adkim=
    DmarcAlignmentMode spf_alignment = DmarcAlignmentMode::Relaxed;   // aspf=
    unsigned percent = 100;                          // pct= (RFC 7489 only; RFC 9989 dropped it)
    DmarcPsd psd = DmarcPsd::Unset;                  // psd=
    bool testing = false;                            // t=y (RFC 9989)
    std::vector<std::string> aggregate_report_uris;  // rua=, "!size" suffix removed
    std::vector<std::string> failure_report_uris;    // ruf=
    std::string failure_options = "0";               // fo=, normalized to the order 0:1:d:s
    std::string report_format = "afrf";              // rf= (RFC 7489 only)
    std::uint32_t report_interval = 86400;           // ri= (RFC 7489 only)
};

struct DmarcRecordParse {
    bool ok = false;
    std::string error;  // why the text is not a usable DMARC record
    DmarcRecord record;
};

// True when the TXT text starts with the v=DMARC1 tag: the discovery filter of RFC 7489 §6.6.3
// (other TXT records at _dmarc names are discarded before counting).
bool is_dmarc_record_text(std::string_view text);

DmarcRecordParse parse_dmarc_record(std::string_view text);

}  // namespace relaytrust::auth
