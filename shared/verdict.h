// What the engine decides: a small closed set of actions, an SMTP reply, and edits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust {

// Closed on purpose: every front end must map each value (OpenSMTPD-style small enum).
// Accept before the data stage means "carry on to the next stage".
// Quarantine means "keep the message and hold it for review": never drop it.
enum class Action : std::uint8_t { Accept, Reject, Tempfail, Discard, Quarantine };
inline constexpr std::size_t kActionCount = 5;

std::string_view action_name(Action action);
// Which of two verdicts wins when two decisions meet (a deferred one, a rule and strict
// authentication): refusing beats tempfailing beats discarding beats holding beats accepting.
int action_severity(Action action);
bool parse_action(std::string_view text, Action& out);

struct SmtpReply {
    int code = 0;          // 3 digits: 4xx for tempfail, 5xx for reject
    std::string enhanced;  // RFC 3463 "x.y.z", first digit matching code; may be empty
    std::string text;      // one line, no CR/LF
    bool operator==(const SmtpReply&) const = default;
};

// Returns an error message, or "" when the reply is valid for the action.
std::string validate_reply(Action action, const SmtpReply& reply);
// The reply a front end sends when the policy gave none.
SmtpReply default_reply(Action action);

struct Modification {
    enum class Kind : std::uint8_t {
        AddHeader,        // append at the end of the header block (milter smfi_addheader)
        InsertHeader,     // insert at the top of the header block (index 0)
        ChangeHeader,     // replace the index-th (1-based) instance of name with value
        DeleteHeader,     // delete the index-th (1-based) instance of name
        ChangeSender,     // value = new MAIL FROM address
        AddRecipient,     // value = address
        DeleteRecipient,  // value = address
        ReplaceBody,      // value = new body (CRLF line ends)
    };
    Kind kind;
    std::string name;   // header name (header kinds only)
    std::string value;  // header value without leading space, or address, or body
    int index = 0;      // 1-based occurrence among same-named headers (change/delete)

    bool operator==(const Modification&) const = default;
};

std::string_view modification_kind_name(Modification::Kind kind);

struct Verdict {
    Action action = Action::Accept;
    std::optional<SmtpReply> reply;  // none: the front end uses default_reply(action)
    std::vector<Modification> modifications;
    std::vector<std::string> reasons;  // human-readable, for logs and `relaytrust test`
    std::string rule;                  // name of the rule that decided, "" for the default

    SmtpReply effective_reply() const { return reply ? *reply : default_reply(action); }
};

}  // namespace relaytrust
