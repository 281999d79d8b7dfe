// SPF evaluation (RFC 7208): check_host() for the MAIL FROM or the HELO identity, the results
// as Received-SPF / Authentication-Results text, and SpfVerifier, which runs evaluations on
// its own worker threads so the MTA-facing thread only starts one and later collects it.
//
// Engine flow (milter or hook daemon):
//   auth::SpfVerifier spf(resolver);                         // one per process
//   auto pending = spf.start_spf({client_ip, helo, mail_from});   // at MAIL FROM
//   ... headers and body arrive; DNS time overlaps the transfer ...
//   const auth::SpfResult& result = pending.get();           // at end of data
//
// A lookup never hangs an evaluation: every DNS answer is awaited at most until the
// evaluation's deadline (SpfOptions::time_limit, default 20 s as RFC 7208 §4.6.4 suggests),
// after which the result is temperror; the resolvers add their own per-query timeouts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dns/resolver.h"
#include "net/network_set.h"

namespace relaytrust::auth {

enum class SpfResultCode : std::uint8_t {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError
};

// RFC 7208 / RFC 8601 words: "none", "neutral", "pass", "fail", "softfail", "temperror",
// "permerror".
std::string_view spf_result_name(SpfResultCode code);
std::optional<SpfResultCode> parse_spf_result_name(std::string_view name);  // case-insensitive

enum class SpfIdentity : std::uint8_t {
    MailFrom,  // RFC 7208 §2.4: the MAIL FROM domain; postmaster@HELO for a null reverse-path
    Helo,      // RFC 7208 §2.3: the HELO/EHLO domain, sender postmaster@HELO
};

struct SpfRequest {
    net::IpAddress client_ip;  // the IP to authorize (in origin mode: the relay's client)
    std::string helo;          // HELO/EHLO argument as given
    std::string mail_from;     // MAIL FROM address without <>; "" for the null reverse-path
    SpfIdentity identity = SpfIdentity::MailFrom;
    std::string receiver;  // our host name, for %{r} and Received-SPF; "" → "unknown"
};

struct SpfOptions {
    unsigned max_dns_mechanisms = 10;  // include a mx ptr exists redirect (§4.6.4)
    unsigned max_void_lookups = 2;     // NXDOMAIN / empty answers (§4.6.4)
    unsigned max_mx_names = 10;        // address lookups per mx mechanism; more → permerror
    unsigned max_ptr_names = 10;       // PTR names considered per ptr mechanism / %{p}
    std::chrono::milliseconds time_limit{20000};
    // Explanation for a fail without a usable exp= (RFC 7208 §6.2 lets the receiver choose).
    std::string default_explanation;
    // %{t}; unset means the current time.
    std::optional<std::int64_t> timestamp;
};

struct SpfResult {
    SpfResultCode code = SpfResultCode::None;
    SpfIdentity identity = SpfIdentity::MailFrom;
    std::string domain;  // the <domain> evaluated (MAIL FROM domain, or HELO)
    std::string sender;  // the <sender> used, e.g. "postmaster@mail.example.org"
    net::IpAddress client_ip;
    std::string helo;
    std::string receiver;
    // The top-level term that decided: "-all", "ip4:192.0.2.0/24", "include:_spf.example.net",
    // "default" when no term matched (neutral); "" for none / errors.
    std::string mechanism;
    std::string explanation;   // fail only: the expanded exp= text, or default_explanation
    std::string problem;       // none / temperror / permerror: what went wrong
    unsigned dns_lookups = 0;  // terms counted against max_dns_mechanisms
    unsigned void_lookups = 0;

    std::string_view result_name() const { return spf_result_name(code); }
    // "domain of example.com designates 192.0.2.1 as permitted sender" and the like.
    std::string comment() const;
    // Received-SPF field body (RFC 7208 §9.1), e.g.
    //   pass (mx.example.net: domain of example.com designates 192.0.2.1 as permitted sender)
    //   client-ip=192.0.2.1; envelope-from="user@example.com"; helo=mail.example.com;
    //   receiver=mx.example.net; mechanism="ip4:192.0.2.0/24"; identity=mailfrom
    std::string received_spf() const;
    // RFC 8601 resinfo: "spf=pass smtp.mailfrom=example.com" or "spf=none smtp.helo=...".
    std::string authentication_results() const;
};

// Runs check_host() for `request` on the calling thread, blocking on each DNS answer. Never
// throws; resolver failures become temperror.
SpfResult evaluate_spf(dns::Resolver& resolver, const SpfRequest& request,
                       const SpfOptions& options = {});

// Evaluations on a small pool of worker threads. Each evaluation occupies one worker while it
// waits for DNS, so size the pool for the concurrent messages expected (default 8); extra
// requests queue and start in order. Thread-safe.
class SpfVerifier {
  public:
    explicit SpfVerifier(std::shared_ptr<dns::Resolver> resolver, SpfOptions options = {},
                         unsigned worker_threads = 8);
    // Queued evaluations that have not started complete with temperror ("shutting down");
    // running ones finish first (bounded by time_limit).
    ~SpfVerifier();
    SpfVerifier(const SpfVerifier&) = delete;
    SpfVerifier& operator=(const SpfVerifier&) = delete;

    // Returns at once; the future is ready when the evaluation ends.
    std::shared_future<SpfResult> start_spf(SpfRequest request);
    // Callback form: `done` runs on a worker thread.
    void start_spf(SpfRequest request, std::function<void(SpfResult)> done);
    // On the calling thread.
    SpfResult check(const SpfRequest& request) const;

    const SpfOptions& options() const { return options_; }

  private:
    struct Job {
        SpfRequest request;
        std::function<void(SpfResult)> done;
    };
    void worker_loop();

    std::shared_ptr<dns::Resolver> resolver_;
    SpfOptions options_;
    std::mutex mutex_;
    std::condition_variable wakeup_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace relaytrust::auth
