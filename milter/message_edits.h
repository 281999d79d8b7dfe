// Engine Modifications -> smfi_* calls at end of message, in the engine's order (it already
// lists deletions of the same header from the highest index down).
#pragma once

#include <libmilter/mfapi.h>

#include <string>
#include <vector>

#include "connection.h"
#include "verdict.h"

namespace relaytrust::milter {

// The SMFIF_* action a modification needs.
unsigned long action_flag_for(Modification::Kind kind);

// The value as libmilter must send it. With SMFIP_HDR_LEADSPC the MTA writes "Name:" plus the
// value verbatim, so the customary space goes in front; without it the MTA adds ": " itself.
std::string header_value_for_mta(const Connection& connection, const std::string& value);

// Applies every edit. Stops at the first failure and describes it in `error`.
bool apply_modifications(SMFICTX* ctx, const Connection& connection,
                         const std::vector<Modification>& modifications, std::string& error);

}  // namespace relaytrust::milter
