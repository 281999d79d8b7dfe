// One log line per decision, Postfix style: the queue ID (or NOQUEUE) first, then key=value
// pairs an admin can grep: stage, action, listener, client, rule, reply, edits, reasons.
#pragma once

#include <string>
#include <string_view>

#include "connection.h"
#include "verdict.h"

namespace relaytrust::milter {

std::string format_decision(const Connection& connection, std::string_view stage,
                            const Verdict& verdict, std::string_view note = {});

void log_decision(const Connection& connection, std::string_view stage, const Verdict& verdict,
                  std::string_view note = {});

}  // namespace relaytrust::milter
