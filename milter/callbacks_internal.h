// Shared by the callback files (not a public interface).
#pragma once

#include <libmilter/mfapi.h>

#include <chrono>
#include <exception>
#include <string>

#include "connection.h"
#include "decision_log.h"
#include "metrics.h"
#include "policy_holder.h"

namespace relaytrust::milter::detail {

PolicyHolder& policy_holder();
void set_policy_holder(PolicyHolder* holder);

inline Connection* connection_of(SMFICTX* ctx) {
    return static_cast<Connection*>(smfi_getpriv(ctx));
}

// One engine stage call, timed for the decision line (engine_us) and the latency histogram;
// an on_error verdict from the engine counts as an engine error.
template <typename Call>
Verdict engine_call(Connection& connection, Stage stage, Call&& call) {
    const auto started = std::chrono::steady_clock::now();
    Verdict verdict = call();
    connection.engine_time = std::chrono::steady_clock::now() - started;
    metrics().observe_engine(stage, connection.engine_time);
    if (is_failure_verdict(verdict)) metrics().count_error(ErrorKind::Engine);
    return verdict;
}

// What a callback does when it throws (allocation failure, a bug): the listener's on_error
// verdict, given at once when the stage can reply and at end of message otherwise.
enum class Callback { Connect, Helo, Mail, Rcpt, Data, Header, Body, EndOfMessage, Abort };
sfsistat callback_failed(SMFICTX* ctx, Callback callback, const std::string& what);

// A message callback arrived without connection state (it was never created because memory ran
// out, or the MTA skipped the connect step): refuse with a temporary error where possible.
sfsistat without_connection(Callback callback);

template <typename Body>
sfsistat guarded(SMFICTX* ctx, Callback callback, Body&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        try {
            return callback_failed(ctx, callback, e.what());
        } catch (...) {
        }
    } catch (...) {
        try {
            return callback_failed(ctx, callback, "unknown exception");
        } catch (...) {
        }
    }
    return callback == Callback::Header || callback == Callback::Body ? SMFIS_CONTINUE
                                                                      : SMFIS_TEMPFAIL;
}

// Callbacks, defined in callbacks_connection.cpp and callbacks_message.cpp.
sfsistat on_negotiate(SMFICTX* ctx, unsigned long offered_actions, unsigned long offered_steps,
                      unsigned long, unsigned long, unsigned long* actions, unsigned long* steps,
                      unsigned long* reserved2, unsigned long* reserved3);
sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr);
sfsistat on_helo(SMFICTX* ctx, char* helo);
sfsistat on_close(SMFICTX* ctx);
sfsistat on_envfrom(SMFICTX* ctx, char** argv);
sfsistat on_envrcpt(SMFICTX* ctx, char** argv);
sfsistat on_data(SMFICTX* ctx);
sfsistat on_header(SMFICTX* ctx, char* name, char* value);
sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t length);
sfsistat on_eom(SMFICTX* ctx);
sfsistat on_abort(SMFICTX* ctx);

}  // namespace relaytrust::milter::detail
