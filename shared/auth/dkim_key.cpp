#include "auth/dkim_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "auth/dkim_text.h"

namespace relaytrust::auth {
namespace {

struct PkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

constexpr std::size_t kEd25519KeyBytes = 32;

const EVP_MD* message_digest(DkimHash hash) {
    return hash == DkimHash::Sha1 ? EVP_sha1() : EVP_sha256();
}

const unsigned char* bytes_of(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

// p= should be SubjectPublicKeyInfo, but bare PKCS#1 RSAPublicKey is common in the wild and
// accepted by every major verifier.
PkeyPtr decode_rsa_public_key(std::string_view der) {
    const unsigned char* cursor = bytes_of(der);
    PkeyPtr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
    if (key && cursor == bytes_of(der) + der.size()) return key;
    key.reset();
    cursor = bytes_of(der);
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, static_cast<long>(der.size())));
    if (key && cursor == bytes_of(der) + der.size()) return key;
    return nullptr;
}

PkeyPtr load_private_key(DkimAlgorithm algorithm, std::string_view text, std::string* error) {
    PkeyPtr key;
    if (text.starts_with("-----BEGIN")) {
        std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(text.data(), int(text.size())));
        if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    } else if (algorithm == DkimAlgorithm::Ed25519Sha256 && text.size() == kEd25519KeyBytes) {
        key.reset(
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes_of(text), text.size()));
    }
    if (!key) {
        *error = "unreadable private key";
        return nullptr;
    }
    const int wanted =
        dkim_algorithm_key_type(algorithm) == DkimKeyType::Rsa ? EVP_PKEY_RSA : EVP_PKEY_ED25519;
    if (EVP_PKEY_get_base_id(key.get()) != wanted) {
        *error = "private key type does not match the algorithm";
        return nullptr;
    }
    return key;
}

}  // namespace

bool DkimKeyRecord::allows_hash(DkimHash hash) const {
    if (hashes.empty()) return true;
    for (const std::string& name : hashes) {
        if (name == dkim_hash_name(hash)) return true;
    }
    return false;
}

DkimKeyParse parse_dkim_key_record(std::string_view text) {
    DkimKeyParse result;
    const DkimTagList list = parse_dkim_tag_list(text);
    if (!list.ok) {
        result.error = "key record: " + list.error;
        return result;
    }
    if (const DkimTag* version = list.find("v")) {
        if (&list.tags.front() != version || version->value != "DKIM1") {
            result.error = "key record: v= must come first and be DKIM1";
            return result;
        }
    }
    if (const DkimTag* type = list.find("k")) {
        if (iequals_ascii(type->value, "rsa")) {
            result.key.type = DkimKeyType::Rsa;
        } else if (iequals_ascii(type->value, "ed25519")) {
            result.key.type = DkimKeyType::Ed25519;
        } else {
            result.error = "key record: unknown key type k=" + std::string(type->value);
            return result;
        }
    }
    if (const DkimTag* hashes = list.find("h")) {
        for (const std::string_view name : split_trimmed(hashes->value, ':')) {
            if (!name.empty()) result.key.hashes.push_back(ascii_lower(name));
        }
    }
    if (const DkimTag* services = list.find("s")) {
        bool email = false;
        for (const std::string_view service : split_trimmed(services->value, ':')) {
            if (service == "*" || iequals_ascii(service, "email")) email = true;
        }
        if (!email) {
            result.error = "key record: s= does not allow email";
            return result;
        }
    }
    if (const DkimTag* flags = list.find("t")) {
        for (const std::string_view flag : split_trimmed(flags->value, ':')) {
            if (flag == "y") result.key.testing = true;
            if (flag == "s") result.key.strict_identity = true;
        }
    }
    const DkimTag* public_key = list.find("p");
    if (public_key == nullptr) {
        result.error = "key record: missing p= tag";
        return result;
    }
    std::optional<std::string> decoded = decode_base64(public_key->value);
    if (!decoded) {
        result.error = "key record: invalid p= base64";
        return result;
    }
    result.key.public_key = std::move(*decoded);
    result.ok = true;
    return result;
}

std::string dkim_digest(DkimHash hash, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, message_digest(hash), nullptr) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(digest), length);
}

DkimCryptoResult verify_dkim_crypto(DkimAlgorithm algorithm, const DkimKeyRecord& key,
                                    std::string_view signed_headers, std::string_view signature,
                                    const DkimKeyLimits& limits) {
    DkimCryptoResult result;
    if (key.type != dkim_algorithm_key_type(algorithm)) {
        result.detail = "key type does not match a=";
        return result;
    }
    PkeyPtr public_key;
    std::string ed25519_digest;
    std::string_view data = signed_headers;
    const EVP_MD* md = nullptr;
    if (key.type == DkimKeyType::Rsa) {
        public_key = decode_rsa_public_key(key.public_key);
        if (!public_key || EVP_PKEY_get_base_id(public_key.get()) != EVP_PKEY_RSA) {
            ERR_clear_error();
            result.detail = "p= is not an RSA public key";
            return result;
        }
        result.key_bits = static_cast<unsigned>(EVP_PKEY_get_bits(public_key.get()));
        if (result.key_bits < limits.min_rsa_bits) {
            result.detail = "RSA key of " + std::to_string(result.key_bits) + " bits is too small";
            return result;
        }
        if (result.key_bits > limits.max_rsa_bits) {
            result.detail = "RSA key of " + std::to_string(result.key_bits) + " bits is too large";
            return result;
        }
        md = message_digest(dkim_algorithm_hash(algorithm));
    } else {
        if (key.public_key.size() != kEd25519KeyBytes) {
            result.detail = "p= is not a 32-byte Ed25519 key";
            return result;
        }
        public_key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                     bytes_of(key.public_key), kEd25519KeyBytes));
        if (!public_key) {
            ERR_clear_error();
            result.detail = "p= is not a usable Ed25519 key";
            return result;
        }
        result.key_bits = 256;
        // RFC 8463 §3: Ed25519 signs the SHA-256 hash of the canonicalized headers (PureEdDSA,
        // so no message digest in the verify context).
        ed25519_digest = dkim_digest(DkimHash::Sha256, signed_headers);
        data = ed25519_digest;
    }

    MdCtxPtr ctx(EVP_MD_CTX_new());
    int verified = -1;
    if (ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, public_key.get()) == 1) {
        verified = EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(),
                                    bytes_of(data), data.size());
    }
    ERR_clear_error();  // the error queue is per thread and must not grow with bad signatures
    result.outcome = verified == 1 ? DkimCryptoOutcome::Verified : DkimCryptoOutcome::BadSignature;
    return result;
}

std::optional<std::string> sign_dkim_crypto(DkimAlgorithm algorithm, std::string_view private_key,
                                            std::string_view signed_headers, std::string* error) {
    PkeyPtr key = load_private_key(algorithm, private_key, error);
    if (!key) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::string ed25519_digest;
    std::string_view data = signed_headers;
    const EVP_MD* md = nullptr;
    if (algorithm == DkimAlgorithm::Ed25519Sha256) {
        ed25519_digest = dkim_digest(DkimHash::Sha256, signed_headers);
        data = ed25519_digest;
    } else {
        md = message_digest(dkim_algorithm_hash(algorithm));
    }
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, bytes_of(data), data.size()) != 1) {
        ERR_clear_error();
        *error = "signing failed";
        return std::nullopt;
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       bytes_of(data), data.size()) != 1) {
        ERR_clear_error();
        *error = "signing failed";
        return std::nullopt;
    }
    signature.resize(length);
    return signature;
}

}  // namespace relaytrust::auth
