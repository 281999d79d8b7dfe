// A test-side model of how Stalwart 0.16 applies an accepting hook's modifications to the
// message and envelope, written from ../shared/reference/stalwart-mta-hooks.md §4.3 (Stalwart
// converts them to milter modifications and runs apply_milter_modifications). Independent of
// hookd's own code, so it can judge hookd's output.
#pragma once

#include <json/json.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relaytrust::hookd::test {

// A modification as it appears on the wire (response.modifications[i]).
struct WireModification {
    std::string type;  // "addHeader", "insertHeader", ...
    std::uint32_t index = 0;
    std::string name;
    std::string value;
};

// Decodes one wire modification; throws std::runtime_error on a shape Stalwart rejects.
WireModification decode_wire_modification(const Json::Value& item);
std::vector<WireModification> decode_wire_modifications(const Json::Value& array);

// The message as Stalwart's parser splits it.
struct StalwartMessage {
    // [name, raw value] with the value's leading space, folding and final line end.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string raw_headers;  // the header block including the blank line that ends it
    std::string raw_body;     // everything after it
};

StalwartMessage parse_stalwart_message(std::string_view raw);

struct StalwartEnvelope {
    std::string from;
    std::vector<std::string> to;  // lowercased addresses
};

// Returns the message bytes after the modifications (the original when nothing changes it).
// The envelope, if given, receives changeFrom/addRecipient/deleteRecipient.
std::string apply_stalwart_modifications(const std::vector<WireModification>& modifications,
                                         std::string_view raw_message,
                                         StalwartEnvelope* envelope = nullptr);

}  // namespace relaytrust::hookd::test
