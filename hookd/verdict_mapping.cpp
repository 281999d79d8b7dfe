#include "verdict_mapping.h"

#include "header_edit_translation.h"

namespace relaytrust::hookd {

namespace {

// The engine validates policy replies at load time; this guards the wire anyway, because
// Stalwart writes whatever status it gets (a 2xx "reject" would tell the client all is well).
SmtpReply checked_reply(Action action, const Verdict& verdict) {
    SmtpReply reply = verdict.effective_reply();
    if (!validate_reply(action, reply).empty()) reply = default_reply(action);
    return reply;
}

HookSmtpReply to_hook_reply(const SmtpReply& reply) {
    return HookSmtpReply{reply.code, reply.enhanced, reply.text};
}

}  // namespace

HookResponse map_verdict(const Verdict& verdict, HookStage stage,
                         const std::vector<Header>& original_headers) {
    HookResponse response;
    switch (verdict.action) {
        case Action::Accept:
        case Action::Quarantine:
            response.action = HookAction::Accept;
            if (stage == HookStage::Data && !verdict.modifications.empty()) {
                response.modifications =
                    translate_modifications(verdict.modifications, original_headers);
            }
            break;
        case Action::Reject:
        case Action::Tempfail:
            response.action = HookAction::Reject;
            response.reply = to_hook_reply(checked_reply(verdict.action, verdict));
            break;
        case Action::Discard:
            response.action = HookAction::Discard;
            if (verdict.reply && validate_reply(Action::Discard, *verdict.reply).empty()) {
                response.reply = to_hook_reply(*verdict.reply);
            }
            break;
    }
    return response;
}

}  // namespace relaytrust::hookd
