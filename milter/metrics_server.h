// The optional HTTP endpoint of --metrics HOST:PORT: GET /metrics (Prometheus text format
// 0.0.4) and GET /healthz, on POCO's HTTPServer with a thread pool of its own (at most two
// request threads plus POCO's acceptor), so a slow or stuck scraper never holds up a milter
// callback: the callbacks only bump atomics, and only these threads format text.
//
// Two steps because of daemonizing: the constructor binds and listens (no thread yet, so the
// socket survives the fork and a bad address stops start-up with an error on the terminal);
// start() creates the threads, after the fork and after dropping privileges.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace relaytrust::milter {

struct MetricsEndpoint {
    std::string host;  // an address or a host name; IPv6 without brackets
    std::uint16_t port = 0;
};

// Parses HOST:PORT, [IPV6]:PORT. PORT 0 picks a free port (tests). False + error otherwise.
bool parse_metrics_endpoint(std::string_view text, MetricsEndpoint& out, std::string& error);

// 127.0.0.0/8, ::1, ::ffff:127.x.y.z and "localhost".
bool is_loopback_host(std::string_view host);

struct HttpAnswer {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string allow;  // the Allow header of a 405
};

// What the endpoint answers for METHOD PATH (query string ignored); pure, for tests.
HttpAnswer answer_metrics_request(std::string_view method, std::string_view uri,
                                  const std::function<std::string()>& render);

class MetricsServer {
  public:
    // Binds and listens; throws std::runtime_error naming the address on failure.
    MetricsServer(const MetricsEndpoint& endpoint, std::function<std::string()> render);
    ~MetricsServer();  // stops and joins
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    void start();
    void stop();
    std::uint16_t port() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace relaytrust::milter
