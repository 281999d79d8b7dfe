// libFuzzer target for the Received parser: the whole input is one raw (possibly folded) value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "headers/received_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const relaytrust::headers::ReceivedParseResult result =
        relaytrust::headers::parse_received(value);
    // ok and error are exclusive; a failed parse hands out no hop fields.
    if (result.ok != result.error.empty()) __builtin_trap();
    if (!result.ok && (!result.hop.from_ip.empty() || !result.hop.by_host.empty()))
        __builtin_trap();
    // A successful parse always names the receiving host and a date.
    if (result.ok && (result.hop.by_host.empty() || result.hop.date.empty())) __builtin_trap();
    return 0;
}
