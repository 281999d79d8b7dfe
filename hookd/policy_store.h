// The policy every request uses, swapped whole on reload, together with the sender
// authentication services (DNS resolver, SPF workers) built for it. A request keeps the
// snapshot it started with; a reload that fails keeps the old one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "engine/sender_auth.h"
#include "policy/policy.h"
#include "policy/policy_loader.h"

namespace relaytrust::hookd {

struct PolicySnapshot {
    std::shared_ptr<const Policy> policy;
    std::shared_ptr<AuthServices> auth;  // SPF/DKIM/DMARC lookups for data-stage requests
};

class PolicyStore {
  public:
    // policy_file empty: the embedded default policy. dns_forwarder: "HOST:PORT" overriding
    // the policy's DNS server ("" = the policy's, else /etc/resolv.conf). dns_zone_file: answer
    // lookups from this OpenSPF-zonedata YAML file instead of DNS (offline tests).
    explicit PolicyStore(std::string policy_file, std::string dns_forwarder = "",
                         std::string dns_zone_file = "")
        : policy_file_(std::move(policy_file)),
          dns_forwarder_(std::move(dns_forwarder)),
          dns_zone_file_(std::move(dns_zone_file)) {}

    // Loads the policy and starts its authentication services; on success they become
    // current and the generation goes up. Returns the errors ("file:line:col: message", one
    // per line) or "" on success.
    std::string load();

    PolicySnapshot current() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    // current() for a request on the calling thread, without the lock and, for the policy,
    // without the shared reference count (on a busy server, every pool thread taking them
    // for each request makes their cache lines travel between cores). The returned policy
    // pointer does not own the policy: a thread-local owning copy keeps it alive until this
    // thread's next call, so the snapshot must not outlive the request (nor be kept by
    // anything that does). A replaced policy is freed once each thread that used it has
    // called again. The authentication services (null unless with_auth) are owned, as from
    // current(): they hold threads and sockets, which a replaced policy must not keep.
    PolicySnapshot for_this_thread(bool with_auth) const;
    // 0 before the first successful load, then 1, 2, ... per successful load.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  private:
    std::shared_ptr<AuthServices> make_auth_services(const Policy& policy,
                                                     std::string& error) const;

    std::string policy_file_;
    std::string dns_forwarder_;
    std::string dns_zone_file_;
    // Tells for_this_thread()'s thread-local copies of different stores apart (an address
    // could be reused by a later store).
    const std::uint64_t id_ = next_id_.fetch_add(1, std::memory_order_relaxed);
    static inline std::atomic<std::uint64_t> next_id_{1};
    mutable std::mutex mutex_;
    PolicySnapshot current_;
    std::atomic<std::uint64_t> generation_{0};  // changed under mutex_, with current_
};

}  // namespace relaytrust::hookd
