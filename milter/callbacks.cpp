#include "callbacks.h"

#include "callbacks_internal.h"
#include "log.h"
#include "metrics.h"
#include "verdict_reply.h"

namespace relaytrust::milter {

namespace detail {

namespace {
PolicyHolder* g_policy_holder = nullptr;
char kFilterName[] = "relaytrust-milter";
}  // namespace

PolicyHolder& policy_holder() {
    return *g_policy_holder;
}
void set_policy_holder(PolicyHolder* holder) {
    g_policy_holder = holder;
}

sfsistat without_connection(Callback callback) {
    metrics().count_error(ErrorKind::NoConnection);
    log_error("milter callback without connection state; answering with a temporary failure");
    // Header and body steps may be negotiated without reply; libmilter turns CONTINUE into
    // "no reply" there, whereas a stray TEMPFAIL would be taken as one.
    return callback == Callback::Header || callback == Callback::Body ? SMFIS_CONTINUE
                                                                      : SMFIS_TEMPFAIL;
}

sfsistat callback_failed(SMFICTX* ctx, Callback callback, const std::string& what) {
    Connection* connection = connection_of(ctx);
    if (connection == nullptr) {
        log_error("internal error without connection state: " + what);
        return without_connection(callback);
    }
    metrics().count_error(ErrorKind::Internal);
    Verdict failure = connection->transaction.failure_verdict("internal error: " + what);
    switch (callback) {
        case Callback::Connect:
            return reply_before_end_of_message(ctx, *connection, Stage::Connect, SMFIP_NR_CONN,
                                               std::move(failure));
        case Callback::Helo:
            return reply_before_end_of_message(ctx, *connection, Stage::Ehlo, SMFIP_NR_HELO,
                                               std::move(failure));
        case Callback::Mail:
            return reply_before_end_of_message(ctx, *connection, Stage::Mail, SMFIP_NR_MAIL,
                                               std::move(failure));
        case Callback::Rcpt:
            return reply_before_end_of_message(ctx, *connection, Stage::Rcpt, SMFIP_NR_RCPT,
                                               std::move(failure));
        case Callback::Data:
        case Callback::Header:
        case Callback::Body: {
            // Only collecting here: the failure is answered, and logged as the message's
            // decision, at end of message.
            const bool header = callback == Callback::Header;
            const bool data = callback == Callback::Data;
            log_warning(std::string("internal error in the ") +
                        (data     ? "DATA"
                         : header ? "header"
                                  : "body") +
                        " callback, answered at end of message: " + what);
            if (!connection->deferred_for_message ||
                action_severity(failure.action) >
                    action_severity(connection->deferred_for_message->verdict.action)) {
                connection->deferred_for_message = DeferredVerdict{std::move(failure), Stage::Data};
            }
            return collected(*connection, data     ? SMFIP_NR_DATA
                                          : header ? SMFIP_NR_HDR
                                                   : SMFIP_NR_BODY);
        }
        case Callback::EndOfMessage: {
            sfsistat reply = reply_at_end_of_message(ctx, *connection, std::move(failure));
            connection->reset_message();
            return reply;
        }
        case Callback::Abort:
            log_error("error while aborting a message: " + what);
            return SMFIS_CONTINUE;
    }
    return SMFIS_TEMPFAIL;
}

}  // namespace detail

smfiDesc filter_description(PolicyHolder& policy) {
    detail::set_policy_holder(&policy);
    smfiDesc desc{};
    desc.xxfi_name = detail::kFilterName;
    desc.xxfi_version = SMFI_VERSION;
    // Everything the engine's Verdict can ask for. Only protocol steps cost round trips; those are
    // trimmed per connection in xxfi_negotiate.
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGFROM |
                      SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGBODY | SMFIF_SETSYMLIST;
    desc.xxfi_negotiate = detail::on_negotiate;
    desc.xxfi_connect = detail::on_connect;
    desc.xxfi_helo = detail::on_helo;
    desc.xxfi_envfrom = detail::on_envfrom;
    desc.xxfi_envrcpt = detail::on_envrcpt;
    desc.xxfi_data = detail::on_data;
    desc.xxfi_header = detail::on_header;
    desc.xxfi_body = detail::on_body;
    desc.xxfi_eom = detail::on_eom;
    desc.xxfi_abort = detail::on_abort;
    desc.xxfi_close = detail::on_close;
    // No xxfi_eoh, xxfi_unknown: negotiated away (SMFIP_NOEOH, SMFIP_NOUNKNOWN).
    return desc;
}

}  // namespace relaytrust::milter
