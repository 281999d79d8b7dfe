// DKIM-Signature header field parser (RFC 6376 §3.5, RFC 8463 for ed25519-sha256).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::auth {

enum class DkimAlgorithm : std::uint8_t { RsaSha1, RsaSha256, Ed25519Sha256 };
enum class DkimHash : std::uint8_t { Sha1, Sha256 };
enum class DkimKeyType : std::uint8_t { Rsa, Ed25519 };
enum class DkimCanonicalization : std::uint8_t { Simple, Relaxed };

std::string_view dkim_algorithm_name(DkimAlgorithm algorithm);  // "rsa-sha256", ...
DkimHash dkim_algorithm_hash(DkimAlgorithm algorithm);
DkimKeyType dkim_algorithm_key_type(DkimAlgorithm algorithm);
std::string_view dkim_hash_name(DkimHash hash);  // "sha1" | "sha256", as in the key's h=

struct DkimSignature {
    DkimAlgorithm algorithm = DkimAlgorithm::RsaSha256;
    DkimCanonicalization header_canonicalization = DkimCanonicalization::Simple;
    DkimCanonicalization body_canonicalization = DkimCanonicalization::Simple;
    std::string domain;                        // d=, lower-cased
    std::string selector;                      // s=, lower-cased
    std::vector<std::string> signed_headers;   // h=, as written; compare case-insensitively
    std::string body_hash;                     // bh=, decoded
    std::string signature;                     // b=, decoded
    std::string signature_base64;              // b= without whitespace (A-R header.b)
    std::string identity;                      // i=, or "@" + d= when absent
    std::optional<std::uint64_t> body_length;  // l=; saturates at UINT64_MAX
    std::optional<std::int64_t> timestamp;     // t=
    std::optional<std::int64_t> expiration;    // x=
    // The b= value in the raw header value, [begin, end): the header hash is computed over the
    // field with these bytes removed (RFC 6376 §3.7).
    std::size_t b_value_begin = 0;
    std::size_t b_value_end = 0;

    // "<selector>._domainkey.<domain>": where the key record lives (q=dns/txt).
    std::string key_record_name() const;
};

struct DkimSignatureParse {
    bool ok = false;
    std::string error;  // permerror reason when !ok
    // Filled as far as parsing got, so even a broken signature can be reported with d=/s=.
    DkimSignature signature;
};

// `raw_value` is the header field value exactly as received (everything after the colon,
// folding line breaks included).
DkimSignatureParse parse_dkim_signature(std::string_view raw_value);

}  // namespace relaytrust::auth
