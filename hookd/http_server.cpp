#include "http_server.h"

#include <Poco/ErrorHandler.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <atomic>
#include <istream>

#include "log.h"

namespace relaytrust::hookd {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using Clock = std::chrono::steady_clock;

// After a 413 the unread body is drained (up to this much) so the client reads the reply
// instead of a connection reset; beyond it the connection is just closed.
constexpr std::size_t kMaxDrainBytes = 32u << 20;

Poco::Timespan to_timespan(std::chrono::milliseconds ms) {
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

enum class BodyStatus { Ok, LengthRequired, TooLarge, Timeout, Truncated };

// Reads the body one socket read at a time, so a client that trickles bytes is cut off at
// request_timeout, not only when a single read stalls for read_timeout.
class BodyReader {
  public:
    BodyReader(HTTPServerRequest& request, const HttpServerConfig& config)
        : request_(request), config_(config), deadline_(Clock::now() + config.request_timeout) {}
    // A kept-alive connection's next request starts with the normal read timeout again.
    ~BodyReader() {
        if (!shortened_) return;
        try {
            socket()->setReceiveTimeout(to_timespan(config_.read_timeout));
        } catch (const Poco::Exception&) {
        }
    }

    BodyStatus read(std::string& body) {
        const bool chunked = request_.getChunkedTransferEncoding();
        if (!chunked && !request_.hasContentLength()) return BodyStatus::LengthRequired;
        std::size_t expected = 0;
        if (!chunked) {
            const auto length = request_.getContentLength64();
            if (length < 0) return BodyStatus::Truncated;
            if (static_cast<std::uint64_t>(length) > config_.max_body) {
                content_length_ = static_cast<std::size_t>(
                    std::min<std::uint64_t>(static_cast<std::uint64_t>(length), SIZE_MAX));
                return BodyStatus::TooLarge;
            }
            expected = static_cast<std::size_t>(length);
            body.reserve(expected);
        }
        std::istream& in = request_.stream();
        in.exceptions(std::ios::badbit);  // let POCO's TimeoutException through
        char buffer[16384];
        try {
            while (chunked || body.size() < expected) {
                if (!arm_timeout()) return BodyStatus::Timeout;
                // One blocking read (one recv at most), then whatever is already buffered.
                in.read(buffer, 1);
                if (in.gcount() == 0) break;  // end of body or connection closed
                body.push_back(buffer[0]);
                const std::streamsize more = in.readsome(buffer, sizeof buffer);
                body.append(buffer, static_cast<std::size_t>(std::max<std::streamsize>(more, 0)));
                if (body.size() > config_.max_body) return BodyStatus::TooLarge;
            }
        } catch (const Poco::TimeoutException&) {
            return BodyStatus::Timeout;
        }
        if (!chunked && body.size() != expected) return BodyStatus::Truncated;
        return BodyStatus::Ok;
    }

    // Reads and discards the rest of an oversized body (bounded), see kMaxDrainBytes.
    void drain() {
        if (request_.getChunkedTransferEncoding() || content_length_ > kMaxDrainBytes) return;
        std::istream& in = request_.stream();
        char buffer[16384];
        try {
            std::size_t left = content_length_;
            while (left > 0 && arm_timeout()) {
                in.read(buffer, static_cast<std::streamsize>(std::min(left, sizeof buffer)));
                if (in.gcount() <= 0) break;
                left -= static_cast<std::size_t>(in.gcount());
            }
        } catch (const std::exception&) {
            // The client went away or stalled: closing is all that is left to do.
        }
    }

  private:
    // Shortens the socket's read timeout as the deadline nears; false once it has passed.
    bool arm_timeout() {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
        if (left.count() <= 0) return false;
        if (left < config_.read_timeout) {
            if (Poco::Net::StreamSocket* s = socket()) {
                s->setReceiveTimeout(to_timespan(left));
                shortened_ = true;
            }
        }
        return true;
    }

    Poco::Net::StreamSocket* socket() {
        auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request_);
        return impl ? &impl->socket() : nullptr;
    }

    HTTPServerRequest& request_;
    const HttpServerConfig& config_;
    Clock::time_point deadline_;
    std::size_t content_length_ = 0;
    bool shortened_ = false;
};

void send_reply(HTTPServerResponse& response, const HttpReply& reply) {
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(reply.status));
    response.setContentType(reply.content_type);
    for (const auto& [name, value] : reply.headers)
        response.set(name, value);
    if (reply.close) response.setKeepAlive(false);
    response.sendBuffer(reply.body.data(), reply.body.size());
}

class TransportHandler final : public Poco::Net::HTTPRequestHandler {
  public:
    TransportHandler(HttpApplication& application, const HttpServerConfig& config)
        : application_(application), config_(config) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        try {
            if (auto reply = application_.check_head(request)) {
                send_reply(response, *reply);
                return;
            }
            BodyReader reader(request, config_);
            std::string body;
            switch (reader.read(body)) {
                case BodyStatus::Ok:
                    send_reply(response, application_.handle(request, std::move(body)));
                    return;
                case BodyStatus::LengthRequired:
                    refuse(response, TransportRefusal::LengthRequired, 411,
                           "a request body needs Content-Length or chunked encoding");
                    return;
                case BodyStatus::TooLarge:
                    refuse(response, TransportRefusal::TooLarge, 413,
                           "request body larger than " + std::to_string(config_.max_body) +
                               " bytes (--max-body)");
                    reader.drain();
                    return;
                case BodyStatus::Timeout:
                    refuse(response, TransportRefusal::Timeout, 408,
                           "request body not received in time");
                    return;
                case BodyStatus::Truncated:
                    refuse(response, TransportRefusal::Truncated, 400,
                           "request body shorter than its Content-Length");
                    return;
            }
        } catch (const Poco::Net::NetException&) {
            // The connection broke mid-request: nobody is left to answer.
            response.setKeepAlive(false);
        } catch (const std::exception& e) {
            log_line(LogLevel::Error, std::string("request failed: ") + e.what());
            if (!response.sent()) {
                try {
                    send_reply(response, HttpReply::error(500, "internal error"));
                } catch (...) {
                }
            }
            response.setKeepAlive(false);
        }
    }

  private:
    void refuse(HTTPServerResponse& response, TransportRefusal refusal, int status,
                std::string reason) {
        application_.on_refusal(refusal);
        HttpReply reply = HttpReply::error(status, std::move(reason));
        reply.close = true;  // the rest of the body is unread: the connection is out of sync
        try {
            send_reply(response, reply);
        } catch (const Poco::Exception&) {
        }
    }

    HttpApplication& application_;
    const HttpServerConfig& config_;
};

class TransportHandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    TransportHandlerFactory(HttpApplication& application, HttpServerConfig config)
        : application_(application), config_(std::move(config)) {}

    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new TransportHandler(application_, config_);
    }

  private:
    HttpApplication& application_;
    const HttpServerConfig config_;
};

// POCO reports what goes wrong outside a handler (a client that never finishes its request
// line, a failed TLS handshake) to the global ErrorHandler.
class TransportErrorHandler final : public Poco::ErrorHandler {
  public:
    void exception(const Poco::Exception& e) override {
        if (dynamic_cast<const Poco::TimeoutException*>(&e)) {
            if (application_) application_.load()->on_refusal(TransportRefusal::Timeout);
            log_line(LogLevel::Debug, "connection closed: client too slow");
        } else if (dynamic_cast<const Poco::Net::NetException*>(&e) ||
                   dynamic_cast<const Poco::IOException*>(&e)) {
            log_line(LogLevel::Debug, "connection closed: " + e.displayText());
        } else {
            log_line(LogLevel::Warning, "connection error: " + e.displayText());
        }
    }
    void exception(const std::exception& e) override {
        log_line(LogLevel::Warning, std::string("connection error: ") + e.what());
    }
    void exception() override { log_line(LogLevel::Warning, "connection error: unknown"); }

    std::atomic<HttpApplication*> application_{nullptr};
};

TransportErrorHandler g_error_handler;

}  // namespace

HttpReply HttpReply::error(int status, std::string reason) {
    HttpReply reply;
    reply.status = status;
    reply.content_type = "text/plain; charset=utf-8";
    for (char& c : reason) {
        if (c == '\r' || c == '\n') c = ' ';
    }
    reply.body = std::move(reason);
    reply.body += '\n';
    return reply;
}

HttpServer::HttpServer(const HttpServerConfig& config, HttpApplication& application) {
    const Poco::Net::SocketAddress address(config.host, config.port);
    Poco::Net::ServerSocket socket;
    if (!config.tls_cert_file.empty() || !config.tls_key_file.empty()) {
        Poco::Net::Context::Params params;
        params.certificateFile = config.tls_cert_file;
        params.privateKeyFile = config.tls_key_file;
        params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // clients are not asked for
        params.loadDefaultCAs = false;                              // certificates
        params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!CAMELLIA:!ARIA:!SHA1";
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
        context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
        context->preferServerCiphers();
        // Session resumption: a reconnecting hook client skips the full handshake.
        context->enableSessionCache(true, "relaytrust-hookd");
        socket = Poco::Net::SecureServerSocket(address, 128, context);
    } else {
        socket = Poco::Net::ServerSocket(address, 128);
    }
    port_ = socket.address().port();

    const int threads = std::max(config.threads, 1);
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(threads, 2), threads, 60);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);  // unlimited
    params->setKeepAliveTimeout(to_timespan(config.idle_timeout));
    params->setTimeout(to_timespan(config.read_timeout));
    params->setMaxThreads(threads);
    params->setMaxQueued(std::max(config.max_queued, 1));
    params->setSoftwareVersion(config.server_name);

    g_error_handler.application_ = &application;
    Poco::ErrorHandler::set(&g_error_handler);
    server_ = std::make_unique<Poco::Net::HTTPServer>(
        new TransportHandlerFactory(application, config), *pool_, socket, params);
}

HttpServer::~HttpServer() {
    stop();
    server_.reset();
    if (pool_) pool_->joinAll();
    g_error_handler.application_ = nullptr;
}

void HttpServer::start() {
    server_->start();
    running_ = true;
}

void HttpServer::stop() {
    if (!running_) return;
    running_ = false;
    server_->stopAll(false);
}

}  // namespace relaytrust::hookd
