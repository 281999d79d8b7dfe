// The HTTP face of relaytrust-hookd: routes, auth, and the hook endpoint.
//
//   POST /            hook request, listener picked by server.ip/port, then the default
//   POST /hook        same
//   POST <hook_path>  hook request for the listener whose match.hook_path it is
//   GET  /healthz     "ok" once a policy is loaded (no auth: for liveness probes)
//   GET  /metrics     Prometheus text (auth like the hook endpoints)
//
// Anything else is 404, a known path with the wrong method 405. Errors are one text line.
#pragma once

#include <string>

#include "auth.h"
#include "http_server.h"
#include "metrics.h"
#include "policy_store.h"
#include "stage_handler.h"

namespace relaytrust::hookd {

class HookApplication final : public HttpApplication {
  public:
    HookApplication(PolicyStore& policies, const Authenticator& authenticator, Metrics& metrics)
        : policies_(policies),
          authenticator_(authenticator),
          metrics_(metrics),
          handler_(policies) {}

    std::optional<HttpReply> check_head(const Poco::Net::HTTPServerRequest& request) override;
    HttpReply handle(const Poco::Net::HTTPServerRequest& request, std::string body) override;
    void on_refusal(TransportRefusal refusal) override;

    // The hook endpoint without HTTP: decodes, decides, encodes. path: the URL path.
    HttpReply answer_hook(std::string_view path, std::string_view body);

  private:
    bool is_hook_path(std::string_view path) const;
    HttpReply refuse(int status, ErrorKind kind, std::string reason);

    PolicyStore& policies_;
    const Authenticator& authenticator_;
    Metrics& metrics_;
    StageHandler handler_;
};

}  // namespace relaytrust::hookd
