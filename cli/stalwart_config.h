// `relaytrust stalwart-config`: prints the Stalwart 0.16 MtaHook registry objects that send
// each of the policy's listeners to relaytrust-hookd (one hook per listener, told apart by URL
// path and an `enable` expression on Stalwart's `listener` variable). Encoding per
// ../shared/reference/stalwart-mta-hooks.md §5.1: stages as a set object, timeout in
// milliseconds, Bearer auth.
#pragma once

#include <ostream>

#include "commands.h"

namespace relaytrust::cli {

int run_stalwart_config(const Args& args, std::ostream& out, std::ostream& err);

std::string stalwart_config_usage();

}  // namespace relaytrust::cli
