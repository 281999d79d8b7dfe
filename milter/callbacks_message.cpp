// Message-level callbacks: MAIL, RCPT, DATA, each header, each body chunk, end of message,
// abort.
// Headers are kept (the engine needs the whole block to judge positions); the body is only
// streamed through, never stored.
#include <string_view>

#include "callbacks_internal.h"
#include "log.h"
#include "macros.h"
#include "verdict_reply.h"

namespace relaytrust::milter::detail {

namespace {

std::string first_argument_or_macro(SMFICTX* ctx, char** argv, const char* macro_name) {
    if (argv != nullptr && argv[0] != nullptr) return envelope_address(argv[0]);
    return macro(ctx, macro_name).value_or("");
}

void log_headers_seen(const Connection& connection) {
    const Session& session = connection.transaction.session();
    std::string line = session.queue_id + ": headers seen:";
    for (const Header& h : session.headers) {
        std::string_view value = h.raw_value;
        if (value.size() > 60) value = value.substr(0, 60);
        line += " [" + h.name + ":" + std::string(value) + "]";
    }
    log_debug(line);
}

}  // namespace

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
    return guarded(ctx, Callback::Mail, [&] {
        Connection* connection = connection_of(ctx);
        if (connection == nullptr) return without_connection(Callback::Mail);
        connection->deferred_for_message.reset();
        Session& session = connection->transaction.session();
        fill_mail_facts(ctx, session);
        std::string sender = first_argument_or_macro(ctx, argv, "{mail_addr}");
        Verdict verdict = engine_call(*connection, Stage::Mail, [&] {
            return connection->transaction.mail(std::move(sender));
        });
        // mail() starts a fresh message, which clears the queue ID: set it afterwards.
        update_queue_id(ctx, session);
        return reply_before_end_of_message(ctx, *connection, Stage::Mail, SMFIP_NR_MAIL,
                                           std::move(verdict));
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
    return guarded(ctx, Callback::Rcpt, [&] {
        Connection* connection = connection_of(ctx);
        if (connection == nullptr) return without_connection(Callback::Rcpt);
        update_queue_id(ctx, connection->transaction.session());
        connection->recipient = first_argument_or_macro(ctx, argv, "{rcpt_addr}");
        Verdict verdict = engine_call(*connection, Stage::Rcpt, [&] {
            return connection->transaction.rcpt(connection->recipient);
        });
        return reply_before_end_of_message(ctx, *connection, Stage::Rcpt, SMFIP_NR_RCPT,
                                           std::move(verdict));
    });
}

sfsistat on_data(SMFICTX* ctx) {
    return guarded(ctx, Callback::Data, [&] {
        Connection* connection = connection_of(ctx);
        if (connection == nullptr) return without_connection(Callback::Data);
        // Postfix knows the queue ID from here on. The engine has no DATA-command stage: its
        // "data" stage is the end of the message.
        update_queue_id(ctx, connection->transaction.session());
        return SMFIS_CONTINUE;
    });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
    return guarded(ctx, Callback::Header, [&] {
        Connection* connection = connection_of(ctx);
        if (connection == nullptr) return without_connection(Callback::Header);
        std::string raw = value ? value : "";
        // Without SMFIP_HDR_LEADSPC the MTA removed the one space after the colon; put it back so
        // the engine always sees the value as it stood in the message.
        if (!connection->header_leading_space) raw.insert(0, " ");
        connection->transaction.header(name ? name : "", std::move(raw));
        return collected(*connection, SMFIP_NR_HDR);
    });
}

sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t length) {
    return guarded(ctx, Callback::Body, [&] {
        Connection* connection = connection_of(ctx);
        if (connection == nullptr) return without_connection(Callback::Body);
        connection->transaction.body(
            std::string_view(reinterpret_cast<const char*>(chunk), chunk ? length : 0));
        return collected(*connection, SMFIP_NR_BODY);
    });
}

sfsistat on_eom(SMFICTX* ctx) {
    return guarded(ctx, Callback::EndOfMessage, [&] {
        Connection* connection = connection_of(ctx);
        if (connection == nullptr) return without_connection(Callback::EndOfMessage);
        update_queue_id(ctx, connection->transaction.session());
        if (log_verbose()) log_headers_seen(*connection);
        Verdict verdict =
            engine_call(*connection, Stage::Data, [&] { return connection->transaction.data(); });
        metrics().count_auth(connection->transaction.auth_outcome());
        sfsistat reply = reply_at_end_of_message(ctx, *connection, std::move(verdict));
        ++connection->messages;
        connection->reset_message();
        return reply;
    });
}

sfsistat on_abort(SMFICTX* ctx) {
    return guarded(ctx, Callback::Abort, [&] {
        // RSET, a refused message, or the MTA's clean-up after end of message: the connection
        // stays, the message is gone.
        if (Connection* connection = connection_of(ctx)) connection->reset_message();
        return SMFIS_CONTINUE;
    });
}

}  // namespace relaytrust::milter::detail
