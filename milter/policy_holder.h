// The policy every new connection starts with. A reload swaps the whole snapshot atomically;
// connections keep the snapshot they negotiated with (Transaction pins it), so rules never change
// in the middle of an SMTP session.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "engine/sender_auth.h"
#include "policy/policy.h"
#include "policy/policy_loader.h"

namespace relaytrust::milter {

class PolicyHolder {
  public:
    explicit PolicyHolder(std::string path) : path_(std::move(path)) {}

    // Loads the file (or the embedded default when the path is ""). On success the new policy
    // becomes current; on failure the current one stays and the result carries the errors.
    PolicyLoadResult load();

    std::shared_ptr<const Policy> current() const { return policy_.load(); }

    // DNS resolver and SPF workers for sender authentication, created once after start-up
    // (after daemonizing: its threads would not survive the fork). Null: no SPF/DKIM/DMARC.
    void set_auth(std::shared_ptr<AuthServices> auth) { auth_.store(std::move(auth)); }
    std::shared_ptr<AuthServices> auth() const { return auth_.load(); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    std::atomic<std::shared_ptr<const Policy>> policy_;
    std::atomic<std::shared_ptr<AuthServices>> auth_;
};

// One line describing a loaded policy, for logs and --check.
std::string describe_policy(const Policy& policy);

}  // namespace relaytrust::milter
