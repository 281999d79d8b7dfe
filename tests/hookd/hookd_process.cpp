#include "hookd_process.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace relaytrust::hookd::test {

namespace {
using Clock = std::chrono::steady_clock;
}

std::string hookd_binary() {
    const char* env = std::getenv("RELAYTRUST_HOOKD");
    return env && *env ? env : RELAYTRUST_HOOKD_BINARY;
}

std::string HttpResult::header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
        if (strcasecmp(n.c_str(), name.c_str()) == 0) return v;
    }
    return "";
}

HookdProcess::HookdProcess(std::vector<std::string> args) {
    args.insert(args.begin(), {hookd_binary(), "--listen", "127.0.0.1:0"});
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // Never outlive the test, even if it crashes.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        dup2(pipe_fds[1], STDERR_FILENO);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(pipe_fds[1]);
    stderr_fd_ = pipe_fds[0];
    reader_ = std::thread([this] {
        char buffer[4096];
        for (;;) {
            const ssize_t n = read(stderr_fd_, buffer, sizeof buffer);
            if (n <= 0) break;
            std::lock_guard lock(log_mutex_);
            log_.append(buffer, static_cast<std::size_t>(n));
        }
    });
    if (!wait_for_log("listening on", 10'000)) {
        throw std::runtime_error("hookd did not start: " + log());
    }
    std::smatch match;
    const std::string text = log();
    if (!std::regex_search(text, match,
                           std::regex(R"(listening on https?://127\.0\.0\.1:(\d+))"))) {
        throw std::runtime_error("no port in: " + text);
    }
    port_ = std::stoi(match[1]);
}

HookdProcess::~HookdProcess() {
    session_.reset();
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        int status = 0;
        while (waitpid(pid_, &status, WNOHANG) == 0) {
            if (Clock::now() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    if (reader_.joinable()) reader_.join();
    if (stderr_fd_ >= 0) close(stderr_fd_);
}

std::string HookdProcess::log() const {
    std::lock_guard lock(log_mutex_);
    return log_;
}

bool HookdProcess::wait_for_log(const std::string& text, int timeout_ms) const {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
        if (log().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

void HookdProcess::signal(int signo) const {
    kill(pid_, signo);
}

HttpResult HookdProcess::post(const std::string& path, const std::string& body,
                              const std::string& authorization) {
    return request(Poco::Net::HTTPRequest::HTTP_POST, path, body, authorization);
}

HttpResult HookdProcess::get(const std::string& path, const std::string& authorization) {
    return request(Poco::Net::HTTPRequest::HTTP_GET, path, "", authorization);
}

HttpResult HookdProcess::request(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& authorization) {
    if (!session_) {
        session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1",
                                                                  static_cast<Poco::UInt16>(port_));
        session_->setKeepAlive(true);
        session_->setTimeout(Poco::Timespan(10, 0));
    }
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    if (!authorization.empty()) request.set("Authorization", authorization);
    if (method == Poco::Net::HTTPRequest::HTTP_POST) {
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& out = session_->sendRequest(request);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    Poco::Net::HTTPResponse response;
    std::istream& in = session_->receiveResponse(response);
    HttpResult result;
    result.status = static_cast<int>(response.getStatus());
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text);
    result.body = text.str();
    for (const auto& [name, value] : response)
        result.headers.emplace_back(name, value);
    return result;
}

}  // namespace relaytrust::hookd::test
