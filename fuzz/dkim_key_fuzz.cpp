// libFuzzer target for DKIM key records (RFC 6376 §3.6.1): the input is one TXT record's text.
// A parsed key is also pushed through the OpenSSL key decoding and a verification attempt.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/dkim_key.h"
#include "auth/dkim_text.h"

using namespace relaytrust::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const DkimKeyParse parsed = parse_dkim_key_record(text);
    if (parsed.ok != parsed.error.empty()) __builtin_trap();
    if (parsed.ok && !parsed.key.revoked()) {
        const DkimAlgorithm algorithm = parsed.key.type == DkimKeyType::Ed25519
                                            ? DkimAlgorithm::Ed25519Sha256
                                            : DkimAlgorithm::RsaSha256;
        const std::string signature(parsed.key.type == DkimKeyType::Ed25519 ? 64 : 128, '\x5a');
        const DkimCryptoResult result =
            verify_dkim_crypto(algorithm, parsed.key, "from:a@example.org\r\n", signature);
        // A constant junk signature never verifies.
        if (result.outcome == DkimCryptoOutcome::Verified) __builtin_trap();
        if (result.outcome == DkimCryptoOutcome::KeyUnusable && result.detail.empty())
            __builtin_trap();
    }
    // base64 as p= uses it: whatever decodes re-encodes to something that decodes the same.
    if (const std::optional<std::string> decoded = decode_base64(text)) {
        if (decode_base64(encode_base64(*decoded)) != decoded) __builtin_trap();
    }
    return 0;
}
