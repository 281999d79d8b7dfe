// UnboundResolver against real DNS servers on 127.0.0.1: a throwaway `unbound` (Debian
// package) serving a local zone from a config this test writes, and a UDP socket that never
// answers, to prove that a lookup ends with Status::Timeout instead of hanging. The unbound
// process is stopped by a guard object whatever the outcome (and dies with the test binary,
// PR_SET_PDEATHSIG, should that crash).
#include "dns/unbound_resolver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/spf.h"

using namespace relaytrust;
using dns::RecordType;
using dns::Status;

namespace {

constexpr const char* kUnboundBinary = "/usr/sbin/unbound";

// A UDP port on 127.0.0.1 that is free for both UDP and TCP right now.
int free_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        if (::bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ::close(udp);
            continue;
        }
        socklen_t length = sizeof address;
        ::getsockname(udp, reinterpret_cast<sockaddr*>(&address), &length);
        const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
        const bool tcp_free =
            ::bind(tcp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        ::close(tcp);
        ::close(udp);
        if (tcp_free) return ntohs(address.sin_port);
    }
    return 0;
}

// A minimal DNS query (id 0x1234, RD) for `name` TXT, to see whether the server is up without
// touching the resolver under test (libunbound would remember a dead server).
std::vector<std::uint8_t> probe_query(std::string_view name) {
    std::vector<std::uint8_t> packet{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    while (!name.empty()) {
        const std::size_t dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        packet.push_back(std::uint8_t(label.size()));
        packet.insert(packet.end(), label.begin(), label.end());
        name.remove_prefix(dot == std::string_view::npos ? name.size() : dot + 1);
    }
    packet.insert(packet.end(), {0, 0, 16, 0, 1});
    return packet;
}

bool server_answers(int port) {
    const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(std::uint16_t(port));
    const auto query = probe_query("example.net");
    ::sendto(udp, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&address),
             sizeof address);
    pollfd descriptor{udp, POLLIN, 0};
    bool answered = false;
    if (::poll(&descriptor, 1, 100) == 1) {
        std::uint8_t reply[512];
        answered =
            ::recv(udp, reply, sizeof reply, 0) >= 12 && reply[0] == 0x12 && reply[1] == 0x34;
    }
    ::close(udp);
    return answered;
}

// A running `unbound -d -c <config>`; the destructor stops it and removes its directory.
class UnboundServer {
  public:
    UnboundServer() {
        char pattern[] = "/tmp/relaytrust-unbound-XXXXXX";
        if (!::mkdtemp(pattern)) return;
        directory_ = pattern;
        for (int attempt = 0; attempt < 3 && !running(); ++attempt)
            start();
    }

    ~UnboundServer() {
        stop();
        if (!directory_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(directory_, ignored);
        }
    }

    bool running() const { return pid_ > 0; }
    int port() const { return port_; }
    std::string log() const {
        std::ifstream in(directory_ + "/unbound.log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 100; ++i) {  // up to 2 s for a clean exit
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    std::string directory_;
    int port_ = 0;
    pid_t pid_ = -1;

    void start() {
        port_ = free_port();
        if (port_ == 0) return;
        const std::string config_path = directory_ + "/unbound.conf";
        std::ofstream config(config_path);
        config << "server:\n"
               << "    interface: 127.0.0.1@" << port_ << "\n"
               << "    port: " << port_ << "\n"
               << "    do-daemonize: no\n"
               << "    username: \"\"\n"
               << "    chroot: \"\"\n"
               << "    directory: \"" << directory_ << "\"\n"
               << "    pidfile: \"" << directory_ << "/unbound.pid\"\n"
               << "    use-syslog: no\n"
               << "    logfile: \"\"\n"
               << "    verbosity: 1\n"
               << "    do-ip6: no\n"
               << "    access-control: 127.0.0.0/8 allow\n"
               << "    module-config: \"iterator\"\n"
               << "    auto-trust-anchor-file: \"\"\n"
               << "    trust-anchor-file: \"\"\n"
               << "    local-zone: \"example.net.\" static\n"
               << "    local-data: 'example.net. 300 IN TXT \"v=spf1 ip4:198.51.100.0/28\" \" "
                  "include:_spf.example.net -all\"'\n"
               << "    local-data: '_spf.example.net. 300 IN TXT \"v=spf1 a:mail.example.net "
                  "-all\"'\n"
               << "    local-data: 'mail.example.net. 300 IN A 192.0.2.10'\n"
               << "    local-data: 'mail.example.net. 300 IN AAAA 2001:db8::10'\n"
               << "    local-data: 'example.net. 300 IN MX 10 mail.example.net.'\n"
               << "    local-data: 'example.net. 300 IN MX 20 backup.example.net.'\n"
               << "    local-data: 'a\\032b.example.net. 300 IN TXT \"space in the name\"'\n"
               // libunbound answers RFC 6761 / RFC 6303 names (test., the documentation
               // ranges' reverse zones) itself, so the PTR lives under example.net.
               << "    local-data: 'ptr.example.net. 300 IN PTR Mail.Example.net.'\n"
               // The SOA gives NXDOMAIN and NODATA answers a negative TTL (300 s).
               << "    local-data: 'example.net. 3600 IN SOA ns.example.net. "
                  "hostmaster.example.net. 1 3600 600 86400 300'\n"
               << "    local-data: 'short.example.net. 1 IN TXT \"one second\"'\n"
               << "    local-data: 'zero.example.net. 0 IN TXT \"never cached\"'\n"
               << "    local-zone: \".\" refuse\n"
               << "remote-control:\n"
               << "    control-enable: no\n";
        config.close();

        const std::string log_path = directory_ + "/unbound.log";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (log >= 0) {
                ::dup2(log, STDOUT_FILENO);
                ::dup2(log, STDERR_FILENO);
            }
            ::execl(kUnboundBinary, "unbound", "-d", "-c", config_path.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        if (pid_ < 0) return;
        for (int i = 0; i < 100; ++i) {                       // up to ~10 s on a loaded machine
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {  // died: port taken, bad config
                pid_ = -1;
                return;
            }
            if (server_answers(port_)) return;
        }
        stop();
    }
};

std::unique_ptr<dns::UnboundResolver> resolver_for(int port, std::chrono::milliseconds timeout,
                                                   std::size_t answer_cache_entries = 10000) {
    dns::UnboundOptions options;
    options.forwarder = "127.0.0.1:" + std::to_string(port);
    options.timeout = timeout;
    options.answer_cache_entries = answer_cache_entries;
    std::string error;
    auto resolver = dns::UnboundResolver::create(options, &error);
    REQUIRE_MESSAGE(resolver != nullptr, error);
    return resolver;
}

// One lookup through the callback interface: the answer, and whether the callback ran on
// this thread before lookup() returned (an answer from the answer cache) rather than on the
// resolver's service thread.
struct Delivered {
    dns::Answer answer;
    bool inline_answer = false;
};

Delivered lookup_noting_thread(dns::Resolver& resolver, std::string_view name, RecordType type) {
    auto promise = std::make_shared<std::promise<Delivered>>();
    const std::thread::id asker = std::this_thread::get_id();
    resolver.lookup(name, type, [promise, asker](dns::Answer answer) {
        promise->set_value({std::move(answer), std::this_thread::get_id() == asker});
    });
    return promise->get_future().get();
}

}  // namespace

TEST_SUITE("dns") {
    TEST_CASE("dns: UnboundResolver against a local unbound server") {
        if (::access(kUnboundBinary, X_OK) != 0) {
            MESSAGE("SKIPPED: " << kUnboundBinary << " not installed (scripts/install-deps.sh)");
            return;
        }
        UnboundServer server;
        REQUIRE_MESSAGE(server.running(), "unbound did not start:\n", server.log());
        std::shared_ptr<dns::UnboundResolver> resolver =
            resolver_for(server.port(), std::chrono::milliseconds(3000));

        auto answer = resolver->lookup_sync("example.net", RecordType::TXT);
        REQUIRE_MESSAGE(answer.ok(), dns::status_name(answer.status), " ", answer.error);
        // Character-strings of one record are joined without separator.
        CHECK(answer.texts ==
              std::vector<std::string>{"v=spf1 ip4:198.51.100.0/28 include:_spf.example.net -all"});
        CHECK(resolver->lookup_sync("MAIL.example.net.", RecordType::A).addresses ==
              std::vector<std::string>{"192.0.2.10"});
        CHECK(resolver->lookup_sync("mail.example.net", RecordType::AAAA).addresses ==
              std::vector<std::string>{"2001:db8::10"});
        answer = resolver->lookup_sync("example.net", RecordType::MX);
        REQUIRE(answer.mx.size() == 2);
        for (const auto& mx : answer.mx)
            CHECK((mx.preference == 10 ? mx.exchange == "mail.example.net"
                                       : mx.exchange == "backup.example.net"));
        CHECK(resolver->lookup_sync("ptr.example.net", RecordType::PTR).names ==
              std::vector<std::string>{"mail.example.net"});
        // Octets outside letters/digits are escaped on the way to libunbound.
        CHECK(resolver->lookup_sync("a b.example.net", RecordType::TXT).texts ==
              std::vector<std::string>{"space in the name"});

        answer = resolver->lookup_sync("nothere.example.net", RecordType::A);
        CHECK(answer.status == Status::NxDomain);
        CHECK(answer.is_void());
        answer = resolver->lookup_sync("mail.example.net", RecordType::TXT);
        CHECK(answer.status == Status::Ok);
        CHECK(answer.is_void());  // NODATA
        CHECK(resolver->lookup_sync("a..b.example.net", RecordType::A).status == Status::Error);

        // Many lookups at once, from several threads: every callback runs exactly once.
        std::atomic<int> answered{0};
        std::atomic<int> correct{0};
        std::vector<std::thread> askers;
        for (int t = 0; t < 4; ++t) {
            askers.emplace_back([&] {
                for (int i = 0; i < 25; ++i) {
                    resolver->lookup("mail.example.net", RecordType::A, [&](dns::Answer a) {
                        if (a.addresses == std::vector<std::string>{"192.0.2.10"}) ++correct;
                        ++answered;
                    });
                }
            });
        }
        for (auto& asker : askers)
            asker.join();
        for (int i = 0; i < 200 && answered < 100; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        CHECK(answered == 100);
        CHECK(correct == 100);

        // SPF end to end over real DNS: include + a, and the fail branch.
        auth::SpfRequest request;
        request.helo = "mail.example.net";
        request.mail_from = "user@example.net";
        request.client_ip = *net::IpAddress::parse("192.0.2.10");
        auto result = auth::evaluate_spf(*resolver, request);
        CHECK(result.code == auth::SpfResultCode::Pass);
        CHECK(result.mechanism == "include:_spf.example.net");
        auth::SpfVerifier verifier(resolver);
        request.client_ip = *net::IpAddress::parse("203.0.113.5");
        CHECK(verifier.start_spf(request).get().code == auth::SpfResultCode::Fail);

        // The server refuses everything outside its zones: a temporary failure, not "none".
        answer = resolver->lookup_sync("example.org", RecordType::TXT);
        CHECK(answer.temporary_failure());

        // Answers are cached: with the server gone, a name asked before still resolves.
        server.stop();
        answer = resolver->lookup_sync("mail.example.net", RecordType::A);
        CHECK(answer.addresses == std::vector<std::string>{"192.0.2.10"});
    }

    TEST_CASE("dns: UnboundResolver answers a repeated lookup from its cache, within the TTL") {
        if (::access(kUnboundBinary, X_OK) != 0) {
            MESSAGE("SKIPPED: " << kUnboundBinary << " not installed (scripts/install-deps.sh)");
            return;
        }
        UnboundServer server;
        REQUIRE_MESSAGE(server.running(), "unbound did not start:\n", server.log());
        auto resolver = resolver_for(server.port(), std::chrono::milliseconds(3000));

        // Records, NXDOMAIN and NODATA: asked once through libunbound, then answered inline
        // (case and a trailing dot do not matter).
        const std::vector<std::pair<std::string, RecordType>> definite = {
            {"mail.example.net", RecordType::A},
            {"nothere.example.net", RecordType::A},
            {"mail.example.net", RecordType::TXT}};
        for (const auto& [name, type] : definite) {
            CAPTURE(name);
            const Delivered first = lookup_noting_thread(*resolver, name, type);
            CHECK_FALSE(first.inline_answer);
            std::string shouted = name + ".";
            for (char& c : shouted)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            const Delivered again = lookup_noting_thread(*resolver, shouted, type);
            CHECK(again.inline_answer);
            CHECK(again.answer.status == first.answer.status);
            CHECK(again.answer.addresses == first.answer.addresses);
            CHECK(again.answer.texts == first.answer.texts);
        }
        CHECK(lookup_noting_thread(*resolver, "mail.example.net", RecordType::A).answer.addresses ==
              std::vector<std::string>{"192.0.2.10"});
        CHECK(lookup_noting_thread(*resolver, "nothere.example.net", RecordType::A).answer.status ==
              Status::NxDomain);
        // The type is part of what is remembered.
        CHECK_FALSE(
            lookup_noting_thread(*resolver, "mail.example.net", RecordType::AAAA).inline_answer);

        // Failures are asked again every time; so is a record with TTL 0.
        for (const char* name : {"example.org", "zero.example.net"}) {
            CAPTURE(name);
            lookup_noting_thread(*resolver, name, RecordType::TXT);
            CHECK_FALSE(lookup_noting_thread(*resolver, name, RecordType::TXT).inline_answer);
        }

        // A one-second TTL: inline at once, through libunbound again once it has passed.
        lookup_noting_thread(*resolver, "short.example.net", RecordType::TXT);
        CHECK(lookup_noting_thread(*resolver, "short.example.net", RecordType::TXT).inline_answer);
        std::this_thread::sleep_for(std::chrono::milliseconds(1300));
        const Delivered expired =
            lookup_noting_thread(*resolver, "short.example.net", RecordType::TXT);
        CHECK_FALSE(expired.inline_answer);
        CHECK(expired.answer.texts == std::vector<std::string>{"one second"});

        // With the cache turned off, nothing is answered inline.
        auto uncached = resolver_for(server.port(), std::chrono::milliseconds(3000), 0);
        lookup_noting_thread(*uncached, "mail.example.net", RecordType::A);
        CHECK_FALSE(
            lookup_noting_thread(*uncached, "mail.example.net", RecordType::A).inline_answer);
    }

    TEST_CASE("dns: UnboundResolver gives Status::Timeout when the server never answers") {
        // A bound UDP socket that is never read: queries arrive and die there.
        const int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t length = sizeof address;
        ::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
        const int port = ntohs(address.sin_port);
        struct Closer {
            int fd;
            ~Closer() { ::close(fd); }
        } closer{silent};

        {
            auto resolver = resolver_for(port, std::chrono::milliseconds(300));
            const auto started = std::chrono::steady_clock::now();
            const auto answer = resolver->lookup_sync("example.com", RecordType::TXT);
            const auto elapsed = std::chrono::steady_clock::now() - started;
            CHECK(answer.status == Status::Timeout);
            CHECK(answer.temporary_failure());
            CHECK(elapsed >= std::chrono::milliseconds(250));
            CHECK(elapsed < std::chrono::milliseconds(2000));

            // An SPF check through it: temperror, not a hang.
            auth::SpfRequest request;
            request.client_ip = *net::IpAddress::parse("192.0.2.1");
            request.mail_from = "user@example.org";
            const auto result = auth::evaluate_spf(*resolver, request);
            CHECK(result.code == auth::SpfResultCode::TempError);
            CHECK(result.problem.find("timeout") != std::string::npos);
        }

        // Lookups still pending when the resolver goes away are answered, not dropped.
        std::promise<dns::Answer> late;
        {
            auto resolver = resolver_for(port, std::chrono::milliseconds(10000));
            resolver->lookup("example.net", RecordType::A,
                             [&late](dns::Answer answer) { late.set_value(std::move(answer)); });
        }
        auto future = late.get_future();
        REQUIRE(future.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
        const auto answer = future.get();
        CHECK(answer.status == Status::Error);
        CHECK(answer.error == "resolver shut down");
    }

    TEST_CASE("dns: UnboundResolver configuration errors") {
        std::string error;
        dns::UnboundOptions options;
        options.forwarder = "not-an-address:53";
        CHECK(dns::UnboundResolver::create(options, &error) == nullptr);
        CHECK(error.find("IP address") != std::string::npos);
        options.forwarder.clear();
        options.resolv_conf = "/nonexistent/resolv.conf";
        CHECK(dns::UnboundResolver::create(options, &error) == nullptr);
        CHECK(error.find("/nonexistent/resolv.conf") != std::string::npos);
    }
}
