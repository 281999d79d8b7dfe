// Where relaytrust-milter writes: stderr (one line per call, whole lines even from many
// threads) or syslog facility mail. libmilter's own complaints always go to syslog.
#pragma once

#include <string_view>

#include "options.h"

namespace relaytrust::milter {

enum class LogLevel { Debug, Info, Warning, Error };

void log_open(LogTarget target, bool verbose);
void log_reopen_syslog();  // after fork: syslog's socket must belong to the daemon
bool log_verbose();
void log_line(LogLevel level, std::string_view text);

inline void log_info(std::string_view text) {
    log_line(LogLevel::Info, text);
}
inline void log_warning(std::string_view text) {
    log_line(LogLevel::Warning, text);
}
inline void log_error(std::string_view text) {
    log_line(LogLevel::Error, text);
}
inline void log_debug(std::string_view text) {
    if (log_verbose()) log_line(LogLevel::Debug, text);
}

}  // namespace relaytrust::milter
