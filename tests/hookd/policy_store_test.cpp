// PolicyStore: what a reload (SIGHUP) replaces, what a broken policy file keeps, and the
// per-thread snapshots request threads take without a lock.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "policy_store.h"

using namespace relaytrust;
using namespace relaytrust::hookd;

namespace {

class PolicyFile {
  public:
    explicit PolicyFile(std::string_view tag)
        : path_(std::filesystem::temp_directory_path() /
                ("relaytrust-store-" + std::string(tag) + "-" + std::to_string(getpid()) +
                 ".jsonc")) {}
    ~PolicyFile() { std::filesystem::remove(path_); }
    void write(std::string_view hostname) const {
        std::ofstream(path_) << R"({"hostname": ")" << hostname << R"(",
            "listeners": [{"name": "in", "match": {"default": true}}], "rules": []})";
    }
    std::string path() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

std::string hostname_seen_by_another_thread(const PolicyStore& store) {
    std::string seen;
    std::thread([&] {
        const PolicySnapshot s = store.current();
        seen = s.policy ? s.policy->hostname : "(none)";
    }).join();
    return seen;
}

}  // namespace

TEST_SUITE("daemon") {
    TEST_CASE(
        "policy store: reloads replace policy and services together; a broken file keeps both") {
        PolicyFile file("a");
        PolicyStore store(file.path(), "", RELAYTRUST_HOOKD_TEST_ZONE);
        CHECK(store.generation() == 0);
        CHECK_FALSE(store.current().policy);

        file.write("one.test");
        REQUIRE(store.load().empty());
        CHECK(store.generation() == 1);
        PolicySnapshot first = store.current();
        REQUIRE(first.policy);
        CHECK(first.policy->hostname == "one.test");
        REQUIRE(first.auth);
        const std::weak_ptr<const Policy> first_policy = first.policy;
        const std::weak_ptr<AuthServices> first_auth = first.auth;

        file.write("two.test");
        REQUIRE(store.load().empty());
        CHECK(store.generation() == 2);
        CHECK(hostname_seen_by_another_thread(store) == "two.test");
        const PolicySnapshot second = store.current();
        CHECK(second.auth != first.auth);
        // A request that started before the reload keeps its snapshot to the end...
        CHECK(first.policy->hostname == "one.test");
        // ...and the replaced policy and services (resolver threads) go with the last one.
        first = {};
        CHECK(first_policy.expired());
        CHECK(first_auth.expired());

        std::ofstream(file.path()) << "{ \"hostname\": ";
        const std::string error = store.load();
        CHECK(error.find(file.path() + ":1:") == 0);  // file:line:col
        CHECK(store.generation() == 2);
        CHECK(store.current().policy->hostname == "two.test");
        CHECK(store.current().auth == second.auth);
    }

    TEST_CASE("per-thread snapshots follow reloads and keep no replaced services") {
        PolicyFile file("t");
        PolicyStore store(file.path(), "", RELAYTRUST_HOOKD_TEST_ZONE);
        // Before the first load: nothing, and asking again does not invent anything.
        CHECK_FALSE(store.for_this_thread(true).policy);
        CHECK_FALSE(store.for_this_thread(true).auth);

        file.write("one.test");
        REQUIRE(store.load().empty());
        PolicySnapshot first = store.for_this_thread(true);
        REQUIRE(first.policy);
        CHECK(first.policy->hostname == "one.test");
        CHECK(first.policy.use_count() == 0);  // borrowed: no shared count touched
        REQUIRE(first.auth);
        CHECK(first.auth == store.current().auth);
        CHECK_FALSE(store.for_this_thread(false).auth);
        const std::weak_ptr<AuthServices> first_auth = first.auth;
        first = {};

        // A reload reaches this thread and others at their next call.
        file.write("two.test");
        REQUIRE(store.load().empty());
        const PolicySnapshot second = store.for_this_thread(true);
        REQUIRE(second.policy);
        CHECK(second.policy->hostname == "two.test");
        CHECK(second.policy.get() == store.current().policy.get());
        REQUIRE(second.auth);
        CHECK(second.auth == store.current().auth);
        std::string other_thread;
        std::thread([&] { other_thread = store.for_this_thread(false).policy->hostname; }).join();
        CHECK(other_thread == "two.test");
        // This thread's copy does not keep the replaced services (resolver threads) alive.
        CHECK(first_auth.expired());

        // A broken file changes nothing.
        std::ofstream(file.path()) << "{ \"hostname\": ";
        CHECK_FALSE(store.load().empty());
        CHECK(store.for_this_thread(false).policy->hostname == "two.test");
    }

    TEST_CASE("per-thread snapshots of two stores stay apart") {
        PolicyFile file_a("x"), file_b("y");
        for (const std::string suffix : {"", "2"}) {
            // The second round's stores may reuse the first round's addresses: each store's
            // thread copy must still be told apart.
            file_a.write("a" + suffix + ".test");
            file_b.write("b" + suffix + ".test");
            PolicyStore a(file_a.path(), "", RELAYTRUST_HOOKD_TEST_ZONE);
            PolicyStore b(file_b.path(), "", RELAYTRUST_HOOKD_TEST_ZONE);
            REQUIRE(a.load().empty());
            REQUIRE(b.load().empty());
            CHECK(a.for_this_thread(false).policy->hostname == "a" + suffix + ".test");
            CHECK(b.for_this_thread(false).policy->hostname == "b" + suffix + ".test");
            CHECK(a.for_this_thread(true).policy->hostname == "a" + suffix + ".test");
        }
    }
}
