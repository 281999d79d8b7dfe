// HTTP/1.1 transport on POCO's HTTPServer: keep-alive, a bounded thread pool, optional TLS
// (NetSSL_OpenSSL), a request body limit and timeouts. It knows nothing about hooks: an
// HttpApplication decides. The benchmark's constant-reply server runs on this same class.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServer;
}  // namespace Poco::Net
namespace Poco {
class ThreadPool;
}

namespace relaytrust::hookd {

struct HttpReply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool close = false;  // end the connection after this reply

    // A text/plain reply whose body is the one-line reason.
    static HttpReply error(int status, std::string reason);
};

// Why the transport answered a request itself, before the application saw its body.
enum class TransportRefusal { LengthRequired, TooLarge, Timeout, Truncated };

class HttpApplication {
  public:
    virtual ~HttpApplication() = default;
    // Runs on the request line and headers, before any body byte is read. A reply ends the
    // request there (routing, auth, GET endpoints); nullopt: read the body, then handle().
    virtual std::optional<HttpReply> check_head(const Poco::Net::HTTPServerRequest& request) = 0;
    virtual HttpReply handle(const Poco::Net::HTTPServerRequest& request, std::string body) = 0;
    virtual void on_refusal(TransportRefusal /*refusal*/) {}
};

struct HttpServerConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8686;  // 0: any free port (see HttpServer::port)
    std::string tls_cert_file;  // both set: HTTPS; both empty: plain HTTP
    std::string tls_key_file;
    std::size_t max_body = 64u << 20;
    int threads = 32;
    int max_queued = 256;
    std::chrono::milliseconds read_timeout{10'000};     // per socket read or write
    std::chrono::milliseconds idle_timeout{100'000};    // keep-alive wait for the next request
    std::chrono::milliseconds request_timeout{30'000};  // whole body, however it trickles
    std::string server_name = "relaytrust-hookd";
};

class HttpServer {
  public:
    // Binds the socket (and loads the certificate); throws Poco::Exception on failure.
    HttpServer(const HttpServerConfig& config, HttpApplication& application);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void start();
    // Stops accepting, lets requests in progress finish, closes idle keep-alive connections.
    void stop();
    std::uint16_t port() const { return port_; }

  private:
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::uint16_t port_ = 0;
    bool running_ = false;
};

}  // namespace relaytrust::hookd
