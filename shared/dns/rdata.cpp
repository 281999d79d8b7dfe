#include "dns/rdata.h"

#include <cstdio>

#include "net/network_set.h"

namespace relaytrust::dns {

std::optional<std::string> decode_txt_rdata(RdataBytes rdata) {
    std::string text;
    std::size_t position = 0;
    while (position < rdata.size()) {
        const std::size_t length = rdata[position++];
        if (length > rdata.size() - position) return std::nullopt;
        text.append(reinterpret_cast<const char*>(rdata.data() + position), length);
        position += length;
    }
    return text;
}

std::optional<std::string> decode_a_rdata(RdataBytes rdata) {
    if (rdata.size() != 4) return std::nullopt;
    net::IpAddress address;
    address.bytes[10] = address.bytes[11] = 0xff;
    for (int i = 0; i < 4; ++i)
        address.bytes[12 + i] = rdata[i];
    address.is_v4 = true;
    return address.to_string();
}

std::optional<std::string> decode_aaaa_rdata(RdataBytes rdata) {
    if (rdata.size() != 16) return std::nullopt;
    net::IpAddress address;
    for (int i = 0; i < 16; ++i)
        address.bytes[i] = rdata[i];
    // An IPv4-mapped AAAA is still an IPv6 record; keep its IPv6 spelling so a caller
    // comparing families (SPF: AAAA answers only match IPv6 clients) sees what was published.
    address.is_v4 = false;
    std::string text = address.to_string();
    bool mapped = true;
    for (int i = 0; i < 10; ++i)
        mapped = mapped && rdata[i] == 0;
    if (mapped && rdata[10] == 0xff && rdata[11] == 0xff && text.find(':') == std::string::npos)
        text = "::ffff:" + text;
    return text;
}

namespace {

// Reads one uncompressed name starting at `position`; advances it past the root label.
std::optional<std::string> read_name(RdataBytes rdata, std::size_t& position) {
    std::string name;
    std::size_t wire_length = 0;
    while (true) {
        if (position >= rdata.size()) return std::nullopt;
        const std::size_t length = rdata[position++];
        ++wire_length;
        if (length == 0) break;
        if (length > 63) return std::nullopt;  // 0xC0 pointers and the reserved 0x40/0x80 types
        if (length > rdata.size() - position) return std::nullopt;
        wire_length += length;
        if (wire_length > 255) return std::nullopt;
        if (!name.empty()) name += '.';
        for (std::size_t i = 0; i < length; ++i) {
            const unsigned char c = rdata[position + i];
            if (c >= 'A' && c <= 'Z') {
                name += char(c - 'A' + 'a');
            } else if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
                name += char(c);
            } else {
                char escaped[5];
                std::snprintf(escaped, sizeof escaped, "\\%03u", unsigned(c));
                name += escaped;
            }
        }
        position += length;
    }
    return name;
}

}  // namespace

std::optional<std::string> decode_name_rdata(RdataBytes rdata) {
    std::size_t position = 0;
    auto name = read_name(rdata, position);
    if (!name || position != rdata.size()) return std::nullopt;
    return name;
}

std::optional<MxRecord> decode_mx_rdata(RdataBytes rdata) {
    if (rdata.size() < 3) return std::nullopt;
    MxRecord mx;
    mx.preference = std::uint16_t((rdata[0] << 8) | rdata[1]);
    std::size_t position = 2;
    auto exchange = read_name(rdata, position);
    if (!exchange || position != rdata.size()) return std::nullopt;
    mx.exchange = std::move(*exchange);
    return mx;
}

Answer answer_from_rdata(RecordType type, int rcode, const std::vector<RdataBytes>& records) {
    Answer answer;
    if (rcode == 3) {
        answer.status = Status::NxDomain;
        return answer;
    }
    if (rcode != 0) {
        static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                 "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                 "NXRRSET", "NOTAUTH", "NOTZONE"};
        answer.status = Status::ServFail;
        answer.error = rcode >= 0 && rcode <= 10 ? kNames[rcode] : "rcode " + std::to_string(rcode);
        return answer;
    }
    answer.status = Status::Ok;
    for (const RdataBytes& rdata : records) {
        bool decoded = false;
        switch (type) {
            case RecordType::TXT:
                if (auto text = decode_txt_rdata(rdata)) {
                    answer.texts.push_back(std::move(*text));
                    decoded = true;
                }
                break;
            case RecordType::A:
                if (auto address = decode_a_rdata(rdata)) {
                    answer.addresses.push_back(std::move(*address));
                    decoded = true;
                }
                break;
            case RecordType::AAAA:
                if (auto address = decode_aaaa_rdata(rdata)) {
                    answer.addresses.push_back(std::move(*address));
                    decoded = true;
                }
                break;
            case RecordType::MX:
                if (auto mx = decode_mx_rdata(rdata)) {
                    answer.mx.push_back(std::move(*mx));
                    decoded = true;
                }
                break;
            case RecordType::PTR:
            case RecordType::CNAME:
            case RecordType::NS:
                if (auto name = decode_name_rdata(rdata)) {
                    answer.names.push_back(std::move(*name));
                    decoded = true;
                }
                break;
        }
        if (!decoded) {
            Answer broken;
            broken.status = Status::Error;
            broken.error = "malformed RDATA in answer";
            return broken;
        }
    }
    return answer;
}

}  // namespace relaytrust::dns
