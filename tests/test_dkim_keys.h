// DKIM key pairs made at test time (auth::generate_dkim_key), for the DKIM unit tests and for
// tests that need a signed message end to end; doctest's REQUIRE reports a key OpenSSL could
// not make.
#pragma once

#include <doctest/doctest.h>

#include <string_view>

#include "auth/dkim_signer.h"

namespace relaytrust::test {

using TestKey = auth::DkimKeyPair;

// extra_tags: more tags for the record, each ending in "; " (e.g. "t=s; ").
inline TestKey make_rsa_key(unsigned bits, std::string_view extra_tags = "") {
    auto key = auth::generate_dkim_key(auth::DkimAlgorithm::RsaSha256, bits, extra_tags);
    REQUIRE(key.has_value());
    return *key;
}

inline TestKey make_ed25519_key() {
    auto key = auth::generate_dkim_key(auth::DkimAlgorithm::Ed25519Sha256);
    REQUIRE(key.has_value());
    return *key;
}

}  // namespace relaytrust::test
