// Fuzzes the policy loader: arbitrary text as a policy file (JSON with comments, expressions,
// networks, replies). Loading must either succeed or report errors with positions; never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/policy_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = relaytrust::load_policy_text(text, "fuzz.jsonc");
    if (!result.ok()) {
        for (const auto& e : result.errors) {
            // Positions, when given, lie inside the text.
            if (e.line < 0 || e.column < 0) __builtin_trap();
        }
    }
    return 0;
}
