// Loads a policy file (JSON with comments) into an immutable Policy. Every problem is reported
// with file:line:column and what was expected; unknown keys are errors.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace relaytrust {

struct PolicyError {
    std::string file;
    int line = 0;    // 1-based; 0 when the error has no position (e.g. unreadable file)
    int column = 0;  // 1-based
    std::string message;

    std::string to_string() const;  // "file:line:col: message"
};

struct PolicyLoadResult {
    std::shared_ptr<const Policy> policy;  // null when errors is non-empty
    std::vector<PolicyError> errors;

    bool ok() const { return policy != nullptr; }
    std::string error_text() const;  // every error, one per line
};

inline constexpr std::string_view kEmbeddedPolicyName = "<embedded default policy>";

PolicyLoadResult load_policy_file(const std::string& path);
PolicyLoadResult load_policy_text(std::string_view text, std::string source_name);
// The compiled-in default policy (the same text as packaging/relaytrust.policy.jsonc).
PolicyLoadResult load_default_policy();
std::string_view default_policy_text();

// The machine's host name (used when the policy's "hostname" is empty).
std::string system_hostname();

}  // namespace relaytrust
