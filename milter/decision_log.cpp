#include "decision_log.h"

#include <cstdio>

#include "log.h"
#include "metrics.h"

namespace relaytrust::milter {

namespace {

constexpr std::string_view kNotApplicable = "-";

bool needs_quotes(std::string_view value) {
    if (value.empty()) return true;
    for (unsigned char c : value) {
        if (c <= ' ' || c == '=' || c == '"' || c == 0x7f) return true;
    }
    return false;
}

std::string yes_no(bool value) {
    return value ? "yes" : "no";
}

std::string format_score(double score) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", score);
    return text;
}

std::string reply_text(const Verdict& verdict) {
    const SmtpReply reply = verdict.effective_reply();
    std::string text = std::to_string(reply.code);
    if (!reply.enhanced.empty()) text += " " + reply.enhanced;
    text += " " + reply.text;
    return text;
}

}  // namespace

bool is_failure_verdict(const Verdict& verdict) {
    return verdict.rule == "on_error";
}

void append_field(std::string& line, std::string_view key, std::string_view value) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    if (!needs_quotes(value)) {
        line += value;
        return;
    }
    line += '"';
    for (char c : value) {
        if (c == '"' || c == '\\') {
            line += '\\';
            line += c;
        } else if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
            line += ' ';  // CR, LF, TAB: a log line stays one line
        } else {
            line += c;
        }
    }
    line += '"';
}

std::string format_decision(const Connection& connection, Stage stage, const Verdict& verdict,
                            std::string_view note) {
    const Transaction& transaction = connection.transaction;
    const Session& session = transaction.session();
    const bool at_data = stage == Stage::Data;
    const bool refused = verdict.action == Action::Reject || verdict.action == Action::Tempfail;
    auto data_only = [&](std::string value) {
        return at_data ? value : std::string(kNotApplicable);
    };

    std::string line;
    line.reserve(512);
    append_field(line, "stage", stage_name(stage));
    append_field(line, "action", action_name(verdict.action));
    append_field(line, "listener", session.listener.empty() ? "none" : session.listener);
    append_field(line, "client", session.remote_ip.empty() ? "unknown" : session.remote_ip);
    append_field(line, "client_port",
                 session.remote_port ? std::to_string(session.remote_port) : "-");
    append_field(line, "queue", session.queue_id.empty() ? "NOQUEUE" : session.queue_id);
    append_field(line, "from",
                 stage >= Stage::Mail ? "<" + session.mail_from + ">" : std::string("-"));
    append_field(line, "to",
                 stage == Stage::Rcpt ? "<" + connection.recipient + ">" : std::string("-"));
    append_field(line, "rule", verdict.rule.empty() ? "none" : verdict.rule);
    append_field(line, "reply", refused ? reply_text(verdict) : std::string("-"));

    const TrustAnalysis& analysis = transaction.analysis();
    const AuthOutcome& auth = transaction.auth_outcome();
    append_field(line, "relay", transaction.relay() ? transaction.relay()->name : "-");
    append_field(line, "trusted", data_only(yes_no(analysis.spam_trusted)));
    const bool spam_known = !analysis.spam_verdict.empty();
    append_field(line, "spam",
                 data_only(!spam_known                       ? "unknown"
                           : analysis.spam_verdict == "spam" ? "yes"
                                                             : "no"));
    append_field(line, "score", at_data && spam_known ? format_score(analysis.spam_score) : "-");
    append_field(line, "virus", data_only(yes_no(analysis.virus_found)));
    append_field(line, "stripped", data_only(std::to_string(analysis.stripped_count())));
    append_field(line, "spf", data_only(auth.spf_result));
    append_field(line, "dkim", data_only(auth.dkim_result));
    append_field(line, "dmarc", data_only(auth.dmarc_result));

    append_field(line, "edits", std::to_string(verdict.modifications.size()));
    append_field(
        line, "engine_us",
        std::to_string(
            std::chrono::duration_cast<std::chrono::microseconds>(connection.engine_time).count()));
    append_field(line, "generation", std::to_string(connection.policy_generation));
    append_field(line, "failure",
                 !is_failure_verdict(verdict)       ? "-"
                 : verdict.action == Action::Accept ? "open"
                                                    : "closed");
    if (!note.empty()) append_field(line, "note", note);
    std::string reasons;
    for (const auto& reason : verdict.reasons) {
        if (!reasons.empty()) reasons += "; ";
        reasons += reason;
    }
    append_field(line, "reasons", reasons);
    return line;
}

void log_decision(const Connection& connection, Stage stage, const Verdict& verdict,
                  std::string_view note) {
    const bool failure = is_failure_verdict(verdict);
    metrics().count_decision(stage, verdict.action, failure);
    log_line(failure ? LogLevel::Warning : LogLevel::Info,
             format_decision(connection, stage, verdict, note));
}

}  // namespace relaytrust::milter
