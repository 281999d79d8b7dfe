#include "reload_signal.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <sstream>
#include <string>
#include <system_error>

#include "log.h"
#include "metrics.h"

// libmilter's mi_signal_thread() calls sigwait({SIGHUP, SIGTERM, SIGINT}) and stops the milter on
// SIGHUP. This definition takes precedence over libc's for libmilter.so (the executable comes
// first in symbol lookup) and waits for the same set minus SIGHUP. Nothing else in this program
// calls sigwait(); the reload thread uses sigwaitinfo().
extern "C" int sigwait(const sigset_t* __restrict set, int* __restrict sig) {
    sigset_t without_hup = *set;
    sigdelset(&without_hup, SIGHUP);
    for (;;) {
        int received = sigwaitinfo(&without_hup, nullptr);
        if (received > 0) {
            *sig = received;
            return 0;
        }
        if (errno != EINTR) return errno;
    }
}

namespace relaytrust::milter {

void reload_policy(PolicyHolder& policy) {
    const std::string source =
        policy.path().empty() ? "the embedded default policy" : policy.path();
    PolicyLoadResult result = policy.load();
    if (result.ok()) {
        const std::uint64_t generation = policy.generation();
        metrics().policy_loaded(generation, true);
        log_info("policy reloaded: " + describe_policy(*result.policy) + " (generation " +
                 std::to_string(generation) + "); new connections use it");
        return;
    }
    metrics().policy_reload_failed();
    log_error("policy reload failed, keeping the previous policy (" + source + ", generation " +
              std::to_string(policy.generation()) + ")");
    std::istringstream lines(result.error_text());
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) log_error(line);
    }
}

ReloadOnSighup::ReloadOnSighup(PolicyHolder& policy) : policy_(policy) {
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    if (int rc = pthread_sigmask(SIG_BLOCK, &hup, nullptr); rc != 0) {
        throw std::system_error(rc, std::generic_category(), "pthread_sigmask(SIGHUP)");
    }
    thread_ = std::thread([this] { run(); });
}

ReloadOnSighup::~ReloadOnSighup() {
    stopping_ = true;
    // Thread-directed, so only the reload thread can take it.
    pthread_kill(thread_.native_handle(), SIGHUP);
    thread_.join();
}

void ReloadOnSighup::run() {
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    while (!stopping_) {
        int received = sigwaitinfo(&hup, nullptr);
        if (received != SIGHUP || stopping_) continue;
        log_info("SIGHUP received: reloading the policy");
        reload_policy(policy_);
    }
}

}  // namespace relaytrust::milter
