// Message digests for the hash() function (Stalwart: md5, sha1, sha256, sha512 as lowercase
// hex). Self-contained so the engine needs no crypto library for a policy helper; these are
// not used for anything security-relevant. Private to shared/expr.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relaytrust::expr::digest {

bool is_known_algorithm(std::string_view algorithm);
// Lowercase hex digest, or nullopt for an unknown algorithm name.
std::optional<std::string> hex(std::string_view algorithm, std::string_view data);

}  // namespace relaytrust::expr::digest
