// relaytrust-hookd's command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http_server.h"

namespace relaytrust::hookd {

inline constexpr const char* kDefaultListen = "127.0.0.1:8686";

struct HookdOptions {
    std::string policy_file;    // "" = embedded default policy
    std::string dns_forwarder;  // "HOST:PORT" for sender authentication lookups
    std::string dns_zone_file;  // answer them from this file instead (offline tests)
    HttpServerConfig server;    // listen address, TLS, limits, timeouts
    std::string bearer_token_file;
    std::string basic_auth_file;  // "user:secret" on the first line
    bool no_auth = false;
    bool verbose = false;
};

struct OptionsResult {
    std::optional<HookdOptions> options;  // empty on error, --help or --version
    std::string error;                    // one line
    bool help = false;
    bool version = false;
};

OptionsResult parse_options(const std::vector<std::string>& args);
std::string usage_text();

// "127.0.0.1:8686", "[::1]:8686", "localhost:8686" -> host and port. False on bad syntax.
bool parse_listen(const std::string& text, std::string& host, std::uint16_t& port);
// 127.0.0.0/8, ::1, ::ffff:127.x.y.z and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace relaytrust::hookd
