// PolicyStore: what a reload (SIGHUP) replaces, and what a broken policy file keeps.
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
}
