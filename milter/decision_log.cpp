#include "decision_log.h"

#include "log.h"

namespace relaytrust::milter {

namespace {
// Quotes a value for a key="value" pair; the reasons contain spaces and quotes of their own.
void append_quoted(std::string& out, std::string_view text) {
    out += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += (c == '\r' || c == '\n') ? ' ' : c;
    }
    out += '"';
}
}  // namespace

std::string format_decision(const Connection& connection, std::string_view stage,
                            const Verdict& verdict, std::string_view note) {
    const Session& session = connection.transaction.session();
    std::string line = session.queue_id.empty() ? "NOQUEUE" : session.queue_id;
    line += ": stage=";
    line += stage;
    line += " action=";
    line += action_name(verdict.action);
    line += " listener=" + (session.listener.empty() ? std::string("none") : session.listener);
    line += " client=" + (connection.client.empty() ? std::string("unknown") : connection.client);
    if (!session.mail_from.empty() || stage == "data") {
        line += " from=<" + session.mail_from + ">";
    }
    line += " rule=" + (verdict.rule.empty() ? std::string("none") : verdict.rule);
    if (verdict.action == Action::Reject || verdict.action == Action::Tempfail) {
        SmtpReply reply = verdict.effective_reply();
        std::string text = std::to_string(reply.code);
        if (!reply.enhanced.empty()) text += " " + reply.enhanced;
        text += " " + reply.text;
        line += " reply=";
        append_quoted(line, text);
    }
    if (!verdict.modifications.empty()) {
        line += " edits=" + std::to_string(verdict.modifications.size());
    }
    if (!note.empty()) {
        line += " note=";
        append_quoted(line, note);
    }
    std::string reasons;
    for (const auto& reason : verdict.reasons) {
        if (!reasons.empty()) reasons += "; ";
        reasons += reason;
    }
    line += " reasons=";
    append_quoted(line, reasons);
    return line;
}

void log_decision(const Connection& connection, std::string_view stage, const Verdict& verdict,
                  std::string_view note) {
    log_info(format_decision(connection, stage, verdict, note));
}

}  // namespace relaytrust::milter
