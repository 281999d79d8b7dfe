// libFuzzer target for the DNS RDATA decoders that turn libunbound's per-record RDATA into an
// Answer. Input: byte 0 picks the record type, byte 1 the RCODE, then records as
// <length byte><RDATA>.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/rdata.h"

namespace {

using namespace relaytrust::dns;

constexpr RecordType kTypes[] = {RecordType::A,  RecordType::AAAA, RecordType::TXT,
                                 RecordType::MX, RecordType::PTR,  RecordType::CNAME,
                                 RecordType::NS};

bool has_raw_control(const std::string& name) {
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x21 || byte >= 0x7f) return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const RecordType type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
    const int rcode = data[1] % 12;
    std::vector<RdataBytes> records;
    std::size_t position = 2;
    while (position < size) {
        const std::size_t length = std::min<std::size_t>(data[position], size - position - 1);
        records.emplace_back(data + position + 1, length);
        position += 1 + length;
    }
    const Answer answer = answer_from_rdata(type, rcode, records);
    if (rcode == 3 && answer.status != Status::NxDomain) __builtin_trap();
    if (rcode != 0 && rcode != 3 && answer.status != Status::ServFail) __builtin_trap();
    if (answer.status == Status::Ok) {
        const std::size_t decoded =
            answer.texts.size() + answer.addresses.size() + answer.mx.size() + answer.names.size();
        if (decoded != records.size()) __builtin_trap();
        // Decoded names are printable: odd octets come out as \DDD escapes.
        for (const std::string& name : answer.names)
            if (has_raw_control(name) || name.size() > 4 * 255) __builtin_trap();
        for (const MxRecord& mx : answer.mx)
            if (has_raw_control(mx.exchange)) __builtin_trap();
    } else if (rcode == 0 && answer.status != Status::Error) {
        __builtin_trap();
    }
    // Each decoder on the whole remaining input, too.
    const RdataBytes all(data + 2, size - 2);
    decode_txt_rdata(all);
    decode_name_rdata(all);
    decode_mx_rdata(all);
    decode_a_rdata(all);
    decode_aaaa_rdata(all);
    return 0;
}
