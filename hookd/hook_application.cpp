#include "hook_application.h"

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPServerRequest.h>

#include <chrono>

#include "hook_request.h"
#include "hook_response.h"
#include "log.h"

namespace relaytrust::hookd {

namespace {

std::string_view path_of(const std::string& uri) {
    std::string_view path(uri);
    if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
    return path;
}

std::string describe(const HookRequest& request, const StageOutcome& outcome) {
    std::string text = "stage=" + std::string(hook_stage_name(request.stage));
    text += " listener=" + (outcome.listener.empty() ? std::string("none") : outcome.listener);
    text += " client=" + request.client.ip;
    if (request.queue_id) text += " queue=" + *request.queue_id;
    text += " action=" + std::string(action_name(outcome.verdict.action));
    if (!outcome.verdict.rule.empty()) text += " rule=" + outcome.verdict.rule;
    if (outcome.response.reply) {
        text += " reply=\"" + std::to_string(outcome.response.reply->status) + " " +
                outcome.response.reply->enhanced_status + " " + outcome.response.reply->message +
                "\"";
    }
    for (const auto& reason : outcome.verdict.reasons)
        text += "; " + reason;
    return text;
}

}  // namespace

bool HookApplication::is_hook_path(std::string_view path) const {
    if (path == "/" || path == "/hook") return true;
    const auto policy = policies_.for_this_thread(false).policy;
    if (!policy) return false;
    for (const auto& listener : policy->listeners) {
        for (const auto& p : listener.match.hook_paths) {
            if (p == path) return true;
        }
    }
    return false;
}

HttpReply HookApplication::refuse(int status, ErrorKind kind, std::string reason) {
    metrics_.count_error(kind);
    log_line(LogLevel::Debug, std::to_string(status) + ": " + reason);
    return HttpReply::error(status, std::move(reason));
}

std::optional<HttpReply> HookApplication::check_head(const Poco::Net::HTTPServerRequest& request) {
    using Poco::Net::HTTPRequest;
    const std::string_view path = path_of(request.getURI());
    const std::string& method = request.getMethod();
    const bool is_get = method == HTTPRequest::HTTP_GET || method == HTTPRequest::HTTP_HEAD;

    if (path == "/healthz") {
        if (!is_get) {
            HttpReply reply = refuse(405, ErrorKind::MethodNotAllowed, "use GET for /healthz");
            reply.headers.emplace_back("Allow", "GET, HEAD");
            return reply;
        }
        HttpReply reply;
        reply.content_type = "text/plain; charset=utf-8";
        if (policies_.generation() == 0) {
            reply.status = 503;
            reply.body = "no policy loaded\n";
        } else {
            reply.body = "ok\n";
        }
        return reply;
    }

    const bool metrics = path == "/metrics";
    const bool hook = !metrics && is_hook_path(path);
    if (!metrics && !hook) return refuse(404, ErrorKind::NotFound, "no such endpoint");
    if (metrics && !is_get) {
        HttpReply reply = refuse(405, ErrorKind::MethodNotAllowed, "use GET for /metrics");
        reply.headers.emplace_back("Allow", "GET, HEAD");
        return reply;
    }
    if (hook && method != HTTPRequest::HTTP_POST) {
        HttpReply reply = refuse(405, ErrorKind::MethodNotAllowed, "hook requests are POST");
        reply.headers.emplace_back("Allow", "POST");
        return reply;
    }

    if (!authenticator_.check(request.get("Authorization", ""))) {
        HttpReply reply =
            refuse(401, ErrorKind::Unauthorized,
                   request.has("Authorization") ? "wrong credentials" : "authorization required");
        reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"relaytrust-hookd\"");
        return reply;
    }

    if (metrics) {
        metrics_.set_policy_generation(policies_.generation());
        HttpReply reply;
        reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
        reply.body = metrics_.render();
        return reply;
    }
    return std::nullopt;  // a hook request: read the body
}

HttpReply HookApplication::handle(const Poco::Net::HTTPServerRequest& request, std::string body) {
    return answer_hook(path_of(request.getURI()), body);
}

HttpReply HookApplication::answer_hook(std::string_view path, std::string_view body) {
    const auto started = std::chrono::steady_clock::now();
    // The request lives only in this call, inside body's lifetime: the message body need not
    // be copied out of it.
    HookRequestDecodeResult decoded = decode_hook_request(body, ContentsMode::View);
    if (!decoded.request) return refuse(400, ErrorKind::BadRequest, std::move(decoded.error));
    HookRequest& request = *decoded.request;

    // "/" and "/hook" carry no listener: the engine then matches server.ip/port.
    const std::string_view hook_path = path == "/" || path == "/hook" ? std::string_view{} : path;
    StageOutcome outcome = handler_.handle_taking_strings(request, hook_path);

    HttpReply reply;
    reply.body = encode_hook_response(outcome.response);
    metrics_.count_request(request.stage, outcome.verdict.action,
                           std::chrono::steady_clock::now() - started);
    if (outcome.engine_error) {
        metrics_.count_error(ErrorKind::Engine);
        log_line(LogLevel::Warning,
                 "engine failure, on_error verdict sent: " + describe(request, outcome));
    } else if (outcome.verdict.action != Action::Accept) {
        log_line(LogLevel::Info, describe(request, outcome));
    } else if (log_enabled(LogLevel::Debug)) {
        log_line(LogLevel::Debug, describe(request, outcome));
    }
    return reply;
}

void HookApplication::on_refusal(TransportRefusal refusal) {
    switch (refusal) {
        case TransportRefusal::LengthRequired:
        case TransportRefusal::Truncated:
            metrics_.count_error(ErrorKind::BadRequest);
            break;
        case TransportRefusal::TooLarge:
            metrics_.count_error(ErrorKind::TooLarge);
            // Stalwart answers this message with its tempFailOnError rule: worth seeing.
            log_line(LogLevel::Warning, "413: request body over --max-body");
            break;
        case TransportRefusal::Timeout:
            metrics_.count_error(ErrorKind::Timeout);
            log_line(LogLevel::Info, "timeout: client too slow, connection closed");
            break;
    }
}

}  // namespace relaytrust::hookd
