#include "auth/dkim_signature.h"

#include <limits>

#include "auth/dkim_text.h"

namespace relaytrust::auth {
namespace {

bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// Decimal with saturation: l= may legally have up to 76 digits.
std::uint64_t parse_saturating(std::string_view digits) {
    std::uint64_t value = 0;
    for (const char c : digits) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return std::numeric_limits<std::uint64_t>::max();
        value = value * 10 + digit;
    }
    return value;
}

std::optional<DkimCanonicalization> canonicalization_from(std::string_view name) {
    if (iequals_ascii(name, "simple")) return DkimCanonicalization::Simple;
    if (iequals_ascii(name, "relaxed")) return DkimCanonicalization::Relaxed;
    return std::nullopt;
}

std::string without_whitespace(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (!is_dkim_whitespace(c)) out.push_back(c);
    }
    return out;
}

}  // namespace

std::string_view dkim_algorithm_name(DkimAlgorithm algorithm) {
    switch (algorithm) {
        case DkimAlgorithm::RsaSha1:
            return "rsa-sha1";
        case DkimAlgorithm::RsaSha256:
            return "rsa-sha256";
        case DkimAlgorithm::Ed25519Sha256:
            return "ed25519-sha256";
    }
    return "unknown";
}

DkimHash dkim_algorithm_hash(DkimAlgorithm algorithm) {
    return algorithm == DkimAlgorithm::RsaSha1 ? DkimHash::Sha1 : DkimHash::Sha256;
}

DkimKeyType dkim_algorithm_key_type(DkimAlgorithm algorithm) {
    return algorithm == DkimAlgorithm::Ed25519Sha256 ? DkimKeyType::Ed25519 : DkimKeyType::Rsa;
}

std::string_view dkim_hash_name(DkimHash hash) {
    return hash == DkimHash::Sha1 ? "sha1" : "sha256";
}

std::string DkimSignature::key_record_name() const {
    return selector + "._domainkey." + domain;
}

DkimSignatureParse parse_dkim_signature(std::string_view raw_value) {
    DkimSignatureParse result;
    DkimSignature& sig = result.signature;
    const DkimTagList list = parse_dkim_tag_list(raw_value);
    if (!list.ok) {
        result.error = list.error;
        return result;
    }
    auto fail = [&result](std::string error) -> DkimSignatureParse& {
        result.error = std::move(error);
        return result;
    };

    // d= and s= first so that later errors can still be reported against the signer.
    const DkimTag* domain = list.find("d");
    const DkimTag* selector = list.find("s");
    if (domain != nullptr) sig.domain = ascii_lower(domain->value);
    if (selector != nullptr) sig.selector = ascii_lower(selector->value);

    const DkimTag* version = list.find("v");
    if (version == nullptr) return fail("missing v= tag");
    if (version->value != "1") return fail("unsupported version v=" + std::string(version->value));

    const DkimTag* algorithm = list.find("a");
    if (algorithm == nullptr) return fail("missing a= tag");
    if (iequals_ascii(algorithm->value, "rsa-sha256")) {
        sig.algorithm = DkimAlgorithm::RsaSha256;
    } else if (iequals_ascii(algorithm->value, "rsa-sha1")) {
        sig.algorithm = DkimAlgorithm::RsaSha1;
    } else if (iequals_ascii(algorithm->value, "ed25519-sha256")) {
        sig.algorithm = DkimAlgorithm::Ed25519Sha256;
    } else {
        return fail("unsupported algorithm a=" + std::string(algorithm->value));
    }

    if (domain == nullptr) return fail("missing d= tag");
    if (!is_valid_domain_name(sig.domain)) return fail("invalid d= domain");
    if (selector == nullptr) return fail("missing s= tag");
    if (!is_valid_domain_name(sig.selector)) return fail("invalid s= selector");

    const DkimTag* b = list.find("b");
    if (b == nullptr) return fail("missing b= tag");
    std::optional<std::string> signature = decode_base64(b->value);
    if (!signature || signature->empty()) return fail("invalid b= base64");
    sig.signature = std::move(*signature);
    sig.signature_base64 = without_whitespace(b->value);
    sig.b_value_begin = b->after_equals;
    sig.b_value_end = b->spec_end;

    const DkimTag* body_hash = list.find("bh");
    if (body_hash == nullptr) return fail("missing bh= tag");
    std::optional<std::string> body_hash_bytes = decode_base64(body_hash->value);
    if (!body_hash_bytes || body_hash_bytes->empty()) return fail("invalid bh= base64");
    sig.body_hash = std::move(*body_hash_bytes);

    if (const DkimTag* canon = list.find("c")) {
        const std::string_view value = canon->value;
        const std::size_t slash = value.find('/');
        const auto header_canon = canonicalization_from(value.substr(0, slash));
        if (!header_canon) return fail("invalid c= canonicalization");
        sig.header_canonicalization = *header_canon;
        if (slash != std::string_view::npos) {
            const auto body_canon = canonicalization_from(value.substr(slash + 1));
            if (!body_canon) return fail("invalid c= canonicalization");
            sig.body_canonicalization = *body_canon;
        }
    }

    const DkimTag* headers = list.find("h");
    if (headers == nullptr) return fail("missing h= tag");
    bool signs_from = false;
    for (const std::string_view name : split_trimmed(headers->value, ':')) {
        if (name.empty()) return fail("empty header name in h=");
        for (const char c : name) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte <= 0x20 || byte >= 0x7f) return fail("invalid header name in h=");
        }
        if (iequals_ascii(name, "from")) signs_from = true;
        sig.signed_headers.emplace_back(name);
    }
    if (!signs_from) return fail("h= does not include From");

    if (const DkimTag* identity = list.find("i")) {
        const std::size_t at = identity->value.rfind('@');
        if (at == std::string_view::npos) return fail("i= has no '@'");
        const std::string_view identity_domain = identity->value.substr(at + 1);
        if (!is_same_or_subdomain(identity_domain, sig.domain))
            return fail("i= domain is not d= or a subdomain of it");
        sig.identity = std::string(identity->value);
    } else {
        sig.identity = "@" + sig.domain;
    }

    if (const DkimTag* length = list.find("l")) {
        if (!all_digits(length->value) || length->value.size() > 76) return fail("invalid l=");
        sig.body_length = parse_saturating(length->value);
    }

    if (const DkimTag* query = list.find("q")) {
        bool dns_txt = false;
        for (const std::string_view method : split_trimmed(query->value, ':')) {
            if (iequals_ascii(method, "dns/txt")) dns_txt = true;
        }
        if (!dns_txt) return fail("q= does not offer dns/txt");
    }

    for (const char* tag_name : {"t", "x"}) {
        const DkimTag* tag = list.find(tag_name);
        if (tag == nullptr) continue;
        // RFC 6376 allows 12 digits; anything longer cannot be a real time.
        if (!all_digits(tag->value) || tag->value.size() > 12)
            return fail(std::string("invalid ") + tag_name + "=");
        const auto value = static_cast<std::int64_t>(parse_saturating(tag->value));
        (tag_name[0] == 't' ? sig.timestamp : sig.expiration) = value;
    }
    if (sig.timestamp && sig.expiration && *sig.expiration < *sig.timestamp)
        return fail("x= is before t=");

    result.ok = true;
    return result;
}

}  // namespace relaytrust::auth
