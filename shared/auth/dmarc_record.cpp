#include "auth/dmarc_record.h"

#include <algorithm>
#include <optional>

#include "auth/dkim_text.h"

namespace relaytrust::auth {
namespace {

struct DmarcTag {
    std::string name;  // lower-cased
    std::string_view value;
};

// "name = value" pieces between semicolons; pieces without '=' are syntax errors that RFC 7489
// §6.3 says to discard.
std::vector<DmarcTag> split_tags(std::string_view text) {
    std::vector<DmarcTag> tags;
    for (const std::string_view spec : split_trimmed(text, ';')) {
        const std::size_t equals = spec.find('=');
        if (equals == std::string_view::npos) continue;
        const std::string_view name = trim_dkim_whitespace(spec.substr(0, equals));
        if (name.empty()) continue;
        tags.push_back(DmarcTag{ascii_lower(name), trim_dkim_whitespace(spec.substr(equals + 1))});
    }
    return tags;
}

std::optional<DmarcPolicy> policy_from(std::string_view value) {
    if (iequals_ascii(value, "none")) return DmarcPolicy::None;
    if (iequals_ascii(value, "quarantine")) return DmarcPolicy::Quarantine;
    if (iequals_ascii(value, "reject")) return DmarcPolicy::Reject;
    return std::nullopt;
}

std::optional<std::uint64_t> small_number(std::string_view value) {
    if (value.empty() || value.size() > 10) return std::nullopt;
    std::uint64_t number = 0;
    for (const char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        number = number * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return number;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One rua/ruf entry: drop the "!size" limit, percent-decode (mailto: addresses are
// percent-encoded, RFC 6068), and drop whitespace, which no address can contain unquoted.
std::string report_uri(std::string_view entry) {
    const std::size_t bang = entry.rfind('!');
    if (bang != std::string_view::npos) entry = entry.substr(0, bang);
    std::string decoded;
    for (std::size_t i = 0; i < entry.size(); ++i) {
        if (entry[i] == '%' && i + 2 < entry.size() && hex_value(entry[i + 1]) >= 0 &&
            hex_value(entry[i + 2]) >= 0) {
            decoded.push_back(
                static_cast<char>(hex_value(entry[i + 1]) * 16 + hex_value(entry[i + 2])));
            i += 2;
        } else {
            decoded.push_back(entry[i]);
        }
    }
    std::string out;
    for (const char c : decoded) {
        if (!is_dkim_whitespace(c)) out.push_back(c);
    }
    return out;
}

// RFC 3986 shape: scheme ":" something.
bool is_uri(std::string_view uri) {
    const std::size_t colon = uri.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon + 1 == uri.size()) return false;
    for (std::size_t i = 0; i < colon; ++i) {
        const char c = uri[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
        if (!alpha && (i == 0 || !other)) return false;
    }
    return true;
}

std::vector<std::string> report_uris(std::string_view value) {
    std::vector<std::string> uris;
    for (const std::string_view entry : split_trimmed(value, ',')) {
        std::string uri = report_uri(entry);
        if (is_uri(uri)) uris.push_back(std::move(uri));
    }
    return uris;
}

std::string failure_options(std::string_view value) {
    bool zero = false;
    bool one = false;
    bool dkim = false;
    bool spf = false;
    for (const std::string_view option : split_trimmed(value, ':')) {
        if (option == "0") zero = true;
        if (option == "1") one = true;
        if (iequals_ascii(option, "d")) dkim = true;
        if (iequals_ascii(option, "s")) spf = true;
    }
    std::string out;
    for (const auto& [set, name] :
         {std::pair{zero, "0"}, std::pair{one, "1"}, std::pair{dkim, "d"}, std::pair{spf, "s"}}) {
        if (!set) continue;
        if (!out.empty()) out += ':';
        out += name;
    }
    return out.empty() ? "0" : out;
}

}  // namespace

std::string_view dmarc_policy_name(DmarcPolicy policy) {
    switch (policy) {
        case DmarcPolicy::None:
            return "none";
        case DmarcPolicy::Quarantine:
            return "quarantine";
        case DmarcPolicy::Reject:
            return "reject";
    }
    return "none";
}

bool is_dmarc_record_text(std::string_view text) {
    const std::string_view first = trim_dkim_whitespace(text.substr(0, text.find(';')));
    const std::size_t equals = first.find('=');
    if (equals == std::string_view::npos) return false;
    // RFC 7489 spells the version with %x values: "DMARC1" is case-sensitive, the tag name not.
    return iequals_ascii(trim_dkim_whitespace(first.substr(0, equals)), "v") &&
           trim_dkim_whitespace(first.substr(equals + 1)) == "DMARC1";
}

DmarcRecordParse parse_dmarc_record(std::string_view text) {
    DmarcRecordParse result;
    if (!is_dmarc_record_text(text)) {
        result.error = "not a DMARC record (must start with v=DMARC1)";
        return result;
    }
    DmarcRecord& record = result.record;
    std::optional<DmarcPolicy> policy;
    std::optional<DmarcPolicy> subdomain_policy;
    std::optional<DmarcPolicy> nonexistent_policy;
    bool policy_invalid = true;  // missing counts as invalid
    bool subdomain_policy_invalid = false;
    std::vector<std::string> seen_names;  // the first occurrence of a tag wins

    for (const DmarcTag& tag : split_tags(text)) {
        const std::string& name = tag.name;
        const std::string_view value = tag.value;
        if (std::find(seen_names.begin(), seen_names.end(), name) != seen_names.end()) continue;
        seen_names.push_back(name);
        if (name == "p") {
            policy = policy_from(value);
            policy_invalid = !policy;
        } else if (name == "sp") {
            subdomain_policy = policy_from(value);
            subdomain_policy_invalid = !subdomain_policy;
        } else if (name == "np") {
            nonexistent_policy = policy_from(value);
        } else if (name == "adkim" || name == "aspf") {
            const DmarcAlignmentMode mode = iequals_ascii(value, "s") ? DmarcAlignmentMode::Strict
                                                                      : DmarcAlignmentMode::Relaxed;
            (name == "adkim" ? record.dkim_alignment : record.spf_alignment) = mode;
        } else if (name == "pct") {
            const auto percent = small_number(value);
            if (percent && *percent <= 100) record.percent = static_cast<unsigned>(*percent);
        } else if (name == "psd") {
            if (iequals_ascii(value, "y")) record.psd = DmarcPsd::Yes;
            if (iequals_ascii(value, "n")) record.psd = DmarcPsd::No;
        } else if (name == "t") {
            record.testing = iequals_ascii(value, "y");
        } else if (name == "rua") {
            record.aggregate_report_uris = report_uris(value);
        } else if (name == "ruf") {
            record.failure_report_uris = report_uris(value);
        } else if (name == "fo") {
            record.failure_options = failure_options(value);
        } else if (name == "rf") {
            if (!value.empty()) record.report_format = ascii_lower(value);
        } else if (name == "ri") {
            const auto interval = small_number(value);
            if (interval && *interval <= 0xffffffffu)
                record.report_interval = static_cast<std::uint32_t>(*interval);
        }
    }

    if (policy_invalid || subdomain_policy_invalid) {
        if (record.aggregate_report_uris.empty()) {
            result.error = policy_invalid ? "missing or invalid p= and no usable rua="
                                          : "invalid sp= and no usable rua=";
            return result;
        }
        // RFC 7489 §6.6.3: act as if the record said p=none.
        record.policy_from_rua_fallback = true;
        policy = DmarcPolicy::None;
        subdomain_policy = DmarcPolicy::None;
        nonexistent_policy = DmarcPolicy::None;
    }
    record.policy = *policy;
    record.has_subdomain_policy = subdomain_policy.has_value();
    record.subdomain_policy = subdomain_policy.value_or(record.policy);
    record.has_nonexistent_policy = nonexistent_policy.has_value();
    record.nonexistent_policy = nonexistent_policy.value_or(record.subdomain_policy);
    result.ok = true;
    return result;
}

}  // namespace relaytrust::auth
