// libFuzzer target for the verdict header parsers. The first byte picks the header kind, the
// rest is the raw (possibly folded) value. Also feeds the bytes to the name classifier.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "headers/verdict_header_parser.h"

namespace {

using relaytrust::headers::VerdictHeaderKind;

constexpr VerdictHeaderKind kKinds[] = {
    VerdictHeaderKind::None,         VerdictHeaderKind::SpamStatus, VerdictHeaderKind::SpamFlag,
    VerdictHeaderKind::SpamLevel,    VerdictHeaderKind::SpamScore,  VerdictHeaderKind::SpamdResult,
    VerdictHeaderKind::RspamdScore,  VerdictHeaderKind::SpamOther,  VerdictHeaderKind::VirusStatus,
    VerdictHeaderKind::VirusScanned,
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const VerdictHeaderKind kind = kKinds[data[0] % (sizeof(kKinds) / sizeof(kKinds[0]))];
    const std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);

    const relaytrust::headers::ParseResult result =
        relaytrust::headers::parse_verdict_header(kind, value);
    // ok and error are exclusive; a failed parse hands out no verdict.
    if (result.ok != result.error.empty()) __builtin_trap();
    if (!result.ok &&
        (result.verdict.is_spam || result.verdict.score || !result.verdict.tests.empty()))
        __builtin_trap();

    (void)relaytrust::headers::classify_verdict_header(value);
    (void)relaytrust::headers::unfold(value);
    return 0;
}
