// SPF, DKIM and DMARC for one message, scoped by the policy's per-listener modes:
//   disable  — not evaluated;
//   relaxed  — evaluated and recorded (variables, Authentication-Results), never enforced;
//   strict   — evaluated and enforced: SPF fail, DMARC p=reject / p=quarantine;
//   origin   — for sessions from a trusted relay: evaluated against the client IP and HELO
//              the relay recorded in its own Received header (N hops down), or taken from the
//              relay's Authentication-Results when its authserv-id is trusted; for other
//              sessions it behaves like relaxed on the connecting IP.
// Lookups start as early as the data allows: SPF at MAIL FROM (or, in origin mode, when the
// relay's Received header arrives), DKIM keys when a DKIM-Signature header arrives, DMARC
// records when From arrives. finish() waits at most the policy's deadline.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/dkim_verifier.h"
#include "auth/dmarc_verifier.h"
#include "auth/spf.h"
#include "dns/resolver.h"
#include "headers/authentication_results.h"
#include "policy/policy.h"
#include "session.h"

namespace relaytrust {

// Process-wide: the resolver and the SPF worker pool. Front ends create one at start-up and
// hand it to every Transaction; nullptr means "no sender authentication" (all results none).
// Where a message's SPF check runs.
enum class SpfPlacement : std::uint8_t {
    // On the SPF verifier's worker threads, from MAIL FROM on: its DNS time overlaps the
    // message transfer (the milter, where DATA takes a while).
    WorkerPool,
    // On the thread that collects the results, when it does (MessageAuthentication::finish).
    // For a front end handed the whole message at once (hookd) that thread would wait for the
    // pool right away: the pool only added two thread hand-offs per message. The DKIM and
    // DMARC lookups started at the headers still run alongside.
    WhenCollected,
};

class AuthServices {
  public:
    // forwarder: "HOST:PORT" of a DNS server to use instead of the policy's / resolv.conf.
    static std::shared_ptr<AuthServices> create(
        const AuthSettings& settings, const std::string& forwarder_override, std::string* error,
        SpfPlacement spf_placement = SpfPlacement::WorkerPool);
    // Any resolver (dns::ZoneResolver for tests and offline runs).
    AuthServices(std::shared_ptr<dns::Resolver> resolver, const AuthSettings& settings,
                 SpfPlacement spf_placement = SpfPlacement::WorkerPool);

    dns::Resolver& resolver() { return *resolver_; }
    auth::SpfVerifier& spf() { return spf_; }
    SpfPlacement spf_placement() const { return spf_placement_; }

  private:
    std::shared_ptr<dns::Resolver> resolver_;
    auth::SpfVerifier spf_;
    SpfPlacement spf_placement_;
};

// What the message's authentication came to; read by expressions and written into
// Authentication-Results.
struct AuthOutcome {
    AuthMode spf_mode = AuthMode::Disable;
    AuthMode dkim_mode = AuthMode::Disable;
    AuthMode dmarc_mode = AuthMode::Disable;
    std::string source;     // "evaluated", "relay-ar" (taken from the relay's A-R), "none"
    std::string origin_ip;  // the IP SPF was evaluated for
    std::string origin_helo;
    std::string origin_note;  // e.g. "origin: client 203.0.113.7 seen by relay av-relay"
    std::string spf_result = "none";
    std::string spf_domain;
    std::string spf_comment;
    std::string dkim_result = "none";  // pass if any signature passed, else the first result
    std::vector<std::string> dkim_pass_domains;
    std::vector<auth::DkimResult> dkim;
    std::string dmarc_result = "none";
    std::string dmarc_policy = "none";  // disposition: none | quarantine | reject
    std::string dmarc_from;             // author domain
    std::string dmarc_reason;
};

class MessageAuthentication {
  public:
    MessageAuthentication(std::shared_ptr<AuthServices> services, const AuthSettings& settings);
    ~MessageAuthentication();

    // Modes are chosen by the transaction (expressions over the session) before mail().
    void set_modes(AuthMode spf, AuthMode dkim, AuthMode dmarc, bool from_trusted_relay,
                   std::string relay_name);

    // At MAIL FROM: starts SPF on the connecting IP unless disabled or origin-from-a-relay.
    void on_mail(const Session& session, const std::string& receiver);
    // Every header in order; `own` marks our MTA's own Received headers on top.
    void on_header(const Session& session, const Header& header, bool own_received,
                   const std::string& receiver);
    void on_body(std::string_view chunk);
    // False when on_body() would do nothing: no DKIM signature still needs the body hash.
    bool wants_body() const;
    // End of data: waits for outstanding lookups (bounded) and evaluates DMARC.
    const AuthOutcome& finish(const Session& session);
    const AuthOutcome& outcome() const { return outcome_; }

    // The Authentication-Results value (without the header name) for `authserv_id`.
    std::string authentication_results(const std::string& authserv_id) const;

  private:
    void start_spf(const std::string& ip, const std::string& helo, const std::string& mail_from,
                   const std::string& receiver);
    void use_relay_results(const headers::AuthenticationResults& ar);

    std::shared_ptr<AuthServices> services_;
    const AuthSettings& settings_;
    bool from_trusted_relay_ = false;
    std::string relay_name_;
    std::size_t received_seen_ = 0;  // Received headers below our own, counted top-down
    bool origin_found_ = false;
    bool relay_ar_used_ = false;
    bool before_relay_hop_ = true;  // still above the relay's Received (trusted position)
    std::optional<std::shared_future<auth::SpfResult>> spf_pending_;  // WorkerPool
    std::optional<auth::SpfRequest> spf_deferred_;                    // WhenCollected
    std::unique_ptr<auth::DkimVerifier> dkim_;
    std::unique_ptr<auth::DmarcVerifier> dmarc_;
    bool finished_ = false;
    AuthOutcome outcome_;
};

}  // namespace relaytrust
