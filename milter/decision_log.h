// One structured log line per decision: what the MTA was told for a message or a connection.
//
// A decision is a refusal (reject, tempfail, discard) at the stage that replies it, every end
// of message (accept, quarantine, or a verdict deferred to it from an earlier stage), and every
// verdict of the listener's on_error (engine or milter failure, failing open or closed). An
// accept before end of message is no decision ("go on") and is not logged.
//
// The line is key=value pairs in a fixed order, every field always present ("-" when it does
// not apply at that stage) except note=, which appears only when there is one. Values are
// quoted ("...", with \" and \\) when they are empty or contain a space, '=', '"' or a control
// character. Field names shared with relaytrust-hookd's decision lines mean the same there
// (stage, action, listener, client, queue, rule, reply); docs/milter.md ("Log lines")
// describes every field:
//
//   stage action listener client client_port queue from to rule reply relay trusted spam score
//   virus stripped spf dkim dmarc edits engine_us generation failure [note] reasons
#pragma once

#include <string>
#include <string_view>

#include "connection.h"
#include "verdict.h"

namespace relaytrust::milter {

// The listener's on_error verdict (engine error, callback failure, edits the MTA refused).
bool is_failure_verdict(const Verdict& verdict);

// Appends ` key=value`, quoting the value when it needs it (see above).
void append_field(std::string& line, std::string_view key, std::string_view value);

// The line (without log prefix). `stage` is where the MTA was answered: connect, ehlo, mail,
// rcpt, or data (end of message, also for verdicts deferred to it).
std::string format_decision(const Connection& connection, Stage stage, const Verdict& verdict,
                            std::string_view note = {});

// Logs the line (warning level for on_error verdicts, info otherwise) and counts it in
// relaytrust_milter_decisions_total.
void log_decision(const Connection& connection, Stage stage, const Verdict& verdict,
                  std::string_view note = {});

}  // namespace relaytrust::milter
