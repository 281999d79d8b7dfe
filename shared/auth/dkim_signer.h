// DKIM signing (RFC 6376 §5), used to produce signed test messages for the end-to-end tests,
// the benchmarks and the verifier's own round-trip tests. Same canonicalization code as the
// verifier, so the two cannot drift apart silently: the RFC vectors pin both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/dkim_signature.h"

namespace relaytrust::auth {

struct DkimSignOptions {
    DkimAlgorithm algorithm = DkimAlgorithm::RsaSha256;
    std::string domain;    // d=
    std::string selector;  // s=
    // PEM private key (PKCS#8 or "RSA PRIVATE KEY"); for ed25519-sha256 also the raw 32-byte
    // seed.
    std::string private_key;
    DkimCanonicalization header_canonicalization = DkimCanonicalization::Relaxed;
    DkimCanonicalization body_canonicalization = DkimCanonicalization::Relaxed;
    std::vector<std::string> signed_headers = {"From", "To", "Subject", "Date", "Message-ID"};
    std::string identity;                    // i=, omitted when empty
    std::optional<std::int64_t> timestamp;   // t=
    std::optional<std::int64_t> expiration;  // x=
    bool include_body_length = false;        // l= with the whole canonical body
};

struct DkimSignResult {
    bool ok = false;
    std::string error;
    // The DKIM-Signature value to add above the signed headers: " v=1; a=...; b=..." with the
    // b= value folded (CRLF + TAB) every 64 characters.
    std::string header_value;
};

// A fresh key pair for signing: the private key as PEM (for DkimSignOptions::private_key) and
// the DNS TXT record that publishes the public half ("v=DKIM1; k=...; <extra_tags>p=...").
struct DkimKeyPair {
    std::string private_pem;
    std::string record;
};
// algorithm RsaSha256 (rsa_bits) or Ed25519Sha256; extra_tags: more record tags, each ending
// in "; " (e.g. "t=s; "). Empty optional when OpenSSL cannot make the key.
std::optional<DkimKeyPair> generate_dkim_key(DkimAlgorithm algorithm, unsigned rsa_bits = 2048,
                                             std::string_view extra_tags = "");

// `headers` are (name, raw value) pairs in message order; `body` in wire form.
DkimSignResult dkim_sign(const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body, const DkimSignOptions& options);

}  // namespace relaytrust::auth
