// DKIM key records (RFC 6376 §3.6.1, RFC 8463 k=ed25519) and signature verification with
// OpenSSL 3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim_signature.h"

namespace relaytrust::auth {

struct DkimKeyRecord {
    DkimKeyType type = DkimKeyType::Rsa;  // k=, default rsa
    std::string public_key;               // p=, decoded; empty = revoked
    std::vector<std::string> hashes;      // h=, lower-cased; empty = every hash allowed
    bool testing = false;                 // t=y
    bool strict_identity = false;         // t=s: i= must not be a subdomain of d=

    bool revoked() const { return public_key.empty(); }
    bool allows_hash(DkimHash hash) const;
};

struct DkimKeyParse {
    bool ok = false;
    std::string error;  // permerror reason when !ok
    DkimKeyRecord key;
};

// One TXT record's text (character-strings already joined).
DkimKeyParse parse_dkim_key_record(std::string_view text);

enum class DkimCryptoOutcome : std::uint8_t {
    Verified,      // the signature matches
    BadSignature,  // well-formed key, the signature does not match
    KeyUnusable,   // the key cannot be used (undecodable, wrong type, too small/large)
};

struct DkimCryptoResult {
    DkimCryptoOutcome outcome = DkimCryptoOutcome::KeyUnusable;
    std::string detail;     // why, for KeyUnusable
    unsigned key_bits = 0;  // RSA modulus size, 256 for Ed25519
};

struct DkimKeyLimits {
    unsigned min_rsa_bits = 1024;  // RFC 8301: smaller keys MUST NOT be considered valid
    unsigned max_rsa_bits = 8192;  // bounds the verification cost an attacker can cause
};

// Verifies `signature` over `signed_headers` (the canonicalized header block, DKIM-Signature
// last with b= empty): RSA as PKCS#1 v1.5 over the header bytes, Ed25519 over the SHA-256 of
// them (RFC 8463 §3). RSA keys may be SubjectPublicKeyInfo or bare PKCS#1 RSAPublicKey DER;
// Ed25519 keys are the raw 32 bytes.
DkimCryptoResult verify_dkim_crypto(DkimAlgorithm algorithm, const DkimKeyRecord& key,
                                    std::string_view signed_headers, std::string_view signature,
                                    const DkimKeyLimits& limits = {});

// Signs `signed_headers` with a PEM private key (PKCS#8 or traditional RSA), or for Ed25519
// also a raw 32-byte seed. Returns nullopt and sets `error` on failure.
std::optional<std::string> sign_dkim_crypto(DkimAlgorithm algorithm, std::string_view private_key,
                                            std::string_view signed_headers, std::string* error);

// SHA-1 / SHA-256 of `data`, raw bytes.
std::string dkim_digest(DkimHash hash, std::string_view data);

}  // namespace relaytrust::auth
