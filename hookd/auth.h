// Checks the Authorization header Stalwart sends (MtaHook httpAuth): "Bearer <token>" and,
// optionally, "Basic base64(user:secret)". Credentials are kept only as SHA-256 digests and
// compared with CRYPTO_memcmp, so neither the content nor the length of a secret leaks
// through timing.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::hookd {

class Authenticator {
  public:
    using Digest = std::array<unsigned char, 32>;

    // With no credentials added, every request passes (the --no-auth case).
    void add_bearer_token(std::string_view token);
    void add_basic_credentials(std::string_view user_colon_secret);
    bool required() const { return !bearer_.empty() || !basic_.empty(); }

    // authorization: the header value ("" when absent).
    bool check(std::string_view authorization) const;

    // Reads a secret file: the first line, surrounding whitespace trimmed. Returns "" and sets
    // error when the file is unreadable or the secret empty.
    static std::string read_secret_file(const std::string& path, std::string& error);

  private:
    std::vector<Digest> bearer_;
    std::vector<Digest> basic_;
};

}  // namespace relaytrust::hookd
