#include "log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace relaytrust::milter {

namespace {
std::atomic<LogTarget> g_target{LogTarget::Stderr};
std::atomic<bool> g_verbose{false};
std::mutex g_stderr_mutex;

constexpr const char* kIdent = "relaytrust-milter";

int syslog_priority(LogLevel level) {
    switch (level) {
        case LogLevel::Debug:
            return LOG_DEBUG;
        case LogLevel::Info:
            return LOG_INFO;
        case LogLevel::Warning:
            return LOG_WARNING;
        case LogLevel::Error:
            return LOG_ERR;
    }
    return LOG_INFO;
}

const char* level_prefix(LogLevel level) {
    switch (level) {
        case LogLevel::Debug:
            return "debug: ";
        case LogLevel::Info:
            return "";
        case LogLevel::Warning:
            return "warning: ";
        case LogLevel::Error:
            return "error: ";
    }
    return "";
}
}  // namespace

void log_open(LogTarget target, bool verbose) {
    g_target = target;
    g_verbose = verbose;
    if (target == LogTarget::Syslog) openlog(kIdent, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_reopen_syslog() {
    if (g_target == LogTarget::Syslog) {
        closelog();
        openlog(kIdent, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

bool log_verbose() {
    return g_verbose;
}

void log_line(LogLevel level, std::string_view text) {
    if (g_target == LogTarget::Syslog) {
        syslog(syslog_priority(level), "%s%.*s", level_prefix(level), static_cast<int>(text.size()),
               text.data());
        return;
    }
    // Postfix maillog style: time, program[pid]: message. One fwrite per line so that lines from
    // concurrent connections never interleave.
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
    std::string line = std::string(stamp) + " " + kIdent + "[" + std::to_string(getpid()) + "]: ";
    line += level_prefix(level);
    line += text;
    line += '\n';
    std::lock_guard lock(g_stderr_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace relaytrust::milter
