#include "policy_store.h"

#include <fstream>
#include <sstream>

#include "dns/zone_resolver.h"
#include "dns/zone_yaml.h"

namespace relaytrust::hookd {

std::shared_ptr<AuthServices> PolicyStore::make_auth_services(const Policy& policy,
                                                              std::string& error) const {
    // A data-stage request brings the whole message: the request thread collects SPF at once,
    // so it runs SPF itself (see SpfPlacement).
    if (dns_zone_file_.empty()) {
        std::shared_ptr<AuthServices> services =
            AuthServices::create(policy.auth, dns_forwarder_, &error, SpfPlacement::WhenCollected);
        if (!services) error = "cannot start the DNS resolver for sender authentication: " + error;
        return services;
    }
    std::ifstream in(dns_zone_file_, std::ios::binary);
    if (!in) {
        error = dns_zone_file_ + ": cannot read";
        return nullptr;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const dns::yaml::Stream stream = dns::yaml::parse_stream(text.str());
    if (!stream.ok() || stream.documents.empty()) {
        error = dns_zone_file_ + ": " + (stream.ok() ? std::string("empty") : stream.error);
        return nullptr;
    }
    auto zone = std::make_shared<dns::ZoneResolver>();
    if (std::string e = zone->load_openspf_zonedata(stream.documents.front()); !e.empty()) {
        error = dns_zone_file_ + ": " + e;
        return nullptr;
    }
    return std::make_shared<AuthServices>(std::move(zone), policy.auth,
                                          SpfPlacement::WhenCollected);
}

std::string PolicyStore::load() {
    // Parse outside the lock: requests keep running on the old policy meanwhile.
    PolicyLoadResult result =
        policy_file_.empty() ? load_default_policy() : load_policy_file(policy_file_);
    if (!result.ok()) {
        std::string text = result.error_text();
        return text.empty() ? "policy failed to load" : text;
    }
    // The DNS settings live in the policy, so each policy gets its own services.
    std::string error;
    std::shared_ptr<AuthServices> auth = make_auth_services(*result.policy, error);
    if (!auth) return error;
    std::lock_guard lock(mutex_);
    current_ = {std::move(result.policy), std::move(auth)};
    generation_.fetch_add(1, std::memory_order_release);
    return "";
}

PolicySnapshot PolicyStore::for_this_thread(bool with_auth) const {
    struct ThreadCopy {
        std::uint64_t store = 0;
        std::uint64_t generation = 0;
        std::shared_ptr<const Policy> policy;
        std::weak_ptr<AuthServices> auth;  // does not keep a replaced resolver running
    };
    thread_local ThreadCopy copy;
    const auto fresh = [&] {
        return copy.store == id_ && copy.generation == generation_.load(std::memory_order_acquire);
    };
    std::shared_ptr<AuthServices> auth;
    if (fresh() && with_auth) auth = copy.auth.lock();
    // A stale copy, or services a reload has replaced meanwhile: take both afresh, together.
    if (!fresh() || (with_auth && !auth)) {
        std::lock_guard lock(mutex_);
        copy.policy = current_.policy;
        copy.auth = current_.auth;
        copy.generation = generation_.load(std::memory_order_relaxed);
        copy.store = id_;
        if (with_auth) auth = current_.auth;
    }
    PolicySnapshot snapshot;
    // The aliasing constructor with an empty owner: points at the policy, counts nothing.
    snapshot.policy =
        std::shared_ptr<const Policy>(std::shared_ptr<const Policy>(), copy.policy.get());
    snapshot.auth = std::move(auth);
    return snapshot;
}

}  // namespace relaytrust::hookd
