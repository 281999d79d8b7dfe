#include "verdict_reply.h"

#include <string>

#include "decision_log.h"
#include "log.h"
#include "message_edits.h"
#include "metrics.h"

namespace relaytrust::milter {

namespace {

// Keeps the more severe of the waiting verdict and this one. Not a decision yet: the line is
// logged when the MTA is answered, at end of message (--verbose shows the deferral).
void defer(std::optional<DeferredVerdict>& slot, Stage stage, Verdict verdict,
           std::string_view why) {
    if (log_verbose()) {
        log_debug(std::string(stage_name(stage)) + "-stage verdict " +
                  std::string(action_name(verdict.action)) + " (rule " +
                  (verdict.rule.empty() ? std::string("none") : verdict.rule) +
                  ") waits for end of message: " + std::string(why));
    }
    if (!slot || action_severity(verdict.action) > action_severity(slot->verdict.action))
        slot = DeferredVerdict{std::move(verdict), stage};
}

// smfi_setreply treats the text as a format: a lone '%' makes the MTA drop it. CR/LF would
// make the call fail outright.
std::string reply_text(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '%') out += '%';
        out += (c == '\r' || c == '\n') ? ' ' : c;
    }
    return out;
}

void set_reply(SMFICTX* ctx, const Verdict& verdict) {
    const SmtpReply reply = verdict.effective_reply();
    std::string code = std::to_string(reply.code);
    std::string enhanced = reply.enhanced;
    std::string text = reply_text(reply.text);
    if (smfi_setreply(ctx, code.data(), enhanced.empty() ? nullptr : enhanced.data(),
                      text.data()) != MI_SUCCESS) {
        metrics().count_error(ErrorKind::MilterApi);
        log_warning("smfi_setreply refused \"" + code + " " + enhanced + " " + text +
                    "\"; the MTA sends its default reply");
    }
}

sfsistat refuse(SMFICTX* ctx, const Verdict& verdict) {
    set_reply(ctx, verdict);
    return verdict.action == Action::Reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

// The reason handed to smfi_quarantine (Sendmail logs it and shows it in mailq; Postfix >= 3.10
// logs it): one short line.
std::string quarantine_reason(const Verdict& verdict) {
    std::string reason = "relaytrust";
    if (!verdict.rule.empty()) reason += " rule " + verdict.rule;
    for (const auto& r : verdict.reasons) {
        if (r.rfind("rule '", 0) == 0) continue;  // already named
        reason += "; " + r;
    }
    if (reason.size() > 200) reason.resize(200);
    for (char& c : reason) {
        if (c == '\r' || c == '\n') c = ' ';
    }
    return reason;
}

// Folds deferred verdicts into the end-of-message one. The edits of the end-of-message verdict
// are kept when the result still delivers (a held message must not keep forged headers).
// `note` says where a deferred verdict that won was decided.
Verdict merge_deferred(Connection& connection, Verdict verdict, std::string& note) {
    for (auto* slot : {&connection.deferred_for_connection, &connection.deferred_for_message}) {
        if (!*slot || action_severity((*slot)->verdict.action) <= action_severity(verdict.action))
            continue;
        Verdict winner = (*slot)->verdict;
        if (winner.action == Action::Quarantine) winner.modifications = verdict.modifications;
        for (auto& reason : verdict.reasons)
            winner.reasons.push_back(std::move(reason));
        verdict = std::move(winner);
        note = "decided at " + std::string(stage_name((*slot)->stage));
        if (slot == &connection.deferred_for_connection)
            note += ", for every message of the connection";
    }
    return verdict;
}

}  // namespace

sfsistat reply_before_end_of_message(SMFICTX* ctx, Connection& connection, Stage stage,
                                     unsigned long no_reply_flag, Verdict verdict) {
    const bool can_reply = connection.replies_at(no_reply_flag);
    const bool connection_wide = stage == Stage::Connect || stage == Stage::Ehlo;
    const sfsistat go_on = can_reply ? SMFIS_CONTINUE : SMFIS_NOREPLY;
    auto& slot =
        connection_wide ? connection.deferred_for_connection : connection.deferred_for_message;

    switch (verdict.action) {
        case Action::Accept:
            // Failing open is a decision worth a line; a plain accept only means "go on".
            if (is_failure_verdict(verdict)) log_decision(connection, stage, verdict);
            return go_on;
        case Action::Reject:
        case Action::Tempfail:
            if (!can_reply) {
                defer(slot, stage, std::move(verdict), "stage negotiated without reply");
                return go_on;
            }
            log_decision(connection, stage, verdict);
            return refuse(ctx, verdict);
        case Action::Discard:
            if (!connection_wide && can_reply) {
                log_decision(connection, stage, verdict);
                return SMFIS_DISCARD;
            }
            defer(slot, stage, std::move(verdict),
                  connection_wide ? "applies to every message of the connection"
                                  : "stage negotiated without reply");
            return go_on;
        case Action::Quarantine:
            defer(slot, stage, std::move(verdict),
                  connection_wide ? "applies to every message of the connection"
                                  : "held at end of message");
            return go_on;
    }
    return go_on;
}

sfsistat reply_at_end_of_message(SMFICTX* ctx, Connection& connection, Verdict verdict) {
    std::string note;
    verdict = merge_deferred(connection, std::move(verdict), note);
    switch (verdict.action) {
        case Action::Reject:
        case Action::Tempfail:
            log_decision(connection, Stage::Data, verdict, note);
            return refuse(ctx, verdict);
        case Action::Discard:
            log_decision(connection, Stage::Data, verdict, note);
            return SMFIS_DISCARD;
        case Action::Accept:
        case Action::Quarantine:
            break;
    }

    std::string error;
    bool ok = apply_modifications(ctx, connection, verdict.modifications, error);
    if (ok && verdict.action == Action::Quarantine) {
        std::string reason = quarantine_reason(verdict);
        if (smfi_quarantine(ctx, reason.data()) != MI_SUCCESS) {
            ok = false;
            error = "smfi_quarantine failed";
        }
    }
    if (!ok) {
        // Half-applied edits are harmless when the listener fails closed (nothing is queued);
        // failing open delivers what got through, which the log line says.
        metrics().count_error(ErrorKind::MilterApi);
        Verdict failure = connection.transaction.failure_verdict("cannot apply verdict: " + error);
        failure.reasons.insert(failure.reasons.begin(), verdict.reasons.begin(),
                               verdict.reasons.end());
        std::string intended = "intended " + std::string(action_name(verdict.action));
        if (!verdict.rule.empty()) intended += " (rule " + verdict.rule + ")";
        if (!note.empty()) intended += ", " + note;
        log_decision(connection, Stage::Data, failure, intended);
        if (failure.action == Action::Reject || failure.action == Action::Tempfail) {
            return refuse(ctx, failure);
        }
        return failure.action == Action::Discard ? SMFIS_DISCARD : SMFIS_ACCEPT;
    }
    log_decision(connection, Stage::Data, verdict, note);
    return SMFIS_ACCEPT;
}

}  // namespace relaytrust::milter
