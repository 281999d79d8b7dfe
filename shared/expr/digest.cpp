// hash(s, algorithm) for expressions, through OpenSSL's EVP digests (already linked for DKIM).
#include "expr/digest.h"

#include <openssl/evp.h>

namespace relaytrust::expr::digest {

namespace {
const EVP_MD* message_digest(std::string_view algorithm) {
    if (algorithm == "md5") return EVP_md5();
    if (algorithm == "sha1") return EVP_sha1();
    if (algorithm == "sha256") return EVP_sha256();
    if (algorithm == "sha512") return EVP_sha512();
    return nullptr;
}
}  // namespace

bool is_known_algorithm(std::string_view algorithm) {
    return message_digest(algorithm) != nullptr;
}

std::optional<std::string> hex(std::string_view algorithm, std::string_view data) {
    const EVP_MD* md = message_digest(algorithm);
    if (!md) return std::nullopt;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), out, &length, md, nullptr) != 1) return std::nullopt;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    text.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        text += kHex[out[i] >> 4];
        text += kHex[out[i] & 0x0f];
    }
    return text;
}

}  // namespace relaytrust::expr::digest
