// A strict parser for the Received header (RFC 5321 §4.4 "Time-stamp-line"), as Postfix,
// Sendmail, Exim, Stalwart, amavis and rspamd write it. Used to find the relay's own hop and,
// in origin mode (SPF behind a relay), the client IP and HELO the relay saw.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relaytrust::headers {

struct ReceivedHop {
    std::string from_helo;  // "from" domain/literal the client gave (HELO), e.g. "mail.example"
    std::string from_ptr;   // reverse name the receiver found, if written ("host.example")
    std::string from_ip;    // the TCP-info address: [192.0.2.1] / [IPv6:2001:db8::1], no brackets
    std::string by_host;    // "by" host (the receiving MTA)
    std::string with;       // protocol: ESMTP, ESMTPS, ESMTPSA, LMTP, SMTP...
    std::string id;         // queue id, if given
    std::string for_addr;   // "for <rcpt>" without brackets
    std::string date;       // text after the last ';', trimmed
};

struct ReceivedParseResult {
    bool ok = false;
    std::string error;
    ReceivedHop hop;
};

// Parses one raw Received value (may be folded). Strict: the from-clause must carry a bracketed
// IP literal to yield from_ip; comments are handled per RFC 5322 nesting.
ReceivedParseResult parse_received(std::string_view raw_value);

}  // namespace relaytrust::headers
