// DKIM key pairs made at test time (RSA, Ed25519), with the DNS TXT record that publishes the
// public half: for the DKIM unit tests and for tests that need a signed message end to end.
// Header-only, doctest's REQUIRE reports a key OpenSSL could not make.
#pragma once

#include <doctest/doctest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>

#include "auth/dkim_text.h"

namespace relaytrust::test {

struct TestKey {
    std::string private_pem;
    std::string record;  // DNS TXT text
};

inline std::string private_pem_of(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return pem;
}

// extra_tags: more tags for the record, each ending in "; " (e.g. "t=s; ").
inline TestKey make_rsa_key(unsigned bits, std::string_view extra_tags = "") {
    EVP_PKEY* key = EVP_RSA_gen(bits);
    REQUIRE(key != nullptr);
    unsigned char* der = nullptr;
    const int der_size = i2d_PUBKEY(key, &der);
    REQUIRE(der_size > 0);
    TestKey out{private_pem_of(key),
                "v=DKIM1; k=rsa; " + std::string(extra_tags) + "p=" +
                    auth::encode_base64(std::string_view(reinterpret_cast<char*>(der),
                                                         static_cast<std::size_t>(der_size)))};
    OPENSSL_free(der);
    EVP_PKEY_free(key);
    return out;
}

inline TestKey make_ed25519_key() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    REQUIRE(key != nullptr);
    unsigned char raw[32];
    std::size_t raw_size = sizeof raw;
    REQUIRE(EVP_PKEY_get_raw_public_key(key, raw, &raw_size) == 1);
    TestKey out{private_pem_of(key),
                "v=DKIM1; k=ed25519; p=" +
                    auth::encode_base64(std::string_view(reinterpret_cast<char*>(raw), raw_size))};
    EVP_PKEY_free(key);
    return out;
}

}  // namespace relaytrust::test
