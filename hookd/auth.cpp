#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <fstream>
#include <stdexcept>

namespace relaytrust::hookd {

namespace {

Authenticator::Digest sha256(std::string_view data) {
    // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up (under a lock) at every
    // use, and every request's credentials go through here.
    static const EVP_MD* const kSha256 = [] {
        const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return md ? md : EVP_sha256();
    }();
    // One digest context per thread, reused: EVP_Digest() allocates and frees one per call,
    // which was most of the cost of checking a request's credentials.
    struct Context {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        ~Context() { EVP_MD_CTX_free(ctx); }
    };
    thread_local const Context context;
    Authenticator::Digest digest{};
    unsigned int length = 0;
    if (!context.ctx || EVP_DigestInit_ex2(context.ctx, kSha256, nullptr) != 1 ||
        EVP_DigestUpdate(context.ctx, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(context.ctx, digest.data(), &length) != 1 || length != digest.size()) {
        throw std::runtime_error("SHA-256 failed");
    }
    return digest;
}

// Looks at every stored digest, match or not, so the time does not depend on which one hit.
bool contains(const std::vector<Authenticator::Digest>& digests, const Authenticator::Digest& d) {
    bool found = false;
    for (const auto& candidate : digests) {
        found |= CRYPTO_memcmp(candidate.data(), d.data(), d.size()) == 0;
    }
    return found;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Strict standard base64 (RFC 4648 §4, padding required); false on anything else.
bool decode_base64(std::string_view text, std::string& out) {
    if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return false;
    out.resize(text.size() / 4 * 3);
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return false;
    // EVP_DecodeBlock counts padding as zero bytes.
    std::size_t length = static_cast<std::size_t>(n);
    if (text.ends_with("==")) {
        length -= 2;
    } else if (text.ends_with('=')) {
        length -= 1;
    }
    out.resize(length);
    return true;
}

}  // namespace

void Authenticator::add_bearer_token(std::string_view token) {
    bearer_.push_back(sha256(token));
}

void Authenticator::add_basic_credentials(std::string_view user_colon_secret) {
    basic_.push_back(sha256(user_colon_secret));
}

bool Authenticator::check(std::string_view authorization) const {
    if (!required()) return true;
    authorization = trim(authorization);
    const auto space = authorization.find(' ');
    if (space == std::string_view::npos) return false;
    const std::string_view scheme = authorization.substr(0, space);
    const std::string_view credentials = trim(authorization.substr(space + 1));
    if (credentials.empty()) return false;
    if (iequals_ascii(scheme, "Bearer")) return contains(bearer_, sha256(credentials));
    if (iequals_ascii(scheme, "Basic")) {
        std::string decoded;
        if (!decode_base64(credentials, decoded)) return false;
        return contains(basic_, sha256(decoded));
    }
    return false;
}

std::string Authenticator::read_secret_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot read";
        return "";
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string secret(trim(line));
    if (secret.empty()) error = path + ": empty (the secret is the first line)";
    return secret;
}

}  // namespace relaytrust::hookd
