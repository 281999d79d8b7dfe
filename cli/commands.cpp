#include "commands.h"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "dns/zone_resolver.h"
#include "dns/zone_yaml.h"
#include "engine/transaction.h"
#include "headers/verdict_header_parser.h"
#include "message_file.h"
#include "policy/policy_loader.h"

namespace relaytrust::cli {

int exit_code_for(Action action) {
    switch (action) {
        case Action::Accept:
            return kExitAccept;
        case Action::Reject:
            return kExitReject;
        case Action::Tempfail:
            return kExitTempfail;
        case Action::Discard:
            return kExitDiscard;
        case Action::Quarantine:
            return kExitQuarantine;
    }
    return kExitUsage;
}

std::string usage_text() {
    return R"(usage:
  relaytrust check [POLICY]
      Validate a policy file (default: the embedded policy). Prints OK, or every error as
      file:line:column: message. Exit 0 when valid, 2 when not.
  relaytrust test [--policy FILE] [--listener NAME] --remote-ip IP [options] MESSAGE.eml
      Dry run: pass MESSAGE.eml through every SMTP stage as an MTA would and print each
      stage's verdict and reasons, which verdict headers were trusted or removed and why,
      and the resulting message.
      --listener NAME       listener to use (else recognised from --daemon-name,
                            --hook-path or --local-port, else the default listener)
      --daemon-name NAME    Postfix/Sendmail {daemon_name}
      --hook-path PATH      hookd URL path, e.g. /hook/relay-in
      --remote-ip IP        client address (required)
      --remote-port N       client port
      --remote-host NAME    client PTR name
      --local-ip IP         address the client connected to
      --local-port N        port the client connected to
      --mta-hostname NAME   the MTA's own host name (its Received headers are skipped)
      --helo NAME           HELO/EHLO name
      --auth USER           SASL-authenticated user
      --tls VERSION         TLS version, e.g. TLSv1.3 (default: no TLS)
      --from ADDR           MAIL FROM (default: the null sender)
      --rcpt ADDR           RCPT TO (repeatable; default: postmaster@localhost)
      --dns HOST:PORT       DNS server for SPF/DKIM/DMARC (default: the policy's, else
                            /etc/resolv.conf)
      --dns-zone FILE.yml   answer DNS from a YAML zone file instead (offline dry runs;
                            format: docs/auth.md)
      --no-auth             skip SPF/DKIM/DMARC
      --output FILE         write only the resulting message to FILE (not written when
                            the message is rejected, tempfailed or discarded); "-": the
                            message to standard output, the report to standard error
  relaytrust default-policy
      Print the embedded default policy (annotated).
  relaytrust stalwart-config [options]
      Print Stalwart 0.16 MtaHook objects for the policy's listeners (see docs/hookd.md;
      options: [--policy FILE] [--url URL] [--token-file PATH] [--timeout-ms MS] ...).
  relaytrust postfix-config [options]
      Print Postfix main.cf and master.cf snippets for the policy's listeners (see
      docs/milter.md; options: [--policy FILE] [--milter SOCKET]
      [--listen-address LISTENER=[ADDR:]PORT] [--restrict-relays] [--chroot] ...).
  relaytrust --help | --version

exit codes of `test`: 0 accept, 10 reject, 11 tempfail, 12 discard, 13 quarantine;
  1 usage error, 2 policy error, 3 unreadable message.
)";
}

std::shared_ptr<const Policy> load_or_report(const std::string& path, std::ostream& err) {
    PolicyLoadResult r = path.empty() ? load_default_policy() : load_policy_file(path);
    if (!r.ok()) {
        err << r.error_text();
        return nullptr;
    }
    return r.policy;
}

namespace {

bool parse_port(const std::string& text, std::uint16_t& port) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || p != text.data() + text.size() || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

std::string describe_reply(const Verdict& v) {
    if (v.action == Action::Accept) return "";
    SmtpReply r = v.effective_reply();
    return " " + std::to_string(r.code) + (r.enhanced.empty() ? "" : " " + r.enhanced) + " " +
           r.text;
}

void print_verdict(std::ostream& out, Stage stage, const std::string& detail, const Verdict& v) {
    std::string label = std::string(stage_name(stage)) + ":";
    label.resize(9, ' ');
    out << label << action_name(v.action) << describe_reply(v);
    if (!detail.empty()) out << "  [" << detail << "]";
    out << "\n";
    for (const auto& reason : v.reasons)
        out << "         - " << reason << "\n";
}

// A quarantine decided before the message goes on to the end of the message, where the engine
// carries it out (as the milter and hookd do): the message still gets its edits.
bool stops_session(Action a) {
    return a == Action::Reject || a == Action::Tempfail || a == Action::Discard;
}

}  // namespace

std::shared_ptr<AuthServices> make_auth_services(const Policy& policy,
                                                 const std::string& dns_server,
                                                 const std::string& zone_file, std::string& error) {
    if (zone_file.empty()) {
        auto services = AuthServices::create(policy.auth, dns_server, &error);
        if (!services) error = "cannot start the DNS resolver: " + error;
        return services;
    }
    std::ifstream in(zone_file, std::ios::binary);
    if (!in) {
        error = "cannot read DNS zone file " + zone_file;
        return nullptr;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto stream = dns::yaml::parse_stream(text.str());
    if (!stream.ok() || stream.documents.empty()) {
        error = zone_file + ": " + (stream.ok() ? "empty" : stream.error);
        return nullptr;
    }
    auto zone = std::make_shared<dns::ZoneResolver>();
    if (std::string e = zone->load_openspf_zonedata(stream.documents.front()); !e.empty()) {
        error = zone_file + ": " + e;
        return nullptr;
    }
    return std::make_shared<AuthServices>(std::move(zone), policy.auth);
}

int run_check(const Args& args, std::ostream& out, std::ostream& err) {
    if (args.size() > 1) {
        err << "relaytrust check: expected at most one policy file\n";
        return kExitUsage;
    }
    const std::string path = args.empty() ? "" : args[0];
    auto policy = load_or_report(path, err);
    if (!policy) return kExitPolicyError;
    std::size_t rules = 0;
    for (const auto& stage_rules : policy->rules_by_stage)
        rules += stage_rules.size();
    out << "OK: " << policy->source << " (" << policy->listeners.size() << " listeners, "
        << policy->networks.size() << " network sets, " << rules << " rules)\n";
    return kExitAccept;
}

int run_default_policy(const Args& args, std::ostream& out, std::ostream& err) {
    if (!args.empty()) {
        err << "relaytrust default-policy: takes no arguments\n";
        return kExitUsage;
    }
    out << default_policy_text();
    return kExitAccept;
}

int run_test(const Args& args, std::ostream& out, std::ostream& err) {
    std::string policy_path, output_path, message_path;
    std::vector<std::string> rcpts;
    Session facts;
    std::string helo, from, dns_server, dns_zone;
    bool no_auth = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                err << "relaytrust test: " << a << " needs a value\n";
                return std::nullopt;
            }
            return args[++i];
        };
        std::optional<std::string> v;
        if (a == "--no-auth") {
            no_auth = true;
            continue;
        }
        if (a.rfind("--", 0) == 0 && a != "--") {
            if (!(v = value())) return kExitUsage;
        }
        if (a == "--policy") {
            policy_path = *v;
        } else if (a == "--listener") {
            facts.listener = *v;
        } else if (a == "--daemon-name") {
            facts.clues.daemon_name = *v;
        } else if (a == "--hook-path") {
            facts.clues.hook_path = *v;
        } else if (a == "--remote-ip") {
            facts.remote_ip = *v;
        } else if (a == "--remote-port") {
            if (!parse_port(*v, facts.remote_port)) {
                err << "relaytrust test: --remote-port: not a port number: " << *v << "\n";
                return kExitUsage;
            }
        } else if (a == "--remote-host") {
            facts.remote_host = *v;
        } else if (a == "--local-ip") {
            facts.local_ip = *v;
        } else if (a == "--local-port") {
            if (!parse_port(*v, facts.local_port)) {
                err << "relaytrust test: --local-port: not a port number: " << *v << "\n";
                return kExitUsage;
            }
        } else if (a == "--mta-hostname") {
            facts.mta_hostname = *v;
        } else if (a == "--helo") {
            helo = *v;
        } else if (a == "--auth") {
            facts.authenticated_as = *v;
        } else if (a == "--tls") {
            facts.tls_version = *v;
        } else if (a == "--from") {
            from = *v;
        } else if (a == "--rcpt") {
            rcpts.push_back(*v);
        } else if (a == "--dns") {
            dns_server = *v;
        } else if (a == "--dns-zone") {
            dns_zone = *v;
        } else if (a == "--output") {
            output_path = *v;
        } else if (v) {
            err << "relaytrust test: unknown option " << a << "\n" << usage_text();
            return kExitUsage;
        } else if (message_path.empty()) {
            message_path = a;
        } else {
            err << "relaytrust test: more than one message file given\n";
            return kExitUsage;
        }
    }
    if (message_path.empty() || facts.remote_ip.empty()) {
        err << "relaytrust test: needs --remote-ip IP and a MESSAGE.eml\n" << usage_text();
        return kExitUsage;
    }
    if (!net::IpAddress::parse(facts.remote_ip)) {
        err << "relaytrust test: --remote-ip: not an IP address: " << facts.remote_ip << "\n";
        return kExitUsage;
    }
    if (rcpts.empty()) rcpts.push_back("postmaster@localhost");

    auto policy = load_or_report(policy_path, err);
    if (!policy) return kExitPolicyError;
    if (!facts.listener.empty() && !policy->find_listener(facts.listener)) {
        err << "relaytrust test: the policy has no listener named '" << facts.listener
            << "' (it has:";
        for (const auto& l : policy->listeners)
            err << " " << l.name;
        err << ")\n";
        return kExitUsage;
    }
    MessageFile message(message_path);
    if (!message.ok()) {
        err << "relaytrust test: " << message.error() << "\n";
        return kExitInputError;
    }

    std::shared_ptr<AuthServices> auth;
    if (!no_auth) {
        std::string error;
        auth = make_auth_services(*policy, dns_server, dns_zone, error);
        if (!auth) {
            err << "relaytrust test: " << error << "\n";
            return kExitInputError;
        }
    }
    Transaction t(policy, auth);
    t.session() = facts;
    // --output -: the resulting message alone on standard output (to pipe into sieve-test,
    // say), the report on standard error.
    std::ostream& report = output_path == "-" ? err : out;
    report << "policy:  " << policy->source << "\n";
    Verdict v = t.connect();
    report << "session: listener=" << t.session().listener << " client=" << facts.remote_ip;
    if (t.relay()) {
        report << " relay=" << t.relay()->name << " (network '" << t.relay()->network_name << "')";
    } else {
        report << " relay=none";
    }
    report << "\n";
    print_verdict(report, Stage::Connect, "", v);
    if (!stops_session(v.action)) {
        v = t.ehlo(helo);
        print_verdict(report, Stage::Ehlo, helo, v);
    }
    if (!stops_session(v.action)) {
        v = t.mail(from);
        print_verdict(report, Stage::Mail, "<" + from + ">", v);
    }
    if (!stops_session(v.action)) {
        std::size_t accepted = 0;
        Verdict last;
        for (const auto& r : rcpts) {
            last = t.rcpt(r);
            print_verdict(report, Stage::Rcpt, "<" + r + ">", last);
            if (last.action == Action::Accept || last.action == Action::Quarantine) ++accepted;
            // A discard at RCPT applies to the whole message, as in milter.
            if (last.action == Action::Discard) break;
        }
        v = accepted == 0 || last.action == Action::Discard ? last : Verdict{};
    }
    if (!stops_session(v.action)) {
        for (const auto& h : message.headers())
            t.header(h.name, h.raw_value);
        message.stream_body([&](std::string_view chunk) { t.body(chunk); });
        v = t.data();
        print_verdict(report, Stage::Data, "", v);
        const TrustAnalysis& a = t.analysis();
        const auto& hs = t.session().headers;
        if (a.relay_hop_index) {
            report << "         relay hop: header #" << (*a.relay_hop_index + 1) << " Received:"
                   << headers::unfold(hs[*a.relay_hop_index].raw_value).substr(0, 70) << "\n";
        }
        for (const auto& d : a.decisions) {
            report << "         header #" << (d.header_index + 1) << " " << d.name << " ("
                   << d.occurrence << ") " << (d.trusted ? "TRUSTED" : "REMOVED") << ": "
                   << d.reason << "\n";
        }
        const AuthOutcome& ao = t.auth_outcome();
        if (ao.source != "none" && !ao.source.empty()) {
            report << "         auth: spf=" << ao.spf_result << " (" << auth_mode_name(ao.spf_mode)
                   << (ao.origin_ip.empty() ? "" : ", ip " + ao.origin_ip)
                   << ") dkim=" << ao.dkim_result << " (" << auth_mode_name(ao.dkim_mode)
                   << ") dmarc=" << ao.dmarc_result << " (" << auth_mode_name(ao.dmarc_mode)
                   << ", policy " << ao.dmarc_policy << ")";
            if (!ao.origin_note.empty()) report << " [" << ao.origin_note << "]";
            report << "\n";
        }
        for (const auto& m : v.modifications) {
            report << "         edit: " << modification_kind_name(m.kind);
            if (!m.name.empty()) report << " " << m.name;
            if (m.index > 0) report << " #" << m.index;
            if (!m.value.empty()) report << ": " << m.value;
            report << "\n";
        }
    }

    const bool kept = v.action == Action::Accept || v.action == Action::Quarantine;
    if (!kept) {
        report << "result:  " << action_name(v.action) << " (message not delivered)\n";
        return exit_code_for(v.action);
    }
    EditedMessage edited;
    edited.headers = t.session().headers;
    edited.line_end = message.line_end();
    edited.mail_from = t.session().mail_from;
    edited.recipients = t.session().recipients;
    apply_modifications(v.modifications, edited);

    auto write_message = [&](std::ostream& os) {
        os << serialize_headers(edited.headers, message.line_end()) << message.line_end();
        if (edited.body_replaced) {
            os << edited.new_body;
        } else {
            message.stream_body([&](std::string_view chunk) { os << chunk; });
        }
    };
    report << "result:  " << action_name(v.action)
           << (v.action == Action::Quarantine ? " (kept, held for review)" : "") << "\n";
    if (output_path == "-") {
        write_message(out);
    } else if (!output_path.empty()) {
        std::ofstream file(output_path, std::ios::binary | std::ios::trunc);
        if (!file) {
            err << "relaytrust test: cannot write " << output_path << "\n";
            return kExitInputError;
        }
        write_message(file);
    } else {
        out << "--- resulting message ---\n";
        write_message(out);
    }
    return exit_code_for(v.action);
}

}  // namespace relaytrust::cli
