#include "metrics_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string_view>

#include "log.h"

namespace relaytrust::milter {

namespace {

constexpr int kThreads = 2;   // request threads; Prometheus scrapes one request at a time
constexpr int kQueued = 16;   // connections waiting for a thread before POCO drops them
constexpr int kTimeoutS = 5;  // per socket read/write: a stalled client frees its thread

bool valid_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    if (text.empty() || text.size() > 5) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

class Handler final : public Poco::Net::HTTPRequestHandler {
  public:
    explicit Handler(const std::function<std::string()>& render) : render_(render) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        // One request per connection: two threads then serve any number of scrapers in turn,
        // and no idle keep-alive connection sits on a thread.
        response.setKeepAlive(false);
        try {
            const HttpAnswer answer =
                answer_metrics_request(request.getMethod(), request.getURI(), render_);
            response.setStatusAndReason(
                static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
            response.setContentType(answer.content_type);
            if (!answer.allow.empty()) response.set("Allow", answer.allow);
            response.sendBuffer(answer.body.data(), answer.body.size());
        } catch (const Poco::Exception& e) {
            log_debug("metrics endpoint: " + e.displayText());  // the client went away
        } catch (const std::exception& e) {
            log_warning(std::string("metrics endpoint: ") + e.what());
            if (!response.sent()) {
                try {
                    response.setStatusAndReason(
                        Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
                    response.sendBuffer("internal error\n", 15);
                } catch (...) {
                }
            }
        }
    }

  private:
    const std::function<std::string()>& render_;
};

class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit HandlerFactory(std::function<std::string()> render) : render_(std::move(render)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
        return new Handler(render_);
    }

  private:
    const std::function<std::string()> render_;
};

}  // namespace

bool parse_metrics_endpoint(std::string_view text, MetricsEndpoint& out, std::string& error) {
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            error = "--metrics wants HOST:PORT or [IPV6]:PORT, not " + std::string(text);
            return false;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            error = "--metrics wants HOST:PORT (e.g. 127.0.0.1:9101), not " + std::string(text);
            return false;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            error = "--metrics: write an IPv6 address in brackets, e.g. [::1]:9101";
            return false;
        }
    }
    if (host.empty()) {
        // An empty host would listen on every interface.
        error = "--metrics names no host; use 127.0.0.1:PORT";
        return false;
    }
    if (!valid_port(port, out.port)) {
        error = "--metrics: bad port in " + std::string(text) + " (0-65535)";
        return false;
    }
    out.host = std::string(host);
    return true;
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost") return true;
    const std::string text(host);
    unsigned char bytes[16];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return bytes[0] == 127;
    if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
        static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                        0, 0, 0, 0, 0, 0, 0, 1};
        static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(bytes, bytes + 16, kLoopback)) return true;
        return std::equal(bytes, bytes + 12, kMapped) && bytes[12] == 127;
    }
    return false;
}

HttpAnswer answer_metrics_request(std::string_view method, std::string_view uri,
                                  const std::function<std::string()>& render) {
    std::string_view path = uri;
    if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
    HttpAnswer answer;
    if (path != "/metrics" && path != "/healthz") {
        answer.status = 404;
        answer.body = "not found: the endpoints are /metrics and /healthz\n";
        return answer;
    }
    if (method != "GET" && method != "HEAD") {
        answer.status = 405;
        answer.allow = "GET, HEAD";
        answer.body = "use GET\n";
        return answer;
    }
    if (path == "/healthz") {
        answer.body = "ok\n";
        return answer;
    }
    answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
    answer.body = render();
    return answer;
}

struct MetricsServer::Impl {
    Poco::Net::ServerSocket socket;
    std::function<std::string()> render;
    std::unique_ptr<Poco::ThreadPool> pool;
    std::unique_ptr<Poco::Net::HTTPServer> server;
    bool running = false;
};

MetricsServer::MetricsServer(const MetricsEndpoint& endpoint, std::function<std::string()> render)
    : impl_(std::make_unique<Impl>()) {
    impl_->render = std::move(render);
    try {
        // SO_REUSEADDR (a restart finds the port in TIME_WAIT) but not SO_REUSEPORT, which
        // POCO's convenience constructor sets: a second milter on the same port must fail
        // rather than share the scrapes.
        const Poco::Net::SocketAddress address(endpoint.host, endpoint.port);
        if (address.family() == Poco::Net::SocketAddress::IPv6) {
            impl_->socket.bind6(address, true, false, true);  // IPv6 only: no mapped clients
        } else {
            impl_->socket.bind(address, true, false);
        }
        impl_->socket.listen(64);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("cannot listen on " + endpoint.host + ":" +
                                 std::to_string(endpoint.port) +
                                 " for --metrics: " + e.displayText());
    }
}

MetricsServer::~MetricsServer() {
    stop();
}

void MetricsServer::start() {
    if (impl_->running) return;
    impl_->pool = std::make_unique<Poco::ThreadPool>("rt-metrics", 1, kThreads, 60);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(false);
    params->setTimeout(Poco::Timespan(kTimeoutS, 0));
    params->setMaxThreads(kThreads);
    params->setMaxQueued(kQueued);
    params->setSoftwareVersion("relaytrust-milter");
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(impl_->render),
                                                            *impl_->pool, impl_->socket, params);
    impl_->server->start();
    impl_->running = true;
}

void MetricsServer::stop() {
    if (!impl_ || !impl_->running) return;
    impl_->running = false;
    impl_->server->stopAll(false);
    impl_->server.reset();
    impl_->pool->joinAll();
}

std::uint16_t MetricsServer::port() const {
    return impl_->socket.address().port();
}

}  // namespace relaytrust::milter
