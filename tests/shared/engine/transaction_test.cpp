#include "engine/transaction.h"

#include <doctest/doctest.h>

#include "dns/zone_resolver.h"
#include "policy/policy_loader.h"
#include "test_policies.h"

using namespace relaytrust;

namespace {

using relaytrust::testing::default_policy;
using relaytrust::testing::policy_of;

const char* kRelayReceived =
    " from sender.example.org (sender.example.org [203.0.113.7])\r\n\tby relay.example.net "
    "(Postfix) with ESMTP id 4AbC; Sun, 22 Nov 2026 10:00:00 +0000";

Transaction relay_session(const char* ip = "127.0.0.1") {
    Transaction t(default_policy());
    t.session().listener = "relay-in";
    t.session().remote_ip = ip;
    return t;
}

}  // namespace

TEST_CASE("engine: relay-in from a stranger is refused at connect with the policy's reply") {
    Transaction t = relay_session("127.0.0.2");
    Verdict v = t.connect();
    CHECK(v.action == Action::Reject);
    REQUIRE(v.reply);
    CHECK(v.reply->code == 554);
    CHECK(v.rule == "relay-in-only-from-relay");
    CHECK(t.relay() == nullptr);
}

TEST_CASE("engine: trusted relay spam is rejected, and edits are not sent for a reject") {
    Transaction t = relay_session();
    REQUIRE(t.connect().action == Action::Accept);
    CHECK(t.relay() != nullptr);
    t.mail("alice@example.org");
    t.rcpt("bob@example.com");
    t.header("X-Spam-Status", " Yes, score=15.2 required=5.0 tests=BAYES_99");
    t.header("Received", kRelayReceived);
    t.header("Subject", " hi");
    t.body("hello\r\n");
    Verdict v = t.data();
    CHECK(v.action == Action::Reject);
    CHECK(v.effective_reply().code == 550);
    CHECK(v.modifications.empty());
    CHECK(t.analysis().spam_trusted);
    CHECK(t.analysis().spam_score == doctest::Approx(15.2));
}

TEST_CASE("engine: forged instances are deleted highest occurrence first") {
    Transaction t(default_policy());
    t.session().remote_ip = "198.51.100.1";  // mx (default listener)
    t.connect();
    t.mail("a@b.example");
    t.rcpt("bob@example.com");
    t.header("X-Spam-Status", " No, score=-1");
    t.header("Received", kRelayReceived);
    t.header("x-spam-status", " No, score=-2");
    t.header("X-Spam-Flag", " NO");
    t.header("X-Spam-Status", " No, score=-3");
    Verdict v = t.data();
    CHECK(v.action == Action::Accept);
    std::vector<std::pair<std::string, int>> deletes;
    for (const auto& m : v.modifications) {
        if (m.kind == Modification::Kind::DeleteHeader) deletes.emplace_back(m.name, m.index);
    }
    // X-Spam-Status occurrences 3, 2, 1 (any spelling), and X-Spam-Flag 1.
    REQUIRE(deletes.size() == 4);
    CHECK(deletes[0].second == 3);
    CHECK(deletes[1].second == 2);
    int last_status = -1;
    for (auto& [name, index] : deletes) {
        if (name != "X-Spam-Flag") {
            if (last_status != -1) CHECK(index < last_status);
            last_status = index;
        }
    }
    // The result header goes on top.
    CHECK(v.modifications.back().kind == Modification::Kind::InsertHeader);
    CHECK(v.modifications.back().name == "X-Relaytrust-Result");
    CHECK(v.modifications.back().index == 0);
}

TEST_CASE("engine: per-message state resets between messages on one connection") {
    Transaction t = relay_session();
    t.connect();
    t.mail("a@example.org");
    t.rcpt("b@example.com");
    t.header("X-Spam-Status", " Yes, score=15.2 required=5.0");
    t.header("Received", kRelayReceived);
    CHECK(t.data().action == Action::Reject);
    t.reset_message();
    CHECK(t.session().headers.empty());
    CHECK(t.session().recipients.empty());
    t.mail("a@example.org");
    t.rcpt("b@example.com");
    t.header("Received", kRelayReceived);
    Verdict v = t.data();
    CHECK(v.action == Action::Accept);
    CHECK_FALSE(t.analysis().spam_trusted);
    CHECK(t.session().listener == "relay-in");  // connection facts survive
}

TEST_CASE("engine: the body streams through without being kept") {
    Transaction t = relay_session();
    t.connect();
    t.mail("a@example.org");
    t.rcpt("b@example.com");
    std::string chunk(65536, 'x');
    for (int i = 0; i < 64; ++i)
        t.body(chunk);
    CHECK(t.session().body_size == 64u * 65536u);
}

TEST_CASE("engine: failure verdicts follow the listener's on_error (open or closed)") {
    auto p = policy_of(R"P({"listeners": [{"name": "mx", "match": {"default": true},
        "on_error": {"action": "accept"}}]})P");
    Transaction t(p);
    t.session().remote_ip = "192.0.2.1";
    t.connect();
    Verdict v = t.failure_verdict("could not parse the message");
    CHECK(v.action == Action::Accept);
    CHECK(v.rule == "on_error");
    CHECK(v.reasons.front() == "could not parse the message");

    auto closed = policy_of(R"P({"listeners": [{"name": "mx", "match": {"default": true},
        "on_error": {"action": "tempfail", "reply": {"code": 421, "enhanced": "4.3.2",
                                                     "text": "Policy unavailable"}}}]})P");
    Transaction t2(closed);
    t2.session().remote_ip = "192.0.2.1";
    t2.connect();
    Verdict v2 = t2.failure_verdict("boom");
    CHECK(v2.action == Action::Tempfail);
    CHECK(v2.effective_reply().code == 421);
}

TEST_CASE("engine: rcpt-stage rejects leave the recipient out of the message") {
    auto p = policy_of(R"P({"listeners": [{"name": "mx", "match": {"default": true}}],
        "rules": [{"name": "no-root", "stage": "rcpt", "if": "starts_with(rcpt, 'root@')",
                   "action": "reject"}]})P");
    Transaction t(p);
    t.session().remote_ip = "192.0.2.1";
    t.connect();
    t.mail("a@example.org");
    CHECK(t.rcpt("root@example.com").action == Action::Reject);
    CHECK(t.rcpt("bob@example.com").action == Action::Accept);
    CHECK(t.session().recipients == std::vector<std::string>{"bob@example.com"});
}

TEST_CASE("engine: a policy snapshot stays pinned while a new one is loaded") {
    auto old_policy = policy_of(R"P({"listeners": [{"name": "mx", "match": {"default": true}}],
        "rules": [{"name": "old", "stage": "data", "action": "quarantine"}]})P");
    Transaction t(old_policy);
    t.session().remote_ip = "192.0.2.1";
    t.connect();
    std::weak_ptr<const Policy> watch = old_policy;
    old_policy.reset();  // the "store" swapped in a new policy
    REQUIRE_FALSE(watch.expired());
    t.mail("a@example.org");
    t.rcpt("b@example.com");
    CHECK(t.data().action == Action::Quarantine);
}

TEST_CASE("engine: variables seen by expressions") {
    auto p = policy_of(R"P({
        "constants": {"limit": 2},
        "listeners": [{"name": "mx", "match": {"default": true}}],
        "rules": [{"name": "all", "stage": "data", "action": "quarantine",
            "if": "listener == 'mx' && remote_ip == '192.0.2.1' && remote_port == 2525 && local_port == 25 && helo_domain == 'h.example' && sender == 'a@example.org' && sender_domain == 'example.org' && rcpt == 'c@other.example' && rcpt_domain == 'other.example' && contains(recipients, 'b@example.com') && authenticated_as == 'alice' && is_tls && protocol == 'smtp' && stage == 'data' && header('Subject') == 'Hello world' && body_size == 5 && limit == 2 && !spam_trusted && relay == ''"}]})P");
    Transaction t(p);
    Session& s = t.session();
    s.remote_ip = "192.0.2.1";
    s.remote_port = 2525;
    s.local_port = 25;
    s.tls_version = "TLSv1.3";
    s.authenticated_as = "alice";
    t.connect();
    t.ehlo("h.example");
    t.mail("a@example.org");
    t.rcpt("b@example.com");
    t.rcpt("c@other.example");
    t.header("Subject", " Hello\r\n world");
    t.body("12345");
    Verdict v = t.data();
    CHECK_MESSAGE(v.action == Action::Quarantine, v.reasons.front());
}

TEST_CASE("engine: with every check off, the authentication variables read as evaluated-off") {
    // No per-message authentication state is built when every mode is off; what expressions
    // and front ends read must not tell: "none" results, auth_source "" until the message
    // ends and "none" after, no Authentication-Results header.
    auto p = policy_of(R"P({
        "listeners": [{"name": "mx", "match": {"default": true}}],
        "auth": {"spfVerify": "'disable'", "dkimVerify": "'disable'", "dmarcVerify": "'disable'"},
        "rules": [
            {"name": "mail-seen", "stage": "mail", "action": "reject",
             "if": "auth_source != '' || spf_result != 'none' || dmarc_policy != 'none'"},
            {"name": "data-seen", "stage": "data", "action": "quarantine",
             "if": "auth_source == 'none' && spf_result == 'none' && dkim_result == 'none' && dmarc_result == 'none' && dmarc_policy == 'none' && origin_ip == '' && spf_domain == ''"}]})P");
    auto services = std::make_shared<AuthServices>(std::make_shared<dns::ZoneResolver>(), p->auth);
    for (const auto& auth : {services, std::shared_ptr<AuthServices>()}) {
        CAPTURE(auth != nullptr);
        Transaction t(p, auth);
        t.session().remote_ip = "192.0.2.1";
        t.connect();
        CHECK(t.auth_outcome().source.empty());
        CHECK(t.mail("a@example.org").action == Action::Accept);
        t.rcpt("b@example.com");
        t.header("From", " a@example.org");
        t.header("DKIM-Signature", " v=1; a=rsa-sha256; d=example.org; s=s; h=from; bh=; b=");
        CHECK_FALSE(t.wants_body());
        t.body_skipped(10);
        const Verdict v = t.data();
        CHECK_MESSAGE(v.action == Action::Quarantine, v.reasons.front());
        CHECK(t.auth_outcome().source == "none");
        CHECK(t.auth_outcome().spf_mode == AuthMode::Disable);
        for (const auto& m : v.modifications)
            CHECK(m.name != "Authentication-Results");
        t.reset_message();
        CHECK(t.auth_outcome().source.empty());
    }
}
