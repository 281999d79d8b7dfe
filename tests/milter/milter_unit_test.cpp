// Unit tests of relaytrust-milter's pure pieces: the command line, socket translation, macro
// clean-up, header values under SMFIP_HDR_LEADSPC and the decision log line. The libmilter
// callbacks themselves are covered by the miltertest scripts and the Postfix/Sendmail tests.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "connection.h"
#include "decision_log.h"
#include "macros.h"
#include "message_edits.h"
#include "milter/parse_args.h"
#include "options.h"
#include "policy/policy_loader.h"

using namespace relaytrust;
using namespace relaytrust::milter;

namespace {
std::string spec(std::string_view socket) {
    std::string error;
    std::string out = libmilter_socket_spec(socket, error);
    return out.empty() ? "error: " + error : out;
}

using relaytrust::milter::testing::parse;
}  // namespace

TEST_CASE("milter: Postfix-style sockets become libmilter's") {
    CHECK(spec("inet:127.0.0.1:8895") == "inet:8895@127.0.0.1");
    CHECK(spec("inet:localhost:10") == "inet:10@localhost");
    CHECK(spec("inet:[::1]:8895") == "inet6:8895@::1");
    CHECK(spec("inet6:[::1]:8895") == "inet6:8895@::1");
    CHECK(spec("inet:8895@127.0.0.1") == "inet:8895@127.0.0.1");
    CHECK(spec("unix:/run/relaytrust/milter.sock") == "unix:/run/relaytrust/milter.sock");
    CHECK(spec("local:/run/x.sock") == "local:/run/x.sock");
    CHECK(spec("inet:8895").rfind("error: ", 0) == 0);  // no host: would listen everywhere
    CHECK(spec("inet:127.0.0.1:0").rfind("error: ", 0) == 0);
    CHECK(spec("inet:127.0.0.1:65536").rfind("error: ", 0) == 0);
    CHECK(spec("unix:relative.sock").rfind("error: ", 0) == 0);
    CHECK(spec("tcp:127.0.0.1:25").rfind("error: ", 0) == 0);
    CHECK(unix_socket_path("unix:/a/b") == "/a/b");
    CHECK(unix_socket_path("inet:127.0.0.1:1").empty());
}

TEST_CASE("milter: command line") {
    ParseResult defaults = parse({});
    REQUIRE(defaults.options);
    CHECK(defaults.options->socket == "inet:127.0.0.1:8895");
    CHECK(defaults.options->policy_path.empty());
    CHECK(defaults.options->effective_log() == LogTarget::Syslog);
    CHECK(defaults.options->tcp_nodelay);

    ParseResult full =
        parse({"--policy", "/etc/p.jsonc", "--socket=unix:/run/m.sock", "--foreground", "--user",
               "relaytrust", "--pidfile", "/run/m.pid", "--socket-mode", "0666", "--timeout", "30",
               "--verbose", "--no-tcp-nodelay"});
    REQUIRE(full.options);
    CHECK(full.options->policy_path == "/etc/p.jsonc");
    CHECK(full.options->socket == "unix:/run/m.sock");
    CHECK(full.options->effective_log() == LogTarget::Stderr);
    CHECK(full.options->user == "relaytrust");
    CHECK(full.options->socket_mode == 0666);
    CHECK(full.options->timeout_seconds == 30);
    CHECK(full.options->verbose);
    CHECK_FALSE(full.options->tcp_nodelay);

    CHECK_FALSE(parse({"--log", "stderr"}).options);  // a daemon has no stderr
    CHECK(parse({"--log", "stderr", "--foreground"}).options);
    CHECK_FALSE(parse({"--bogus"}).options);
    CHECK_FALSE(parse({"--socket"}).options);
    CHECK_FALSE(parse({"--socket-mode", "999"}).options);
    CHECK(parse({"--check", "--socket", "nonsense"}).options);  // --check ignores the socket
}

TEST_CASE("milter: macro values are cleaned up") {
    CHECK(envelope_address("<alice@example.org>") == "alice@example.org");
    CHECK(envelope_address("<>") == "");
    CHECK(envelope_address(" <bob@example.net> ") == "bob@example.net");
    CHECK(envelope_address("bare@example.net") == "bare@example.net");
    CHECK(bare_ip("IPv6:2001:db8::1") == "2001:db8::1");  // Sendmail
    CHECK(bare_ip("[192.0.2.1]") == "192.0.2.1");
    CHECK(bare_ip("127.0.0.1") == "127.0.0.1");
    CHECK(resolved_host_name("unknown").empty());      // Postfix: no PTR
    CHECK(resolved_host_name("[192.0.2.1]").empty());  // libmilter: unresolved
    CHECK(resolved_host_name("mail.example.org") == "mail.example.org");
}

TEST_CASE("milter: header values under SMFIP_HDR_LEADSPC carry their space") {
    auto policy = load_default_policy().policy;
    REQUIRE(policy);
    Connection connection(policy, nullptr);
    connection.header_leading_space = true;
    CHECK(header_value_for_mta(connection, "[SPAM] hello") == " [SPAM] hello");
    connection.header_leading_space = false;
    CHECK(header_value_for_mta(connection, "[SPAM] hello") == "[SPAM] hello");
    CHECK(action_flag_for(Modification::Kind::DeleteHeader) == SMFIF_CHGHDRS);
    CHECK(action_flag_for(Modification::Kind::InsertHeader) == SMFIF_ADDHDRS);
    CHECK(action_flag_for(Modification::Kind::ReplaceBody) == SMFIF_CHGBODY);
}

TEST_CASE("milter: stages negotiated without reply are known per connection") {
    auto policy = load_default_policy().policy;
    REQUIRE(policy);
    Connection connection(policy, nullptr);
    CHECK(connection.replies_at(SMFIP_NR_HDR));  // not negotiated: reply everywhere
    connection.negotiated = true;
    connection.protocol = SMFIP_NR_HDR | SMFIP_NR_BODY;
    CHECK_FALSE(connection.replies_at(SMFIP_NR_HDR));
    CHECK(connection.replies_at(SMFIP_NR_CONN));
}

TEST_CASE("milter: one decision line with every field in a fixed order") {
    // More cases (engine-made verdicts, failures, quoting) in observability_test.cpp.
    auto policy = load_default_policy().policy;
    REQUIRE(policy);
    Connection connection(policy, nullptr, 3);
    Session& session = connection.transaction.session();
    session.queue_id = "4DkF2x1Qz";
    session.listener = "relay-in";
    session.remote_ip = "127.0.0.1";
    session.remote_port = 40000;
    session.mail_from = "alice@example.org";
    connection.engine_time = std::chrono::microseconds(85);
    Verdict verdict;
    verdict.action = Action::Reject;
    verdict.reply = SmtpReply{550, "5.7.1", "Message rejected as spam"};
    verdict.rule = "spam-reject";
    verdict.reasons = {"rule 'spam-reject' matched", "score \"15\""};
    CHECK(format_decision(connection, Stage::Data, verdict) ==
          "stage=data action=reject listener=relay-in client=127.0.0.1 client_port=40000 "
          "queue=4DkF2x1Qz from=<alice@example.org> to=- rule=spam-reject "
          "reply=\"550 5.7.1 Message rejected as spam\" relay=- trusted=no spam=unknown score=- "
          "virus=no stripped=0 spf=none dkim=none dmarc=none edits=0 engine_us=85 generation=3 "
          "failure=- reasons=\"rule 'spam-reject' matched; score \\\"15\\\"\"");

    session.queue_id.clear();
    session.mail_from.clear();
    Verdict accept;
    accept.modifications.push_back(
        {Modification::Kind::InsertHeader, "X-Relaytrust-Result", "x", 0});
    CHECK(format_decision(connection, Stage::Connect, accept, "a note") ==
          "stage=connect action=accept listener=relay-in client=127.0.0.1 client_port=40000 "
          "queue=NOQUEUE from=- to=- rule=none reply=- relay=- trusted=- spam=- score=- virus=- "
          "stripped=- spf=- dkim=- dmarc=- edits=1 engine_us=85 generation=3 failure=- "
          "note=\"a note\" reasons=\"\"");
}
