// The policy every request uses, swapped whole on reload, together with the sender
// authentication services (DNS resolver, SPF workers) built for it. A request keeps the
// snapshot it started with; a reload that fails keeps the old one.
#pragma once

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
    // 0 before the first successful load, then 1, 2, ... per successful load.
    std::uint64_t generation() const {
        std::lock_guard lock(mutex_);
        return generation_;
    }

  private:
    std::shared_ptr<AuthServices> make_auth_services(const Policy& policy,
                                                     std::string& error) const;

    std::string policy_file_;
    std::string dns_forwarder_;
    std::string dns_zone_file_;
    mutable std::mutex mutex_;
    PolicySnapshot current_;
    std::uint64_t generation_ = 0;
};

}  // namespace relaytrust::hookd
