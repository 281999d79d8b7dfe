// Runs the real relaytrust-hookd binary for a test and talks HTTP to it. The process is
// stopped when the object goes away (pass or fail) and dies with the test process.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace relaytrust::hookd::test {

struct HttpResult {
    int status = 0;
    std::string body;
    std::string header(const std::string& name) const;
    std::vector<std::pair<std::string, std::string>> headers;
};

class HookdProcess {
  public:
    // Starts hookd with --listen 127.0.0.1:0 plus args; waits for its "listening on" line.
    explicit HookdProcess(std::vector<std::string> args);
    ~HookdProcess();
    HookdProcess(const HookdProcess&) = delete;
    HookdProcess& operator=(const HookdProcess&) = delete;

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string log() const;  // stderr so far
    bool wait_for_log(const std::string& text, int timeout_ms) const;
    void signal(int signo) const;

    // One request on this object's keep-alive connection (reconnects if needed).
    HttpResult post(const std::string& path, const std::string& body,
                    const std::string& authorization = "");
    HttpResult get(const std::string& path, const std::string& authorization = "");

  private:
    HttpResult request(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& authorization);

    pid_t pid_ = -1;
    int port_ = 0;
    int stderr_fd_ = -1;
    std::thread reader_;
    mutable std::mutex log_mutex_;
    std::string log_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

// Path of the hookd binary under test (build-time default, RELAYTRUST_HOOKD env override).
std::string hookd_binary();

}  // namespace relaytrust::hookd::test
