// Production resolver on libunbound: caching (shared by every lookup through one instance),
// upstream either a forwarder given as HOST:PORT (policy / `--dns`) or the nameservers of
// /etc/resolv.conf, and a hard per-lookup deadline enforced here, not by libunbound's own
// retry logic: a lookup that has no answer when its time is up is cancelled (ub_cancel) and
// its callback gets Status::Timeout. A lookup therefore never hangs.
//
// Threading: one service thread per instance waits on libunbound's result pipe (ub_fd) and on
// the earliest deadline, and runs the callbacks — keep them short; lookup_sync() or handing
// work to another thread is the way to do more. An answer still within its TTL from an earlier
// lookup is given inline, on the calling thread (dns/answer_cache.h). libunbound resolves in its
// own background thread (ub_ctx_async(ctx, 1)), never a forked process: forking inside a milter is
// unsafe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dns/resolver.h"

namespace relaytrust::dns {

struct UnboundOptions {
    // "HOST:PORT", "HOST" (port 53) or "[IPv6]:PORT"; HOST is an IP address. Empty: use the
    // nameservers listed in `resolv_conf`.
    std::string forwarder;
    std::string resolv_conf = "/etc/resolv.conf";
    // Per lookup, from lookup() to the callback. RFC 7208 §4.6.4 wants at least 20 s for a
    // whole SPF evaluation; a few seconds per query keeps a dead server from eating it all.
    std::chrono::milliseconds timeout{5000};
    // libunbound's message cache; its RRset cache gets twice as much.
    std::size_t cache_bytes = 4u << 20;
    // Answers repeated within their TTL come from this many entries, on the calling thread
    // (dns/answer_cache.h); 0 sends every lookup through libunbound.
    std::size_t answer_cache_entries = 10000;
};

// "127.0.0.1:5353" → "127.0.0.1@5353" (libunbound's forwarder syntax), "[::1]:53" → "::1@53",
// "192.0.2.1" → "192.0.2.1". nullopt (and *error set) for anything that is not IP[:port].
std::optional<std::string> unbound_forwarder_address(std::string_view host_port,
                                                     std::string* error = nullptr);

// A name in DNS presentation format for ub_resolve: labels kept, every octet that is not a
// letter, digit, '-' or '_' written as \DDD, so SPF macro output ("a b%c") is asked literally.
std::string unbound_query_name(std::string_view name);

class UnboundResolver final : public Resolver {
  public:
    // nullptr (and *error set) when libunbound rejects the configuration or the forwarder.
    static std::unique_ptr<UnboundResolver> create(const UnboundOptions& options,
                                                   std::string* error = nullptr);
    // Lookups still pending get Status::Error ("resolver shut down"), on the calling thread.
    ~UnboundResolver() override;
    UnboundResolver(const UnboundResolver&) = delete;
    UnboundResolver& operator=(const UnboundResolver&) = delete;

    // An invalid name (see is_queryable_name) is answered inline with Status::Error.
    void lookup(std::string_view name, RecordType type, Callback callback) override;

    struct Impl;

  private:
    explicit UnboundResolver(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace relaytrust::dns
