// Policies for unit tests: the embedded default, or one written inline in the test.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "policy/policy_loader.h"

namespace relaytrust::testing {

inline std::shared_ptr<const Policy> default_policy() {
    static const auto policy = load_default_policy().policy;
    return policy;
}

// Fails the test with the loader's errors when the text is not a valid policy.
inline std::shared_ptr<const Policy> policy_of(const std::string& text) {
    auto result = load_policy_text(text, "t");
    REQUIRE_MESSAGE(result.ok(), result.error_text());
    return result.policy;
}

}  // namespace relaytrust::testing
