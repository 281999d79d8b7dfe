// One hook request -> one engine decision.
//
// Stalwart sends one stateless POST per stage, each carrying the whole session so far, so
// every request replays the earlier stages on a fresh Transaction from the request's own data
// (connect -> ehlo -> mail -> rcpt for each envelope recipient -> data) and answers with the
// verdict of the requested stage. Replay rules:
//
// - connect, ehlo or mail refuses (reject, tempfail, discard) during the replay: that verdict
//   is the answer. Stalwart only gets this far without having stopped there if the hook is not
//   registered for that stage (or the policy changed since), and the policy's intent is that
//   this session or transaction goes no further, so it is refused at the first stage that
//   asks. (`relaytrust stalwart-config` registers every stage the policy has rules for.)
// - rcpt request: the earlier recipients were already asked about and accepted; their replayed
//   verdicts are ignored (the engine forgets a refused one, as a milter would have) and the
//   answer is the verdict of the last recipient, the one being asked about.
// - data request: every listed recipient survived Stalwart's RCPT; if a replayed rcpt verdict
//   refuses one, the hook was not registered at rcpt, and the whole message gets that verdict
//   (a 4xx/5xx the sender sees) rather than a silent per-recipient drop.
// - quarantine before data keeps the message flowing; if the data verdict is a plain accept
//   it becomes quarantine, so the message is still marked (see docs/hookd.md).
// Sender authentication (SPF/DKIM/DMARC) runs only for data-stage requests, the only ones
// whose answer can depend on it.
#pragma once

#include <string>
#include <string_view>

#include "hook_request.h"
#include "hook_response.h"
#include "policy_store.h"
#include "verdict.h"

namespace relaytrust::hookd {

struct StageOutcome {
    Verdict verdict;        // what the engine decided (for logs and metrics)
    HookResponse response;  // what goes back to Stalwart
    std::string listener;   // the listener the engine picked
    bool engine_error = false;
};

class StageHandler {
  public:
    explicit StageHandler(const PolicyStore& policies) : policies_(policies) {}

    // hook_path: the request's URL path when it names a listener (e.g. "/hook/relay-in"),
    // else "" (then the listener is matched on server.ip/port, then the default).
    StageOutcome handle(const HookRequest& request, std::string_view hook_path) const;
    // The same, except that the request's strings the engine keeps move into it instead of
    // being copied: the message headers (request.message->headers is left empty), the PTR
    // name, HELO, sender and recipients (left empty). hookd's request path uses it: nothing
    // reads those afterwards (its log line names the stage, client IP and queue id).
    StageOutcome handle_taking_strings(HookRequest& request, std::string_view hook_path) const;

  private:
    StageOutcome run(const HookRequest& request, HookRequest* take_from,
                     std::string_view hook_path) const;

    const PolicyStore& policies_;
};

}  // namespace relaytrust::hookd
