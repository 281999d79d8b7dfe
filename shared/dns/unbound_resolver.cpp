#include "dns/unbound_resolver.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dns/answer_cache.h"
#include "dns/names.h"
#include "dns/rdata.h"
#include "net/network_set.h"

namespace relaytrust::dns {

namespace {

using Clock = std::chrono::steady_clock;

Answer failed(Status status, std::string error) {
    Answer answer;
    answer.status = status;
    answer.error = std::move(error);
    return answer;
}

bool is_ip_text(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex && c != '.' && c != ':') return false;
    }
    return net::IpAddress::parse(text).has_value();
}

}  // namespace

std::optional<std::string> unbound_forwarder_address(std::string_view host_port,
                                                     std::string* error) {
    auto invalid = [&](std::string why) -> std::optional<std::string> {
        if (error) *error = "'" + std::string(host_port) + "' is not IP[:PORT]: " + why;
        return std::nullopt;
    };
    std::string_view host = host_port;
    std::string_view port;
    if (host.starts_with('[')) {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) return invalid("missing ']'");
        const std::string_view after = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) return invalid("expected ':' after ']'");
            port = after.substr(1);
            if (port.empty()) return invalid("empty port");
        }
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
        const std::size_t colon = host.find(':');
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
        if (port.empty()) return invalid("empty port");
    }
    if (!is_ip_text(host)) return invalid("the host must be an IP address");
    std::string address = net::IpAddress::parse(host)->to_string();
    if (!port.empty()) {
        if (port.size() > 5 ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return invalid("bad port");
        const unsigned long number = std::stoul(std::string(port));
        if (number == 0 || number > 65535) return invalid("port out of range");
        address += "@" + std::to_string(number);
    }
    return address;
}

std::string unbound_query_name(std::string_view name) {
    if (name.ends_with('.')) name.remove_suffix(1);
    std::string text;
    text.reserve(name.size() + 8);
    for (const char c : name) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (plain) {
            text += c;
        } else {
            char escaped[5];
            std::snprintf(escaped, sizeof escaped, "\\%03u",
                          unsigned(static_cast<unsigned char>(c)));
            text += escaped;
        }
    }
    return text;
}

struct UnboundResolver::Impl {
    struct Pending {
        Callback callback;
        Clock::time_point deadline;
        int async_id = -1;  // -1 until ub_resolve_async has returned it
        std::string name;   // as asked, for the answer cache
        RecordType type = RecordType::A;
    };

    explicit Impl(std::size_t cache_entries) : cache(AnswerCache::Limits{cache_entries}) {}

    ub_ctx* context = nullptr;
    AnswerCache cache;
    int wake_fd = -1;
    std::chrono::milliseconds timeout{};

    std::mutex mutex;
    std::unordered_map<std::uint64_t, Pending> pending;
    std::uint64_t next_token = 1;
    bool stopping = false;
    std::thread service;

    // Service thread only: answers collected while libunbound's callbacks run, delivered after
    // ub_process() returns so user code never runs inside libunbound.
    std::vector<std::pair<Callback, Answer>> ready;

    // libunbound's callback has only the token as context; ub_process() runs on the service
    // thread, which points this at its instance for the duration of the call.
    static thread_local Impl* processing;

    ~Impl() {
        if (context) ub_ctx_delete(context);
        if (wake_fd >= 0) ::close(wake_fd);
    }

    void wake() const {
        const std::uint64_t one = 1;
        // eventfd writes only fail when the counter would overflow; it is drained every wakeup.
        [[maybe_unused]] const ssize_t written = ::write(wake_fd, &one, sizeof one);
    }

    static Answer convert(int error, ub_result* result) {
        if (error != 0)
            return failed(Status::Error, std::string("libunbound: ") + ub_strerror(error));
        if (!result) return failed(Status::Error, "libunbound returned no result");
        if (result->bogus)
            return failed(Status::ServFail, std::string("DNSSEC validation failed: ") +
                                                (result->why_bogus ? result->why_bogus : "bogus"));
        std::vector<RdataBytes> records;
        for (int i = 0; result->data && result->data[i]; ++i) {
            records.emplace_back(reinterpret_cast<const std::uint8_t*>(result->data[i]),
                                 std::size_t(result->len[i]));
        }
        return answer_from_rdata(RecordType(result->qtype), result->rcode, records);
    }

    static void on_result(void* token_pointer, int error, ub_result* result) {
        Answer answer = convert(error, result);
        // Bogus answers are failures (not cached); their TTL is not to be trusted either.
        const std::chrono::seconds ttl(result && !result->bogus ? result->ttl : 0);
        if (result) ub_resolve_free(result);
        Impl* self = processing;
        if (!self) return;
        const auto token = std::uint64_t(reinterpret_cast<std::uintptr_t>(token_pointer));
        Pending answered;
        {
            std::lock_guard lock(self->mutex);
            const auto found = self->pending.find(token);
            if (found == self->pending.end()) return;  // already answered with Timeout
            answered = std::move(found->second);
            self->pending.erase(found);
        }
        self->cache.store(answered.name, answered.type, answer, ttl);
        self->ready.emplace_back(std::move(answered.callback), std::move(answer));
    }

    void deliver_ready() {
        std::vector<std::pair<Callback, Answer>> batch;
        batch.swap(ready);
        for (auto& [callback, answer] : batch)
            callback(std::move(answer));
    }

    void service_loop() {
        const int result_fd = ub_fd(context);
        while (true) {
            int wait_ms = -1;
            std::vector<int> to_cancel;
            {
                std::lock_guard lock(mutex);
                if (stopping) return;
                const auto now = Clock::now();
                auto next_deadline = Clock::time_point::max();
                for (auto it = pending.begin(); it != pending.end();) {
                    if (it->second.deadline <= now) {
                        if (it->second.async_id >= 0) to_cancel.push_back(it->second.async_id);
                        ready.emplace_back(
                            std::move(it->second.callback),
                            failed(Status::Timeout,
                                   "no answer within " + std::to_string(timeout.count()) + " ms"));
                        it = pending.erase(it);
                    } else {
                        next_deadline = std::min(next_deadline, it->second.deadline);
                        ++it;
                    }
                }
                if (next_deadline != Clock::time_point::max()) {
                    const auto remaining =
                        std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now);
                    wait_ms = int(std::max<std::int64_t>(1, remaining.count()));
                }
            }
            for (const int async_id : to_cancel)
                ub_cancel(context, async_id);
            deliver_ready();

            pollfd descriptors[2] = {{result_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
            const int ready_count = ::poll(descriptors, 2, wait_ms);
            if (ready_count < 0 && errno != EINTR) {
                // poll() on two valid descriptors does not fail in practice; back off rather
                // than spin if it ever does.
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                continue;
            }
            if (descriptors[1].revents & POLLIN) {
                std::uint64_t count = 0;
                [[maybe_unused]] const ssize_t got = ::read(wake_fd, &count, sizeof count);
            }
            if (descriptors[0].revents & POLLIN) {
                processing = this;
                ub_process(context);
                processing = nullptr;
                deliver_ready();
            }
        }
    }
};

thread_local UnboundResolver::Impl* UnboundResolver::Impl::processing = nullptr;

UnboundResolver::UnboundResolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<UnboundResolver> UnboundResolver::create(const UnboundOptions& options,
                                                         std::string* error) {
    auto fail = [&](std::string why) -> std::unique_ptr<UnboundResolver> {
        if (error) *error = std::move(why);
        return nullptr;
    };
    auto impl = std::make_unique<Impl>(options.answer_cache_entries);
    impl->timeout = options.timeout;
    impl->context = ub_ctx_create();
    if (!impl->context) return fail("libunbound: cannot create a context");
    auto set = [&](const char* option, const std::string& value) -> std::string {
        const int rc = ub_ctx_set_option(impl->context, option, value.c_str());
        return rc == 0 ? ""
                       : std::string("libunbound option ") + option + " " + value + ": " +
                             ub_strerror(rc);
    };
    if (int rc = ub_ctx_async(impl->context, 1); rc != 0)
        return fail(std::string("libunbound: ub_ctx_async: ") + ub_strerror(rc));
    // Test servers and local caches (systemd-resolved, a local unbound) live on 127.0.0.0/8.
    for (const auto& [option, value] :
         {std::pair<const char*, std::string>{"do-not-query-localhost:", "no"},
          {"msg-cache-size:", std::to_string(options.cache_bytes)},
          {"rrset-cache-size:", std::to_string(options.cache_bytes * 2)}}) {
        if (std::string problem = set(option, value); !problem.empty()) return fail(problem);
    }
    if (!options.forwarder.empty()) {
        std::string why;
        const auto address = unbound_forwarder_address(options.forwarder, &why);
        if (!address) return fail(why);
        if (int rc = ub_ctx_set_fwd(impl->context, address->c_str()); rc != 0)
            return fail("libunbound: forwarder " + *address + ": " + ub_strerror(rc));
    } else if (int rc = ub_ctx_resolvconf(impl->context, options.resolv_conf.c_str()); rc != 0) {
        return fail("libunbound: cannot use " + options.resolv_conf + ": " + ub_strerror(rc));
    }
    impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (impl->wake_fd < 0) return fail("eventfd failed");
    Impl* raw = impl.get();
    raw->service = std::thread([raw] { raw->service_loop(); });
    return std::unique_ptr<UnboundResolver>(new UnboundResolver(std::move(impl)));
}

UnboundResolver::~UnboundResolver() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake();
    if (impl_->service.joinable()) impl_->service.join();
    std::unordered_map<std::uint64_t, Impl::Pending> leftovers;
    {
        std::lock_guard lock(impl_->mutex);
        leftovers.swap(impl_->pending);
    }
    for (auto& [token, pending] : leftovers) {
        if (pending.async_id >= 0) ub_cancel(impl_->context, pending.async_id);
        pending.callback(failed(Status::Error, "resolver shut down"));
    }
    // Answers already taken off libunbound but not yet delivered.
    impl_->deliver_ready();
}

void UnboundResolver::lookup(std::string_view name, RecordType type, Callback callback) {
    if (!is_queryable_name(name)) {
        callback(failed(Status::Error, "not a valid DNS name"));
        return;
    }
    if (std::optional<Answer> known = impl_->cache.find(name, type)) {
        callback(std::move(*known));
        return;
    }
    const std::string query_name = unbound_query_name(name);
    std::uint64_t token = 0;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopping) {
            callback(failed(Status::Error, "resolver shut down"));
            return;
        }
        token = impl_->next_token++;
        impl_->pending.emplace(token,
                               Impl::Pending{std::move(callback), Clock::now() + impl_->timeout, -1,
                                             std::string(name), type});
    }
    int async_id = -1;
    const int rc = ub_resolve_async(impl_->context, query_name.c_str(), int(type), 1 /* IN */,
                                    reinterpret_cast<void*>(std::uintptr_t(token)),
                                    &Impl::on_result, &async_id);
    if (rc != 0) {
        Callback taken;
        {
            std::lock_guard lock(impl_->mutex);
            const auto found = impl_->pending.find(token);
            if (found != impl_->pending.end()) {
                taken = std::move(found->second.callback);
                impl_->pending.erase(found);
            }
        }
        if (taken) taken(failed(Status::Error, std::string("libunbound: ") + ub_strerror(rc)));
        return;
    }
    bool already_answered = false;
    {
        std::lock_guard lock(impl_->mutex);
        const auto found = impl_->pending.find(token);
        if (found != impl_->pending.end()) {
            found->second.async_id = async_id;
        } else {
            already_answered = true;
        }
    }
    // Timed out before the id was known (or answered already, where this is a no-op): make
    // sure libunbound drops it.
    if (already_answered) ub_cancel(impl_->context, async_id);
    impl_->wake();  // the service thread recomputes its next deadline
}

}  // namespace relaytrust::dns
