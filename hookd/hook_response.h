// The response a hook returns to Stalwart, limited to what Stalwart's deserializer accepts:
// ../shared/reference/stalwart-mta-hooks.md §4.1. Plain structs plus one encoder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace relaytrust::hookd {

// Stalwart's action enum, exactly. There is no tempfail: that is a reject with a 4xx status.
// Quarantine is listed because it is part of the wire enum, but Stalwart treats it as a
// discard, so the verdict mapping never produces it (see verdict_mapping.h).
enum class HookAction : std::uint8_t { Accept, Discard, Reject, Quarantine };

std::string_view hook_action_name(HookAction action);

struct HookSmtpReply {
    int status = 0;               // written as-is by Stalwart
    std::string enhanced_status;  // "" is omitted (Stalwart then writes "<status> <message>")
    std::string message;          // one line
};

struct HookModification {
    enum class Type : std::uint8_t {
        ChangeFrom,       // value
        AddRecipient,     // value
        DeleteRecipient,  // value (lowercase: Stalwart compares it to lowercased addresses)
        ReplaceContents,  // value
        AddHeader,        // name, value: prepended
        InsertHeader,     // index, name, value: before the index-th header called name
        ChangeHeader,     // index, name, value
        DeleteHeader,     // index, name
    };
    Type type = Type::AddHeader;
    std::uint32_t index = 0;
    std::string name;
    std::string value;
    // ESMTP parameters of changeFrom/addRecipient are never sent: a null map or a non-string
    // value makes Stalwart reject the whole response, and relaytrust has none to give.

    bool operator==(const HookModification&) const = default;
};

std::string_view hook_modification_type_name(HookModification::Type type);

struct HookResponse {
    HookAction action = HookAction::Accept;
    std::optional<HookSmtpReply> reply;  // Stalwart reads it only for non-accept actions
    std::vector<HookModification> modifications;
};

// Compact JSON. Every string is valid UTF-8 on output (invalid bytes become U+FFFD, since
// Stalwart refuses a response that is not UTF-8) and an SMTP reply never contains CR or LF.
std::string encode_hook_response(const HookResponse& response);

}  // namespace relaytrust::hookd
