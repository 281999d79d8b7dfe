// The benchmark's baseline: relaytrust-hookd's HTTP transport (same POCO server, thread pool,
// keep-alive and body reading) answering every POST with a constant {"action":"accept"}
// without decoding it or asking the engine. hookd's throughput divided by this one's is the
// price of decoding, deciding and encoding.
//
//   relaytrust-hookd-constant [--listen HOST:PORT] [--threads N] [--decode]
//
// --decode: also decode every request with hookd's own decoder (decode_hook_request) before
// the constant answer: the cost of only reading the request, no engine, as a second reference.
#include <signal.h>

#include <Poco/Net/HTTPServerRequest.h>

#include <iostream>
#include <string>

#include "hook_request.h"
#include "http_server.h"
#include "log.h"
#include "options.h"

namespace {

using namespace relaytrust::hookd;

class ConstantApplication final : public HttpApplication {
  public:
    explicit ConstantApplication(bool decode) : decode_(decode) {}

    std::optional<HttpReply> check_head(const Poco::Net::HTTPServerRequest& request) override {
        if (request.getMethod() == "POST") return std::nullopt;  // read the body like hookd
        return HttpReply::error(405, "POST only");
    }
    HttpReply handle(const Poco::Net::HTTPServerRequest&, std::string body) override {
        if (decode_) {
            HookRequestDecodeResult decoded = decode_hook_request(body, ContentsMode::View);
            if (!decoded.request) return HttpReply::error(400, std::move(decoded.error));
        }
        HttpReply reply;
        reply.body = R"({"action":"accept"})";
        return reply;
    }

  private:
    bool decode_;
};

}  // namespace

int main(int argc, char** argv) {
    HttpServerConfig config;  // hookd's defaults
    std::string listen = "127.0.0.1:8687";
    bool decode = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--listen" && i + 1 < argc) {
            listen = argv[++i];
        } else if (arg == "--decode") {
            decode = true;
        } else if (arg == "--threads" && i + 1 < argc) {
            config.threads = std::stoi(argv[++i]);
        } else {
            std::cerr << "usage: relaytrust-hookd-constant [--listen HOST:PORT] [--threads N] "
                         "[--decode]\n";
            return 1;
        }
    }
    if (!parse_listen(listen, config.host, config.port)) {
        std::cerr << "relaytrust-hookd-constant: bad --listen '" << listen << "'\n";
        return 1;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    ConstantApplication application(decode);
    HttpServer server(config, application);
    server.start();
    log_line(LogLevel::Info,
             "constant server listening on " + config.host + ":" + std::to_string(server.port()));
    int signal = 0;
    sigwait(&signals, &signal);
    server.stop();
    return 0;
}
