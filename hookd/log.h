// One line per event on stderr (systemd's journal adds time and unit). Lines are written
// whole, so concurrent requests never interleave within a line.
#pragma once

#include <string_view>

namespace relaytrust::hookd {

enum class LogLevel { Error, Warning, Info, Debug };

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, std::string_view message);

}  // namespace relaytrust::hookd
