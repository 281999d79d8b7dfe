// SIGHUP reloads the policy.
//
// libmilter's signal thread sigwait()s for SIGHUP, SIGTERM and SIGINT and treats SIGHUP like
// SIGTERM: it stops the milter. reload_signal.cpp therefore defines sigwait() in this executable
// (libmilter.so binds to it instead of libc's) leaving SIGHUP out of libmilter's set, and a
// thread of ours waits for SIGHUP alone. SIGTERM and SIGINT still stop the milter as before.
#pragma once

#include <atomic>
#include <thread>

#include "policy_holder.h"

namespace relaytrust::milter {

class ReloadOnSighup {
  public:
    // Blocks SIGHUP in the calling thread, so every thread started later (libmilter's) inherits
    // the block, and starts the thread that waits for it. Call before smfi_main().
    explicit ReloadOnSighup(PolicyHolder& policy);
    ~ReloadOnSighup();  // stops and joins the thread
    ReloadOnSighup(const ReloadOnSighup&) = delete;
    ReloadOnSighup& operator=(const ReloadOnSighup&) = delete;

  private:
    void run();

    PolicyHolder& policy_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

// Loads the policy again and logs the outcome; the old policy stays on error.
void reload_policy(PolicyHolder& policy);

}  // namespace relaytrust::milter
