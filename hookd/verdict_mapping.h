// Engine verdict -> Stalwart hook response (../shared/reference/stalwart-mta-hooks.md §4.2):
//
//   Accept      -> accept (+ modifications at the data stage)
//   Quarantine  -> accept + the engine's header edits (its X-Relaytrust-Result says
//                  action=quarantine for Sieve to file the message). Never Stalwart's
//                  "quarantine": Stalwart answers 250 and drops the message.
//   Reject      -> reject + the 5xx reply (always sent: Stalwart's own default is the
//                  misleading "503 5.5.3 Message rejected.")
//   Tempfail    -> reject + the 4xx reply (Stalwart has no tempfail action)
//   Discard     -> discard (+ the reply if the policy gave one)
//
// Modifications are sent only with accept at the data stage: Stalwart drops them elsewhere.
#pragma once

#include <vector>

#include "hook_request.h"
#include "hook_response.h"
#include "session.h"
#include "verdict.h"

namespace relaytrust::hookd {

HookResponse map_verdict(const Verdict& verdict, HookStage stage,
                         const std::vector<Header>& original_headers);

}  // namespace relaytrust::hookd
