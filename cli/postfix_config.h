// `relaytrust postfix-config`: prints the main.cf and master.cf snippets that put
// relaytrust-milter in front of the policy's listeners: one smtpd service per listener, named
// for the policy with `-o milter_macro_daemon_name`, with the milter, `milter_default_action`
// matching the listener's on_error, `smtpd_upstream_proxy_protocol` for listeners behind a
// PROXY-protocol proxy, and (optionally) a client restriction to the trusted relays' networks.
// Every generated line comes with a comment saying why it is there.
#pragma once

#include <ostream>
#include <string>

#include "commands.h"

namespace relaytrust::cli {

int run_postfix_config(const Args& args, std::ostream& out, std::ostream& err);

std::string postfix_config_usage();

}  // namespace relaytrust::cli
