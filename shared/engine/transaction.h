// One SMTP connection as the engine sees it. Front ends fill the Session, call the stage
// methods in SMTP order, and translate the Verdicts they return. A Transaction pins the policy
// snapshot it was created with, so a reload never changes the rules mid-session.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/sender_auth.h"
#include "engine/verdict_header_trust.h"
#include "policy/policy.h"
#include "session.h"
#include "verdict.h"

namespace relaytrust {

class Transaction {
  public:
    // `auth` may be null: SPF/DKIM/DMARC are then not evaluated (results "none").
    explicit Transaction(std::shared_ptr<const Policy> policy,
                         std::shared_ptr<AuthServices> auth = nullptr);
    ~Transaction();
    Transaction(Transaction&&) noexcept = default;
    Transaction& operator=(Transaction&&) noexcept = default;

    Session& session() { return session_; }
    const Session& session() const { return session_; }
    const Policy& policy() const { return *policy_; }
    const Listener* listener() const { return listener_; }
    const TrustedRelay* relay() const { return relay_; }

    // Stage calls. Each never throws: an internal error yields the listener's on_error verdict
    // with the reason. Connection facts must be in session() before connect().
    Verdict connect();
    Verdict ehlo(std::string helo);
    Verdict mail(std::string sender);
    Verdict rcpt(std::string recipient);
    void header(std::string name, std::string raw_value);
    // Body bytes as they arrive (any chunking); nothing is buffered here.
    void body(std::string_view chunk);
    // After the headers: whether body() needs the bytes. When false, body_skipped(size) is
    // enough (only the size is used), which spares a front end decoding a body that arrives
    // encoded (hookd's JSON).
    bool wants_body() const;
    void body_skipped(std::size_t size);
    Verdict data();  // end of message

    // Drops per-message state (after data() or on abort); the connection stays.
    void reset_message();

    // The verdict-header analysis of the last data() call, for logs and `relaytrust test`.
    const TrustAnalysis& analysis() const { return analysis_; }
    // SPF/DKIM/DMARC of the last data() call.
    const AuthOutcome& auth_outcome() const;
    const std::string& authserv_id() const;

    // The verdict a front end uses when it cannot ask the engine at all (e.g. it failed to
    // parse what the MTA sent).
    Verdict failure_verdict(std::string reason) const;

    // Our own name: the policy's "hostname", else the MTA's own name (milter macro j,
    // Stalwart server.name), else the machine's host name.
    const std::string& our_hostname() const;

    // The engine's view of variables, for expressions (defined in transaction.cpp).
    class EvalContext;

  private:
    Verdict run_stage(Stage stage);
    Verdict run_rules(Stage stage);
    // score: analysis_.spam_score as written in texts (formatted once per message).
    void add_data_modifications(const Rule* rule, Verdict& verdict, std::string_view score) const;
    void start_authentication();
    void enforce_authentication(Verdict& verdict) const;

    std::shared_ptr<const Policy> policy_;
    Session session_;
    const Listener* listener_ = nullptr;
    const TrustedRelay* relay_ = nullptr;
    TrustAnalysis analysis_;
    std::shared_ptr<AuthServices> auth_services_;
    std::unique_ptr<MessageAuthentication> auth_;
    // Without auth_: whether mail() found every check off, and data() has been reached since.
    enum class AuthOff : std::uint8_t { No, Started, Finished };
    AuthOff auth_off_ = AuthOff::No;
    ReceivedLayout received_layout_;  // our MTA's Received headers on top, the relay's hop

    // A quarantine can be decided before the message exists (at connect for every message of
    // the connection, at MAIL or RCPT for this one) but only carried out at its end: data()
    // turns a milder end-of-message verdict into it, so the result header and the edits say
    // what really happens to the message.
    struct EarlierQuarantine {
        Stage stage = Stage::Connect;
        const Rule* rule = nullptr;
        Verdict verdict;
    };
    std::optional<EarlierQuarantine> quarantine_for_connection_;
    std::optional<EarlierQuarantine> quarantine_for_message_;
};

}  // namespace relaytrust
