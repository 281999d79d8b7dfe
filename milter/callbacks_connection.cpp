// Connection-level callbacks: negotiate, connect, HELO, close.
#include <cstdio>
#include <memory>

#include "callbacks_internal.h"
#include "log.h"
#include "macros.h"
#include "verdict_reply.h"

namespace relaytrust::milter::detail {

namespace {

// Actions without which relaytrust cannot do its job: forged verdict headers must go, the
// result header must be added, and quarantine must never turn into delivery.
constexpr unsigned long kRequiredActions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
constexpr unsigned long kOptionalActions =
    SMFIF_CHGFROM | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGBODY | SMFIF_SETSYMLIST;

// Protocol steps for this connection. Headers and body only feed the engine, so the MTA need
// not wait for a reply to each (one round trip per header otherwise); SMTP stages without rules
// are sent without reply as well. End-of-header and unknown commands are not needed.
//
// DATA is kept, with a reply, although nothing is decided there: Postfix sends the DATA macros
// even when the step is negotiated away, and that lone unanswered packet makes the next write
// (by the cleanup process, the first header) wait for a delayed ACK under Nagle: 40 ms per
// message, 20 msg/s on one SMTP session (measured with Postfix 3.7, docs/performance.md).
unsigned long wanted_steps(const Policy& policy, unsigned long offered) {
    unsigned long steps =
        SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC;
    if (!policy.uses_stage(Stage::Connect)) steps |= SMFIP_NR_CONN;
    if (!policy.uses_stage(Stage::Ehlo)) steps |= SMFIP_NR_HELO;
    if (!policy.uses_stage(Stage::Mail)) steps |= SMFIP_NR_MAIL;
    if (!policy.uses_stage(Stage::Rcpt)) steps |= SMFIP_NR_RCPT;
    // libmilter offers the no-reply bits even to MTAs without them (it fakes them), and drops
    // NOUNKNOWN for MTAs that lack it; anything else not offered must not be asked.
    return steps & offered;
}

std::string hex(unsigned long value) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%lx", value);
    return text;
}

Connection& connection_for(SMFICTX* ctx) {
    if (Connection* existing = connection_of(ctx)) return *existing;
    // No negotiation before this connect (SMFIC_QUIT_NC reuse): reply at every stage.
    PolicySnapshot snapshot = policy_holder().snapshot();
    auto connection = std::make_unique<Connection>(std::move(snapshot.policy),
                                                   policy_holder().auth(), snapshot.generation);
    smfi_setpriv(ctx, connection.get());
    return *connection.release();
}

std::string client_label(const Session& session) {
    if (session.remote_ip.empty()) return "unknown";
    std::string label = session.remote_ip.find(':') != std::string::npos
                            ? "[" + session.remote_ip + "]"
                            : session.remote_ip;
    if (session.remote_port != 0) label += ":" + std::to_string(session.remote_port);
    return label;
}

std::string describe_connect_macros(SMFICTX* ctx, const char* hostname) {
    std::string text = "connect: host=" + std::string(hostname ? hostname : "(null)");
    for (const char* name : {"j", "{daemon_name}", "{daemon_addr}", "{daemon_port}",
                             "{client_addr}", "{client_port}", "{client_name}"}) {
        auto value = macro(ctx, name);
        text += " " + std::string(name) + "=" + (value ? *value : "(missing)");
    }
    return text;
}

}  // namespace

sfsistat on_negotiate(SMFICTX* ctx, unsigned long offered_actions, unsigned long offered_steps,
                      unsigned long, unsigned long, unsigned long* actions, unsigned long* steps,
                      unsigned long* reserved2, unsigned long* reserved3) {
    try {
        PolicySnapshot snapshot = policy_holder().snapshot();
        if ((offered_actions & kRequiredActions) != kRequiredActions) {
            metrics().count_error(ErrorKind::Negotiate);
            log_error("MTA offers milter actions " + hex(offered_actions) +
                      " without header edits and quarantine; refusing the connection (the MTA "
                      "applies its milter_default_action)");
            return SMFIS_REJECT;
        }
        *actions = kRequiredActions | (offered_actions & kOptionalActions);
        *steps = wanted_steps(*snapshot.policy, offered_steps);
        *reserved2 = 0;
        *reserved3 = 0;
        if (log_verbose()) {
            log_debug("negotiate: MTA offers actions " + hex(offered_actions) + " steps " +
                      hex(offered_steps) + "; asking actions " + hex(*actions) + " steps " +
                      hex(*steps));
        }

        delete connection_of(ctx);  // defensive: a second negotiation on one context
        auto connection = std::make_unique<Connection>(std::move(snapshot.policy),
                                                       policy_holder().auth(), snapshot.generation);
        connection->negotiated = true;
        connection->actions = *actions;
        connection->protocol = *steps;
        connection->header_leading_space = (*steps & SMFIP_HDR_LEADSPC) != 0;
        smfi_setpriv(ctx, connection.release());

        if ((*actions & SMFIF_SETSYMLIST) != 0 && !request_macros(ctx)) {
            log_warning("smfi_setsymlist failed; using the MTA's default macro lists");
        }
        return SMFIS_CONTINUE;
    } catch (const std::exception& e) {
        metrics().count_error(ErrorKind::Negotiate);
        log_error(std::string("cannot set up a connection: ") + e.what());
        smfi_setpriv(ctx, nullptr);
        return SMFIS_REJECT;
    }
}

sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr) {
    return guarded(ctx, Callback::Connect, [&] {
        Connection& connection = connection_for(ctx);
        Session& session = connection.transaction.session();
        fill_connect_facts(ctx, hostname, hostaddr, session);
        connection.client = client_label(session);
        if (log_verbose()) log_debug(describe_connect_macros(ctx, hostname));
        Verdict verdict = engine_call(connection, Stage::Connect,
                                      [&] { return connection.transaction.connect(); });
        return reply_before_end_of_message(ctx, connection, Stage::Connect, SMFIP_NR_CONN,
                                           std::move(verdict));
    });
}

sfsistat on_helo(SMFICTX* ctx, char* helo) {
    return guarded(ctx, Callback::Helo, [&] {
        Connection* connection = connection_of(ctx);
        if (connection == nullptr) return without_connection(Callback::Helo);
        fill_helo_facts(ctx, connection->transaction.session());
        Verdict verdict = engine_call(*connection, Stage::Ehlo, [&] {
            return connection->transaction.ehlo(helo ? helo : "");
        });
        return reply_before_end_of_message(ctx, *connection, Stage::Ehlo, SMFIP_NR_HELO,
                                           std::move(verdict));
    });
}

sfsistat on_close(SMFICTX* ctx) {
    Connection* connection = connection_of(ctx);
    smfi_setpriv(ctx, nullptr);
    if (connection != nullptr && log_verbose()) {
        log_debug("close: client=" + connection->client +
                  " messages=" + std::to_string(connection->messages));
    }
    delete connection;
    return SMFIS_CONTINUE;
}

}  // namespace relaytrust::milter::detail
