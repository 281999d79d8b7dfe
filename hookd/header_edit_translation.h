// Turns the engine's message edits (milter semantics, verdict.h) into Stalwart hook
// modifications that produce the same message under Stalwart's rules
// (../shared/reference/stalwart-mta-hooks.md §4.3).
//
// Where the two models differ:
// - InsertHeader (top of the block): when inserts are the only header edits they become
//   addHeaders in reverse order (Stalwart then writes them in list order above the untouched
//   received header block, so the original bytes survive); otherwise insertHeader with
//   index 0, which Stalwart applies on top in turn, exactly like the milter's
//   smfi_insheader(0). (addHeaders mixed with other header edits are also applied on top in
//   turn, but alone they come out in list order: the same list cannot serve both cases.)
// - AddHeader (append at the end) has no Stalwart counterpart: addHeader prepends and
//   insertHeader can only go before an existing same-named header. The appended headers are
//   written as continuation text of the last header in the block (one changeHeader that
//   re-sends that header's received value followed by "\r\nName: value" lines), which gives
//   the appended bytes exactly. A message with no headers gets them via insertHeader 0.
// - ChangeHeader of an occurrence that does not exist adds the header at the end (milter
//   rule); Stalwart would add it on top or do nothing, so it is sent as an append.
// - A change to a header this same verdict inserted (a name absent from the original message,
//   which Stalwart's changeHeader cannot address) is folded into that insertHeader's value.
// Limitation: a header appended by this verdict cannot be edited later in the same verdict
// (the engine never does that; the edit is applied to the pending append instead).
#pragma once

#include <vector>

#include "hook_response.h"
#include "session.h"
#include "verdict.h"

namespace relaytrust::hookd {

// original_headers: the message's headers as received (Session::headers, raw values without
// the final CRLF). Envelope and body edits pass through in order.
std::vector<HookModification> translate_modifications(const std::vector<Modification>& engine_edits,
                                                      const std::vector<Header>& original_headers);

}  // namespace relaytrust::hookd
