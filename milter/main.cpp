// relaytrust-milter: the libmilter front end of the relaytrust policy engine.
//
// Start-up order matters: the policy is loaded before anything listens (a broken policy never
// takes mail), the socket is opened as root (privileged paths, stale unix sockets), TCP_NODELAY
// is set before the first accept, and privileges are dropped before the first MTA connection.
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "callbacks.h"
#include "listen_socket.h"
#include "log.h"
#include "metrics.h"
#include "metrics_server.h"
#include "options.h"
#include "policy_holder.h"
#include "process.h"
#include "reload_signal.h"

using namespace relaytrust::milter;

namespace {

int fail(int exit_code, const std::string& message) {
    log_error(message);
    return exit_code;
}

// SIGTERM, SIGINT and SIGHUP are taken with sigwait by libmilter's signal thread and the
// reload thread. Blocked here, before any thread exists (DNS resolver, reload, metrics), so
// every thread inherits the block: a thread that had them unblocked could be picked for the
// signal and die of its default action, taking the milter down without its clean stop.
// libmilter blocks the same set again in smfi_main; SIGPIPE is ignored, as libmilter does.
void block_stop_and_reload_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

void log_each_line(const std::string& text) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) log_error(line);
    }
}

}  // namespace

int main(int argc, char** argv) {
    ParseResult parsed = parse_options(argc, argv);
    if (parsed.exit_now) return 0;
    if (!parsed.options) {
        std::fprintf(stderr, "relaytrust-milter: %s\n%s", parsed.error.c_str(),
                     usage_text().c_str());
        return EX_USAGE;
    }
    const Options& options = *parsed.options;
    log_open(options.effective_log(), options.verbose);

    PolicyHolder policy(options.policy_path);
    relaytrust::PolicyLoadResult loaded = policy.load();
    if (!loaded.ok()) {
        log_error("cannot load the policy; not starting");
        log_each_line(loaded.error_text());
        return EX_CONFIG;
    }
    if (options.check) {
        std::printf("%s: OK\n", describe_policy(*loaded.policy).c_str());
        return 0;
    }
    metrics().policy_loaded(policy.generation(), false);

    // Bound now, so a bad address stops start-up here; its threads start after the fork.
    std::unique_ptr<MetricsServer> metrics_server;
    if (options.metrics) {
        try {
            metrics_server = std::make_unique<MetricsServer>(*options.metrics,
                                                             [] { return metrics().render(); });
        } catch (const std::exception& e) {
            return fail(EX_UNAVAILABLE, e.what());
        }
    }

    std::string error;
    std::optional<UserIds> user;
    if (!options.user.empty()) {
        user = find_user(options.user, error);
        if (!user) return fail(EX_NOUSER, error);
    }

    std::string connection_spec = libmilter_socket_spec(options.socket, error);
    smfiDesc description = filter_description(policy);
    if (smfi_setconn(connection_spec.data()) != MI_SUCCESS) {
        return fail(EX_SOFTWARE, "smfi_setconn(" + connection_spec + ") failed");
    }
    if (smfi_register(description) != MI_SUCCESS) {
        return fail(EX_SOFTWARE, "smfi_register failed (libmilter too old?)");
    }
    if (options.timeout_seconds > 0) smfi_settimeout(options.timeout_seconds);
    // true: remove a stale unix socket left by a previous run.
    if (smfi_opensocket(true) != MI_SUCCESS) {
        return fail(EX_UNAVAILABLE, "cannot listen on " + options.socket + " (" + connection_spec +
                                        "): address in use, or no permission?");
    }

    const std::string unix_path = unix_socket_path(options.socket);
    if (!unix_path.empty()) {
        if (!set_unix_socket_access(unix_path, options.socket_mode,
                                    user ? user->uid : static_cast<uid_t>(-1),
                                    user ? user->gid : static_cast<gid_t>(-1), error)) {
            return fail(EX_OSERR, error);
        }
    } else if (options.tcp_nodelay && enable_tcp_nodelay_on_listeners() == 0) {
        log_warning("could not set TCP_NODELAY on " + options.socket +
                    "; replies with edits may stall about 40 ms each");
    }

    if (!options.foreground) {
        if (!daemonize(error)) return fail(EX_OSERR, error);
        log_reopen_syslog();
    }
    if (!options.pidfile.empty() && !write_pidfile(options.pidfile, error)) {
        return fail(EX_CANTCREAT, error);
    }
    if (user && !drop_privileges(*user, error)) return fail(EX_NOPERM, error);
    block_stop_and_reload_signals();
    if (!options.no_auth) {
        auto auth = relaytrust::AuthServices::create(loaded.policy->auth, options.dns, &error);
        if (!auth) return fail(EX_UNAVAILABLE, "cannot start the DNS resolver: " + error);
        policy.set_auth(std::move(auth));
    }

    if (metrics_server) {
        try {
            metrics_server->start();
        } catch (const std::exception& e) {
            return fail(EX_OSERR, std::string("cannot start the metrics endpoint: ") + e.what());
        }
        const std::string& host = options.metrics->host;
        log_info("metrics on http://" +
                 (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                 std::to_string(metrics_server->port()) + "/metrics");
    }
    log_info("listening on " + options.socket + "; policy " + describe_policy(*loaded.policy));
    int result = MI_FAILURE;
    {
        ReloadOnSighup reload(policy);
        result = smfi_main();
    }
    if (metrics_server) metrics_server->stop();
    log_info(result == MI_SUCCESS ? "stopped" : "stopped after a libmilter failure");
    if (!options.pidfile.empty()) unlink(options.pidfile.c_str());
    return result == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
