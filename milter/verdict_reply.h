// Engine Verdict -> libmilter reply. The engine's five actions map as:
//   Accept     -> SMFIS_CONTINUE before end of message, SMFIS_ACCEPT after the edits at the end
//   Reject     -> smfi_setreply(5xx) + SMFIS_REJECT
//   Tempfail   -> smfi_setreply(4xx) + SMFIS_TEMPFAIL
//   Discard    -> SMFIS_DISCARD (message stages; from connect/helo it applies to every message)
//   Quarantine -> smfi_quarantine + edits + SMFIS_ACCEPT at end of message (Postfix: hold
//                 queue, Sendmail: hf file); decided earlier, it waits for end of message.
// A stage negotiated as "no reply" cannot refuse anything; its verdict (only ever an engine
// failure, since such stages have no rules) waits for end of message too.
#pragma once

#include <libmilter/mfapi.h>

#include "connection.h"
#include "session.h"
#include "verdict.h"

namespace relaytrust::milter {

// Connect, HELO, MAIL and RCPT. no_reply_flag is the stage's SMFIP_NR_* bit.
sfsistat reply_before_end_of_message(SMFICTX* ctx, Connection& connection, Stage stage,
                                     unsigned long no_reply_flag, Verdict verdict);

// End of message: merges what was deferred, applies the edits, logs the decision.
sfsistat reply_at_end_of_message(SMFICTX* ctx, Connection& connection, Verdict verdict);

// For stages that only collect facts (header, body).
inline sfsistat collected(const Connection& connection, unsigned long no_reply_flag) {
    return connection.replies_at(no_reply_flag) ? SMFIS_CONTINUE : SMFIS_NOREPLY;
}

}  // namespace relaytrust::milter
