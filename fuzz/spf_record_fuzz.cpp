// libFuzzer target for the SPF record parser, macro parsing/expansion and the evaluator: the
// input is published as the TXT record of fuzz.example and checked for a fixed client, with an
// in-memory zone that answers every other name NXDOMAIN (names under "a." exist with an
// address, so a:/mx:/exists: paths that match are reached too).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/spf.h"
#include "auth/spf_macro.h"
#include "auth/spf_record.h"
#include "dns/zone_resolver.h"

namespace {

using namespace relaytrust;

dns::ZoneResolver& zone() {
    static dns::ZoneResolver resolver;
    static const bool filled = [] {
        resolver.set_record_queries(false);
        resolver.add_address("a.example", "192.0.2.1");
        resolver.add_mx("a.example", 10, "a.example");
        resolver.add_txt("inc.example", "v=spf1 ip4:192.0.2.0/24 -all");
        return true;
    }();
    (void)filled;
    return resolver;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // Macro strings on their own, in both contexts.
    for (const auto context : {auth::MacroContext::DomainSpec, auth::MacroContext::Explanation}) {
        std::string error;
        const auto macro = auth::parse_macro_string(input, context, &error);
        if (macro.has_value() == !error.empty() && !error.empty()) __builtin_trap();
        if (macro) {
            auth::MacroValues values;
            values.sender = "user@example.com";
            values.local_part = "user";
            values.sender_domain = values.domain = "example.com";
            values.client_ip = *net::IpAddress::parse("2001:db8::1");
            values.helo = "mail.example.com";
            const std::string domain = auth::expand_macros(*macro, values, true);
            // A domain expansion never exceeds 253 octets unless a single label is longer.
            if (domain.size() > 253 && domain.find('.') != std::string::npos) __builtin_trap();
            auth::expand_macros(*macro, values, false);
        }
    }

    // The record parser: a record either parses or says why not.
    const auth::SpfParseResult parsed = auth::parse_spf_record(input);
    if (parsed.record.has_value() == !parsed.error.empty()) __builtin_trap();

    // The evaluator on the input as published record (only plausible SPF text is worth it).
    if (auth::is_spf_record(input)) {
        dns::ZoneResolver& resolver = zone();
        resolver.remove("fuzz.example", dns::RecordType::TXT);
        resolver.add_txt("fuzz.example", input);
        auth::SpfRequest request;
        request.client_ip = *net::IpAddress::parse("192.0.2.1");
        request.helo = "mail.example.com";
        request.mail_from = "user@fuzz.example";
        auth::SpfOptions options;
        options.timestamp = 0;
        const auth::SpfResult result = auth::evaluate_spf(resolver, request, options);
        if (result.dns_lookups > options.max_dns_mechanisms + 1) __builtin_trap();
        if (result.void_lookups > options.max_void_lookups + 1) __builtin_trap();
        if (!parsed.record && result.code != auth::SpfResultCode::PermError) __builtin_trap();
        const std::string header = result.received_spf();
        if (header.find('\n') != std::string::npos || header.find('\r') != std::string::npos)
            __builtin_trap();
    }
    return 0;
}
