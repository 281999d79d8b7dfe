#include "log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace relaytrust::hookd {

namespace {
std::atomic<LogLevel> g_level{LogLevel::Info};

// Under systemd (JOURNAL_STREAM set) lines carry sd-daemon(3) priority prefixes, so
// journald files each under the right level.
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

std::string_view priority(LogLevel level) {
    switch (level) {
        case LogLevel::Error:
            return "<3>";
        case LogLevel::Warning:
            return "<4>";
        case LogLevel::Info:
            return "<6>";
        case LogLevel::Debug:
            return "<7>";
    }
    return "";
}

std::string_view label(LogLevel level) {
    switch (level) {
        case LogLevel::Error:
            return "error: ";
        case LogLevel::Warning:
            return "warning: ";
        case LogLevel::Debug:
            return "debug: ";
        case LogLevel::Info:
            break;
    }
    return "";
}
}  // namespace

void set_log_level(LogLevel level) {
    g_level = level;
}

bool log_enabled(LogLevel level) {
    return level <= g_level.load(std::memory_order_relaxed);
}

void log_line(LogLevel level, std::string_view message) {
    if (!log_enabled(level)) return;
    std::string line;
    line.reserve(message.size() + 40);
    if (g_journal) line += priority(level);
    line += "relaytrust-hookd: ";
    line += label(level);
    for (char c : message)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
    line += '\n';
    // One write(2) per line: atomic with respect to other writers on a pipe or journal socket.
    std::size_t written = 0;
    while (written < line.size()) {
        const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace relaytrust::hookd
