// relaytrust-hookd: the Stalwart MTA-hook front end of relaytrust (docs/hookd.md).
#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>
#include <signal.h>
#include <sys/stat.h>

#include <iostream>
#include <string>
#include <vector>

#include "auth.h"
#include "hook_application.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "policy_store.h"

namespace {

using namespace relaytrust::hookd;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitPolicy = 2;
constexpr int kExitStartup = 3;

void log_policy_errors(LogLevel level, const std::string& prefix, const std::string& errors) {
    std::size_t start = 0;
    while (start < errors.size()) {
        std::size_t end = errors.find('\n', start);
        if (end == std::string::npos) end = errors.size();
        if (end > start) log_line(level, prefix + errors.substr(start, end - start));
        start = end + 1;
    }
}

// A secret every local user can read is not a secret; say so, but start anyway. Group access is
// how the packaged setup lets the unprivileged daemon read a root-owned token (root:relaytrust
// 0640), so only "others" counts.
void warn_if_readable_by_others(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IRWXO) != 0) {
        log_line(LogLevel::Warning, path + " is readable by every user (chmod o-rwx it)");
    }
}

bool configure_auth(const HookdOptions& options, Authenticator& authenticator) {
    std::string error;
    if (!options.bearer_token_file.empty()) {
        const std::string token = Authenticator::read_secret_file(options.bearer_token_file, error);
        if (!error.empty()) {
            log_line(LogLevel::Error, "--bearer-token-file " + error);
            return false;
        }
        authenticator.add_bearer_token(token);
        warn_if_readable_by_others(options.bearer_token_file);
    }
    if (!options.basic_auth_file.empty()) {
        const std::string credentials =
            Authenticator::read_secret_file(options.basic_auth_file, error);
        if (error.empty() && credentials.find(':') == std::string::npos) {
            error = options.basic_auth_file + ": expected user:secret on the first line";
        }
        if (!error.empty()) {
            log_line(LogLevel::Error, "--basic-auth-file " + error);
            return false;
        }
        authenticator.add_basic_credentials(credentials);
        warn_if_readable_by_others(options.basic_auth_file);
    }
    return true;
}

// Every thread started later inherits this mask, so these signals reach only sigwait().
sigset_t block_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-reply is not fatal
    return set;
}

int serve(const HookdOptions& options) {
    const sigset_t signals = block_signals();

    Authenticator authenticator;
    if (!configure_auth(options, authenticator)) return kExitStartup;

    PolicyStore policies(options.policy_file, options.dns_forwarder, options.dns_zone_file);
    if (std::string errors = policies.load(); !errors.empty()) {
        log_policy_errors(LogLevel::Error, "", errors);
        return kExitPolicy;
    }
    Metrics metrics;
    metrics.set_policy_generation(policies.generation());
    HookApplication application(policies, authenticator, metrics);

    const bool tls = !options.server.tls_cert_file.empty();
    if (tls) Poco::Net::initializeSSL();
    int status = kExitOk;
    try {
        HttpServer server(options.server, application);
        server.start();
        log_line(LogLevel::Info,
                 std::string("listening on ") + (tls ? "https://" : "http://") +
                     (options.server.host.find(':') != std::string::npos
                          ? "[" + options.server.host + "]"
                          : options.server.host) +
                     ":" + std::to_string(server.port()) + " (policy " +
                     (options.policy_file.empty() ? std::string("<embedded default policy>")
                                                  : options.policy_file) +
                     (authenticator.required() ? "" : ", no authentication") + ")");
        for (;;) {
            int signal = 0;
            if (sigwait(&signals, &signal) != 0) continue;
            if (signal == SIGHUP) {
                const std::uint64_t before = policies.generation();
                if (std::string errors = policies.load(); errors.empty()) {
                    metrics.count_reload(true);
                    log_line(LogLevel::Info, "policy reloaded (generation " +
                                                 std::to_string(policies.generation()) + ")");
                } else {
                    metrics.count_reload(false);
                    log_policy_errors(
                        LogLevel::Error,
                        "policy reload failed, keeping generation " + std::to_string(before) + ": ",
                        errors);
                }
                metrics.set_policy_generation(policies.generation());
                continue;
            }
            log_line(LogLevel::Info, "stopping");
            break;
        }
        server.stop();
    } catch (const Poco::Exception& e) {
        log_line(LogLevel::Error, "cannot serve on " + options.server.host + ":" +
                                      std::to_string(options.server.port) + ": " + e.displayText());
        status = kExitStartup;
    }
    if (tls) Poco::Net::uninitializeSSL();
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    OptionsResult parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    if (parsed.help) {
        std::cout << usage_text();
        return kExitOk;
    }
    if (parsed.version) {
        std::cout << "relaytrust-hookd " << RELAYTRUST_VERSION << "\n";
        return kExitOk;
    }
    if (!parsed.options) {
        std::cerr << "relaytrust-hookd: " << parsed.error << "\n" << usage_text();
        return kExitUsage;
    }
    if (parsed.options->verbose) set_log_level(LogLevel::Debug);
    return serve(*parsed.options);
}
