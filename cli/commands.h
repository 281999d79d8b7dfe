// The `relaytrust` subcommands. Each takes its arguments (after the subcommand name) and the
// streams to write to, and returns the process exit code.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine/sender_auth.h"
#include "verdict.h"

namespace relaytrust::cli {

// Exit codes (documented in docs/relaytrust.1.md and `relaytrust --help`).
inline constexpr int kExitAccept = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitPolicyError = 2;
inline constexpr int kExitInputError = 3;
inline constexpr int kExitReject = 10;
inline constexpr int kExitTempfail = 11;
inline constexpr int kExitDiscard = 12;
inline constexpr int kExitQuarantine = 13;

int exit_code_for(Action action);

// The resolver for SPF/DKIM/DMARC: a YAML zone file (offline, tests), else unbound with
// `dns_server` ("HOST:PORT") or the policy's / the system's servers. nullptr + error on failure.
std::shared_ptr<AuthServices> make_auth_services(const Policy& policy,
                                                 const std::string& dns_server,
                                                 const std::string& zone_file, std::string& error);

// The policy in `path`, or the embedded default when it is empty; on failure its errors
// ("file:line:col: message" lines) go to err and the result is null.
std::shared_ptr<const Policy> load_or_report(const std::string& path, std::ostream& err);

using Args = std::vector<std::string>;

int run_check(const Args& args, std::ostream& out, std::ostream& err);
int run_test(const Args& args, std::ostream& out, std::ostream& err);
int run_default_policy(const Args& args, std::ostream& out, std::ostream& err);

std::string usage_text();

}  // namespace relaytrust::cli
