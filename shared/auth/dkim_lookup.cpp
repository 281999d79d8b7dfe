#include "auth/dkim_lookup.h"

namespace relaytrust::auth {

std::shared_ptr<PendingLookup> PendingLookup::start(dns::Resolver& resolver, std::string name,
                                                    dns::RecordType type) {
    auto lookup = std::make_shared<PendingLookup>(std::move(name), type);
    // The callback may run inline (cached answers) or later on a resolver thread.
    resolver.lookup(lookup->name_, type,
                    [lookup](dns::Answer answer) { lookup->deliver(std::move(answer)); });
    return lookup;
}

void PendingLookup::deliver(dns::Answer answer) {
    {
        const std::lock_guard lock(mutex_);
        if (answer_) return;  // already settled by a deadline
        answer_ = std::move(answer);
    }
    arrived_.notify_all();
}

dns::Answer PendingLookup::wait_until(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_until(lock, deadline, [this] { return answer_.has_value(); })) {
        dns::Answer timeout;
        timeout.status = dns::Status::Timeout;
        timeout.error = "no answer for " + name_ + " before the deadline";
        answer_ = std::move(timeout);
    }
    return *answer_;
}

bool PendingLookup::ready() const {
    const std::lock_guard lock(mutex_);
    return answer_.has_value();
}

bool PendingLookup::answered_without_records() const {
    const std::lock_guard lock(mutex_);
    return answer_ && (!answer_->ok() || answer_->texts.empty());
}

}  // namespace relaytrust::auth
