// Per-connection state, kept in libmilter's private pointer from xxfi_negotiate (or
// xxfi_connect) to xxfi_close. One MTA connection carries one SMTP session and any number of
// messages.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/transaction.h"
#include "verdict.h"

namespace relaytrust::milter {

struct Connection {
    Connection(std::shared_ptr<const Policy> policy, std::shared_ptr<AuthServices> auth)
        : transaction(std::move(policy), std::move(auth)) {}

    Transaction transaction;

    // What xxfi_negotiate agreed on. Without a negotiation (after SMFIC_QUIT_NC the MTA starts
    // the next session without one) every stage replies, which libmilter corrects where needed.
    bool negotiated = false;
    unsigned long actions = 0;          // SMFIF_* the MTA granted
    unsigned long protocol = 0;         // SMFIP_* we asked for
    bool header_leading_space = false;  // SMFIP_HDR_LEADSPC: values carry their leading space

    // Verdicts that could not be given at their own stage (the stage sends no reply, or the
    // action only exists at end of message, like quarantine) wait here for xxfi_eom. The
    // connection one survives its messages (a discard or quarantine decided at connect).
    std::optional<Verdict> deferred_for_connection;
    std::optional<Verdict> deferred_for_message;

    std::string client;  // "ip:port" or "ip", for log lines
    std::size_t messages = 0;

    bool replies_at(unsigned long no_reply_flag) const {
        return !negotiated || (protocol & no_reply_flag) == 0;
    }
    void reset_message() {
        transaction.reset_message();
        deferred_for_message.reset();
    }
};

}  // namespace relaytrust::milter
