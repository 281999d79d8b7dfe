// libFuzzer target for the DMARC record parser (RFC 7489 / RFC 9989) and the From address
// parser that yields the Author Domain; the input is fed to both.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/dkim_text.h"
#include "auth/dmarc_author.h"
#include "auth/dmarc_record.h"

using namespace relaytrust::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const DmarcRecordParse parsed = parse_dmarc_record(text);
    if (parsed.ok != parsed.error.empty()) __builtin_trap();
    if (parsed.ok) {
        const DmarcRecord& record = parsed.record;
        if (!is_dmarc_record_text(text)) __builtin_trap();
        if (record.percent > 100 || record.failure_options.empty()) __builtin_trap();
        if (!record.has_subdomain_policy && record.subdomain_policy != record.policy)
            __builtin_trap();
        if (!record.has_nonexistent_policy && record.nonexistent_policy != record.subdomain_policy)
            __builtin_trap();
        if (record.policy_from_rua_fallback && record.aggregate_report_uris.empty())
            __builtin_trap();
    }

    const FromAddresses from = parse_from_addresses(text);
    if (from.ok != from.error.empty() || from.ok == from.domains.empty()) __builtin_trap();
    for (const std::string& domain : from.domains) {
        if (!is_valid_domain_name(domain) || ascii_lower(domain) != domain) __builtin_trap();
    }
    return 0;
}
