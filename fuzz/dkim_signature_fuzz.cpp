// libFuzzer target for the DKIM-Signature parser and DKIM canonicalization. The input is one
// raw (possibly folded) header value; the same bytes also go through body canonicalization,
// whole and one byte at a time, which must agree.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/dkim_canonical.h"
#include "auth/dkim_signature.h"
#include "auth/dkim_text.h"

using namespace relaytrust::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const DkimSignatureParse parsed = parse_dkim_signature(value);
    if (parsed.ok != parsed.error.empty()) __builtin_trap();
    if (parsed.ok) {
        const DkimSignature& sig = parsed.signature;
        if (!is_valid_domain_name(sig.domain) || !is_valid_domain_name(sig.selector))
            __builtin_trap();
        if (sig.body_hash.empty() || sig.signature.empty()) __builtin_trap();
        if (sig.b_value_begin > sig.b_value_end || sig.b_value_end > value.size()) __builtin_trap();
        bool signs_from = false;
        for (const std::string& name : sig.signed_headers)
            signs_from = signs_from || iequals_ascii(name, "from");
        if (!signs_from) __builtin_trap();
        const std::size_t at = sig.identity.rfind('@');
        if (at == std::string::npos ||
            !is_same_or_subdomain(std::string_view(sig.identity).substr(at + 1), sig.domain))
            __builtin_trap();
    }

    const std::string relaxed_header =
        canonicalize_header(DkimCanonicalization::Relaxed, "DKIM-Signature", value);
    if (relaxed_header.size() < 2 || relaxed_header.find('\t') != std::string::npos ||
        relaxed_header.find("  ") != std::string::npos)
        __builtin_trap();

    for (const DkimCanonicalization mode :
         {DkimCanonicalization::Simple, DkimCanonicalization::Relaxed}) {
        const std::string whole = canonicalize_body(mode, value);
        std::string streamed;
        DkimBodyCanonicalizer canonicalizer(mode,
                                            [&](std::string_view bytes) { streamed += bytes; });
        for (std::size_t i = 0; i < value.size(); ++i)
            canonicalizer.feed(value.substr(i, 1));
        canonicalizer.finish();
        if (streamed != whole) __builtin_trap();
        // A canonical body is empty (relaxed only) or ends in exactly one line break.
        if (!whole.empty() && (!whole.ends_with("\r\n") || whole.ends_with("\r\n\r\n")) &&
            whole != "\r\n")
            __builtin_trap();
        if (mode == DkimCanonicalization::Relaxed &&
            (whole.find(" \r\n") != std::string::npos || whole.find('\t') != std::string::npos))
            __builtin_trap();
    }
    return 0;
}
