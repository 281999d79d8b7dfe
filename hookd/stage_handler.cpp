#include "stage_handler.h"

#include <exception>
#include <optional>
#include <stdexcept>

#include "engine/transaction.h"
#include "verdict_mapping.h"

namespace relaytrust::hookd {

namespace {

bool stops_session(const Verdict& v) {
    return v.action == Action::Reject || v.action == Action::Tempfail ||
           v.action == Action::Discard;
}

// Header values arrive as "<raw>\r\n"; the engine keeps the raw value without the final line
// end (folding inside stays).
std::string strip_final_line_end(std::string value) {
    if (value.ends_with("\r\n")) {
        value.resize(value.size() - 2);
    } else if (value.ends_with('\n')) {
        value.pop_back();
    }
    return value;
}

std::string_view without_final_line_end(std::string_view value) {
    if (value.ends_with("\r\n")) return value.substr(0, value.size() - 2);
    if (value.ends_with('\n')) return value.substr(0, value.size() - 1);
    return value;
}

void fill_session(Session& s, const HookRequest& request, std::string_view hook_path) {
    s.clues.hook_path = std::string(hook_path);
    s.remote_ip = request.client.ip;
    s.remote_port = request.client.port;
    s.local_ip = request.server.ip;
    s.local_port = request.server.port;
    // server.name is "Stalwart v0.16.19", a product string, not a host name: leaving
    // mta_hostname empty lets the engine use the policy's hostname or the machine's for the
    // authserv-id and the result header. (Stalwart's own Received header is not in the
    // request, so nothing needs the MTA's name to recognise it.)
    if (request.tls) {
        s.tls_version = request.tls->version;
        s.tls_cipher = request.tls->cipher;
    }
    if (request.sasl_login) s.authenticated_as = *request.sasl_login;
}

class Replay {
  public:
    // take_from: the request itself, whose strings may be moved from (see
    // StageHandler::handle_taking_strings); null to copy them.
    Replay(PolicySnapshot snapshot, const HookRequest& request, HookRequest* take_from,
           std::string_view hook_path)
        : transaction_(std::move(snapshot.policy), std::move(snapshot.auth)),
          request_(request),
          take_from_(take_from) {
        Session& s = transaction_.session();
        fill_session(s, request, hook_path);
        // Stalwart passes the PTR name as DNS returns it, maybe with the root dot; the other
        // front ends see it without.
        if (request.client.ptr) {
            s.remote_host = take([](auto& r) -> auto& { return *r.client.ptr; });
            if (s.remote_host.ends_with('.')) s.remote_host.pop_back();
        }
    }

    Verdict run() {
        const HookStage stage = request_.stage;
        Verdict v = transaction_.connect();
        if (stage == HookStage::Connect || stops_session(v)) return v;

        if (request_.client.helo) {
            v = transaction_.ehlo(take([](auto& r) -> auto& { return *r.client.helo; }));
            if (stage == HookStage::Ehlo || stops_session(v)) return v;
        }
        if (stage == HookStage::Ehlo || stage == HookStage::Auth || !request_.envelope) return v;

        const HookEnvelope& envelope = *request_.envelope;
        v = transaction_.mail(take([](auto& r) -> auto& { return r.envelope->from; }));
        if (stage == HookStage::Mail || stops_session(v)) return v;

        for (std::size_t i = 0; i < envelope.to.size(); ++i) {
            v = transaction_.rcpt(take([i](auto& r) -> auto& { return r.envelope->to[i]; }));
            const bool last = i + 1 == envelope.to.size();
            if (stage == HookStage::Rcpt) {
                if (last) return v;
                continue;
            }
            if (stops_session(v)) return v;
        }

        if (request_.queue_id) transaction_.session().queue_id = *request_.queue_id;
        const HookMessage& message = *request_.message;
        transaction_.session().headers.reserve(message.headers.size());
        if (take_from_) {
            for (auto& [name, raw_value] : take_from_->message->headers)
                transaction_.header(std::move(name), strip_final_line_end(std::move(raw_value)));
            take_from_->message->headers.clear();
        } else {
            for (const auto& [name, raw_value] : message.headers)
                transaction_.header(name, std::string(without_final_line_end(raw_value)));
        }
        // Without a DKIM signature to hash it for, only the body's size matters.
        if (transaction_.wants_body()) {
            transaction_.body(message.contents.decode());
        } else {
            transaction_.body_skipped(message.contents.size());
        }
        // A quarantine decided at connect, MAIL or RCPT comes back from data() itself.
        return transaction_.data();
    }

    Transaction& transaction() { return transaction_; }

  private:
    // The request's string that pick selects: moved out of take_from_ when its strings may
    // be taken, else a copy of request_'s (pick is called with either, const or not).
    template <typename Pick>
    std::string take(Pick pick) const {
        return take_from_ ? std::move(pick(*take_from_)) : std::string(pick(request_));
    }

    Transaction transaction_;
    const HookRequest& request_;
    HookRequest* take_from_;
};

}  // namespace

StageOutcome StageHandler::handle(const HookRequest& request, std::string_view hook_path) const {
    return run(request, nullptr, hook_path);
}

StageOutcome StageHandler::handle_taking_strings(HookRequest& request,
                                                 std::string_view hook_path) const {
    return run(request, &request, hook_path);
}

StageOutcome StageHandler::run(const HookRequest& request, HookRequest* take_from,
                               std::string_view hook_path) const {
    StageOutcome outcome;
    std::optional<Replay> replay;
    try {
        // SPF/DKIM/DMARC results exist only at the end of data; evaluating them while
        // replaying mail or rcpt would cost DNS lookups nobody reads. The policy is only
        // borrowed (see for_this_thread): the Transaction ends within this call.
        PolicySnapshot snapshot = policies_.for_this_thread(request.stage == HookStage::Data);
        if (!snapshot.policy) throw std::runtime_error("no policy loaded");
        replay.emplace(std::move(snapshot), request, take_from, hook_path);
        outcome.verdict = replay->run();
        outcome.engine_error = outcome.verdict.rule == "on_error";
        outcome.listener = replay->transaction().session().listener;
        outcome.response =
            map_verdict(outcome.verdict, request.stage, replay->transaction().session().headers);
    } catch (const std::exception& e) {
        // The engine itself never throws; this catches what is left (allocation failure, a
        // bug here). The listener's on_error decides, as for an engine error.
        outcome.engine_error = true;
        outcome.verdict =
            replay ? replay->transaction().failure_verdict(std::string("hookd error: ") + e.what())
                   : Verdict{Action::Tempfail,
                             default_reply(Action::Tempfail),
                             {},
                             {std::string("hookd error: ") + e.what()},
                             "on_error"};
        outcome.listener = replay ? replay->transaction().session().listener : "";
        outcome.response = map_verdict(outcome.verdict, request.stage, {});
    }
    return outcome;
}

}  // namespace relaytrust::hookd
