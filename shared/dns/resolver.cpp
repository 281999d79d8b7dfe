#include "dns/resolver.h"

#include <future>
#include <memory>
#include <utility>

namespace relaytrust::dns {

std::string_view status_name(Status status) {
    switch (status) {
        case Status::Ok:
            return "ok";
        case Status::NxDomain:
            return "nxdomain";
        case Status::ServFail:
            return "servfail";
        case Status::Timeout:
            return "timeout";
        case Status::Error:
            return "error";
    }
    return "unknown";
}

bool Answer::is_void() const {
    if (status == Status::NxDomain) return true;
    return status == Status::Ok && texts.empty() && addresses.empty() && mx.empty() &&
           names.empty();
}

Answer Resolver::lookup_sync(std::string_view name, RecordType type) {
    // The promise is shared with the callback so a resolver that answers late (after this
    // thread was interrupted by an exception) never writes into a destroyed object.
    auto promise = std::make_shared<std::promise<Answer>>();
    std::future<Answer> answer = promise->get_future();
    lookup(name, type, [promise](Answer result) { promise->set_value(std::move(result)); });
    return answer.get();
}

}  // namespace relaytrust::dns
