// The policy every new connection starts with. A reload swaps the whole snapshot atomically;
// connections keep the snapshot they negotiated with (Transaction pins it), so rules never change
// in the middle of an SMTP session.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "engine/sender_auth.h"
#include "policy/policy.h"
#include "policy/policy_loader.h"

namespace relaytrust::milter {

// A policy with its generation: 1 for the policy loaded at start, +1 per successful reload.
// Decision log lines name the generation their connection uses.
struct PolicySnapshot {
    std::shared_ptr<const Policy> policy;
    std::uint64_t generation = 0;
};

class PolicyHolder {
  public:
    explicit PolicyHolder(std::string path) : path_(std::move(path)) {}

    // Loads the file (or the embedded default when the path is ""). On success the new policy
    // becomes current with the next generation; on failure the current one stays and the result
    // carries the errors.
    PolicyLoadResult load();

    PolicySnapshot snapshot() const {
        auto current = snapshot_.load();
        return current ? *current : PolicySnapshot{};
    }
    std::shared_ptr<const Policy> current() const { return snapshot().policy; }
    std::uint64_t generation() const { return snapshot().generation; }

    // DNS resolver and SPF workers for sender authentication, created once after start-up
    // (after daemonizing: its threads would not survive the fork). Null: no SPF/DKIM/DMARC.
    void set_auth(std::shared_ptr<AuthServices> auth) { auth_.store(std::move(auth)); }
    std::shared_ptr<AuthServices> auth() const { return auth_.load(); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    std::mutex load_mutex_;  // one load at a time, so generations never repeat
    std::atomic<std::shared_ptr<const PolicySnapshot>> snapshot_;
    std::atomic<std::shared_ptr<AuthServices>> auth_;
};

// One line describing a loaded policy, for logs and --check.
std::string describe_policy(const Policy& policy);

}  // namespace relaytrust::milter
