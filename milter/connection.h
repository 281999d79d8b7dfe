// Per-connection state, kept in libmilter's private pointer from xxfi_negotiate (or
// xxfi_connect) to xxfi_close. One MTA connection carries one SMTP session and any number of
// messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/transaction.h"
#include "metrics.h"
#include "verdict.h"

namespace relaytrust::milter {

// A verdict that waits for end of message, with the stage that decided it (for the log line).
struct DeferredVerdict {
    Verdict verdict;
    Stage stage = Stage::Data;
};

struct Connection {
    Connection(std::shared_ptr<const Policy> policy, std::shared_ptr<AuthServices> auth,
               std::uint64_t generation = 0)
        : transaction(std::move(policy), std::move(auth)), policy_generation(generation) {}

    Transaction transaction;
    std::uint64_t policy_generation;  // of the policy the transaction pinned
    ConnectionGauge gauge;            // relaytrust_milter_connections_active

    // What xxfi_negotiate agreed on. Without a negotiation (after SMFIC_QUIT_NC the MTA starts
    // the next session without one) every stage replies, which libmilter corrects where needed.
    bool negotiated = false;
    unsigned long actions = 0;          // SMFIF_* the MTA granted
    unsigned long protocol = 0;         // SMFIP_* we asked for
    bool header_leading_space = false;  // SMFIP_HDR_LEADSPC: values carry their leading space

    // Verdicts that could not be given at their own stage (the stage sends no reply, or the
    // action only exists at end of message, like quarantine) wait here for xxfi_eom. The
    // connection one survives its messages (a discard or quarantine decided at connect).
    std::optional<DeferredVerdict> deferred_for_connection;
    std::optional<DeferredVerdict> deferred_for_message;

    std::string client;  // "ip:port" or "[ipv6]:port" or "ip", for debug lines
    std::size_t messages = 0;
    std::string recipient;  // the RCPT being decided, for the rcpt-stage log line
    // How long the last engine stage call took (the decision line's engine_us).
    std::chrono::nanoseconds engine_time{0};

    bool replies_at(unsigned long no_reply_flag) const {
        return !negotiated || (protocol & no_reply_flag) == 0;
    }
    void reset_message() {
        transaction.reset_message();
        deferred_for_message.reset();
        recipient.clear();
    }
};

}  // namespace relaytrust::milter
