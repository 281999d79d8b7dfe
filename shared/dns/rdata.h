// Decoding of DNS RDATA in wire format, one record at a time, as libunbound hands it out
// (ub_result::data/len: uncompressed RDATA, no RR header). Kept apart from the resolver so the
// fuzzer and the unit tests reach it without a network.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dns/resolver.h"

namespace relaytrust::dns {

using RdataBytes = std::span<const std::uint8_t>;

// TXT: the record's character-strings concatenated without separator (RFC 7208 §3.3).
// nullopt when a length byte runs past the end.
std::optional<std::string> decode_txt_rdata(RdataBytes rdata);
// A (4 octets) / AAAA (16 octets) as canonical text ("192.0.2.1", "2001:db8::1").
std::optional<std::string> decode_a_rdata(RdataBytes rdata);
std::optional<std::string> decode_aaaa_rdata(RdataBytes rdata);
// PTR / CNAME / NS: an uncompressed domain name, returned lower-case without trailing dot
// ("" for the root). Octets that would be ambiguous in dotted text ('.', '\\', controls,
// non-ASCII) are written as \DDD. Compression pointers are rejected: RDATA from libunbound is
// always uncompressed, and a pointer here could only point outside the record.
std::optional<std::string> decode_name_rdata(RdataBytes rdata);
std::optional<MxRecord> decode_mx_rdata(RdataBytes rdata);

// Builds an Answer from a response code and the RDATA of every record of the asked type.
// rcode: DNS RCODE (0 NOERROR, 3 NXDOMAIN, anything else a server error → ServFail). A record
// that does not decode makes the whole answer Status::Error: a truncated or corrupt answer
// must not be mistaken for "no such record".
Answer answer_from_rdata(RecordType type, int rcode, const std::vector<RdataBytes>& records);

}  // namespace relaytrust::dns
