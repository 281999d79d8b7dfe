// libFuzzer target for relaytrust-hookd's JSON reader (hookd/json_reader.cpp), which decodes
// every hook request body from the network before anything else looks at it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "json_reader.h"

namespace {

// Every string the reader hands out is at most as long as the input: decoding never grows.
void check_strings(const relaytrust::hookd::json::Value& v, std::size_t input_size) {
    if (v.string.size() > input_size) __builtin_trap();
    for (const auto& item : v.items)
        check_strings(item, input_size);
    for (const auto& [name, member] : v.members) {
        if (name.size() > input_size) __builtin_trap();
        check_strings(member, input_size);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    relaytrust::hookd::json::Value root;
    std::string error;
    const bool ok = relaytrust::hookd::json::parse(text, root, error, 16);
    // Success and an error message are exclusive.
    if (ok != error.empty()) __builtin_trap();
    if (ok) check_strings(root, size);
    return 0;
}
