#include "auth/dkim_signer.h"

#include "auth/dkim_canonical.h"
#include "auth/dkim_key.h"
#include "auth/dkim_text.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace relaytrust::auth {
namespace {

std::string_view canonicalization_name(DkimCanonicalization mode) {
    return mode == DkimCanonicalization::Simple ? "simple" : "relaxed";
}

std::string private_pem_of(EVP_PKEY* key) {
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return "";
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace

std::optional<DkimKeyPair> generate_dkim_key(DkimAlgorithm algorithm, unsigned rsa_bits,
                                             std::string_view extra_tags) {
    const bool ed25519 = algorithm == DkimAlgorithm::Ed25519Sha256;
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519") : EVP_RSA_gen(rsa_bits),
        EVP_PKEY_free);
    if (!key) return std::nullopt;
    DkimKeyPair pair;
    pair.private_pem = private_pem_of(key.get());
    if (pair.private_pem.empty()) return std::nullopt;
    std::string public_key;
    if (ed25519) {
        unsigned char raw[32];
        std::size_t raw_size = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(key.get(), raw, &raw_size) != 1) return std::nullopt;
        public_key.assign(reinterpret_cast<char*>(raw), raw_size);
    } else {
        unsigned char* der = nullptr;
        const int der_size = i2d_PUBKEY(key.get(), &der);
        if (der_size <= 0) return std::nullopt;
        public_key.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_size));
        OPENSSL_free(der);
    }
    pair.record = std::string("v=DKIM1; k=") + (ed25519 ? "ed25519" : "rsa") + "; " +
                  std::string(extra_tags) + "p=" + encode_base64(public_key);
    return pair;
}

DkimSignResult dkim_sign(const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body, const DkimSignOptions& options) {
    DkimSignResult result;
    if (!is_valid_domain_name(options.domain) || !is_valid_domain_name(options.selector)) {
        result.error = "invalid domain or selector";
        return result;
    }
    const std::string canonical_body = canonicalize_body(options.body_canonicalization, body);
    const std::string body_hash =
        dkim_digest(dkim_algorithm_hash(options.algorithm), canonical_body);

    std::string value = " v=1; a=" + std::string(dkim_algorithm_name(options.algorithm)) + "; c=" +
                        std::string(canonicalization_name(options.header_canonicalization)) + "/" +
                        std::string(canonicalization_name(options.body_canonicalization)) +
                        "; d=" + options.domain + "; s=" + options.selector + ";";
    if (!options.identity.empty()) value += " i=" + options.identity + ";";
    if (options.timestamp) value += " t=" + std::to_string(*options.timestamp) + ";";
    if (options.expiration) value += " x=" + std::to_string(*options.expiration) + ";";
    if (options.include_body_length) value += " l=" + std::to_string(canonical_body.size()) + ";";
    value += "\r\n\th=";
    for (std::size_t i = 0; i < options.signed_headers.size(); ++i)
        value += (i == 0 ? "" : ":") + options.signed_headers[i];
    value += "; bh=" + encode_base64(body_hash) + ";\r\n\tb=";

    // Header block exactly as the verifier rebuilds it: bottom-up instance selection, then
    // this field with an empty b= and no trailing CRLF.
    const std::vector<std::pair<std::string, std::string>> normalized = [&headers] {
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& [name, raw] : headers)
            out.emplace_back(name, normalize_crlf(raw));
        return out;
    }();
    std::string block;
    std::vector<bool> used(normalized.size(), false);
    for (const std::string& wanted : options.signed_headers) {
        for (std::size_t i = normalized.size(); i-- > 0;) {
            if (used[i] || !iequals_ascii(normalized[i].first, wanted)) continue;
            used[i] = true;
            block += canonicalize_header(options.header_canonicalization, normalized[i].first,
                                         normalized[i].second);
            break;
        }
    }
    std::string own = canonicalize_header(options.header_canonicalization, "DKIM-Signature", value);
    own.resize(own.size() - 2);
    block += own;

    const std::optional<std::string> signature =
        sign_dkim_crypto(options.algorithm, options.private_key, block, &result.error);
    if (!signature) return result;
    const std::string encoded = encode_base64(*signature);
    for (std::size_t i = 0; i < encoded.size(); i += 64) {
        if (i != 0) value += "\r\n\t";
        value += encoded.substr(i, 64);
    }
    result.header_value = std::move(value);
    result.ok = true;
    return result;
}

}  // namespace relaytrust::auth
