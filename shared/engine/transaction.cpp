#include "engine/transaction.h"

#include <algorithm>
#include <charconv>
#include <exception>

#include "engine/concat.h"
#include "engine/variables.h"
#include "headers/authentication_results.h"
#include "headers/verdict_header_parser.h"

namespace relaytrust {

namespace {
std::string_view domain_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

// "%.2f", as snprintf wrote it into a 32-byte buffer (hence at most 31 characters), without
// printf's format parsing: to_chars with a precision is specified to print exactly as printf.
std::string format_score(double score) {
    char buf[320];  // the longest double in fixed notation with two decimals fits
    const auto [end, error] =
        std::to_chars(buf, buf + sizeof buf, score, std::chars_format::fixed, 2);
    const std::size_t length = error == std::errc() ? static_cast<std::size_t>(end - buf) : 0;
    return std::string(buf, std::min<std::size_t>(length, 31));
}

// A count in decimal, without a std::string of its own.
class DecimalText {
  public:
    explicit DecimalText(std::size_t n) {
        const char* end = std::to_chars(buf_, buf_ + sizeof buf_, n).ptr;
        length_ = static_cast<std::size_t>(end - buf_);
    }
    std::string_view view() const { return {buf_, length_}; }

  private:
    char buf_[24];  // 20 digits hold any 64-bit count
    std::size_t length_ = 0;
};

std::string_view or_none(const std::string& text) {
    return text.empty() ? std::string_view("none") : std::string_view(text);
}
}  // namespace

// Reads variables straight from the session and the analysis: no copies of session strings.
class Transaction::EvalContext final : public expr::Context {
  public:
    EvalContext(const Transaction& t, Stage stage) : t_(t), stage_(stage) {}

    expr::Value variable(expr::VariableId id) const override {
        const Session& s = t_.session_;
        const TrustAnalysis& a = t_.analysis_;
        if (id >= kFirstConstantId) {
            auto it = t_.policy_->constants.begin();
            std::advance(it, id - kFirstConstantId);
            return it->second;
        }
        switch (static_cast<Variable>(id)) {
            case Variable::Listener:
                return expr::Value::borrowed(s.listener);
            case Variable::RemoteIp:
                return expr::Value::borrowed(s.remote_ip);
            case Variable::RemotePort:
                return expr::Value(static_cast<std::int64_t>(s.remote_port));
            case Variable::LocalIp:
                return expr::Value::borrowed(s.local_ip);
            case Variable::LocalPort:
                return expr::Value(static_cast<std::int64_t>(s.local_port));
            case Variable::Protocol:
                return expr::Value::borrowed(s.protocol);
            case Variable::IsTls:
                return expr::Value(s.is_tls());
            case Variable::HeloDomain:
                return expr::Value::borrowed(s.helo);
            case Variable::AuthenticatedAs:
                return expr::Value::borrowed(s.authenticated_as);
            case Variable::Sender:
                return expr::Value::borrowed(s.mail_from);
            case Variable::SenderDomain:
                return expr::Value::borrowed(domain_of(s.mail_from));
            case Variable::Rcpt:
                return s.recipients.empty() ? expr::Value::borrowed("")
                                            : expr::Value::borrowed(s.recipients.back());
            case Variable::RcptDomain:
                return s.recipients.empty() ? expr::Value::borrowed("")
                                            : expr::Value::borrowed(domain_of(s.recipients.back()));
            case Variable::Recipients: {
                expr::Value::List list;
                list.reserve(s.recipients.size());
                for (const auto& r : s.recipients)
                    list.push_back(expr::Value::borrowed(r));
                return expr::Value::list(std::move(list));
            }
            case Variable::Stage:
                return expr::Value::borrowed(stage_name(stage_));
            case Variable::QueueId:
                return expr::Value::borrowed(s.queue_id);
            case Variable::TlsVersion:
                return expr::Value::borrowed(s.tls_version);
            case Variable::RemoteHost:
                return expr::Value::borrowed(s.remote_host);
            case Variable::Relay:
                return expr::Value::borrowed(t_.relay_ ? std::string_view(t_.relay_->name) : "");
            case Variable::IsRelay:
                return expr::Value(t_.relay_ != nullptr);
            case Variable::SpamTrusted:
                return expr::Value(a.spam_trusted);
            case Variable::SpamVerdict:
                return expr::Value::borrowed(a.spam_verdict);
            case Variable::SpamScore:
                return expr::Value(a.spam_score);
            case Variable::SpamRequired:
                return expr::Value(a.spam_required);
            case Variable::SpamTests: {
                expr::Value::List list;
                for (const auto& test : a.spam_tests)
                    list.push_back(expr::Value::borrowed(test));
                return expr::Value::list(std::move(list));
            }
            case Variable::VirusFound:
                return expr::Value(a.virus_found);
            case Variable::VirusName:
                return expr::Value::borrowed(a.virus_name);
            case Variable::StrippedCount:
                return expr::Value(static_cast<std::int64_t>(a.stripped_count()));
            case Variable::BodySize:
                return expr::Value(static_cast<std::int64_t>(s.body_size));
            case Variable::SpfResult:
                return expr::Value::borrowed(t_.auth_outcome().spf_result);
            case Variable::SpfDomain:
                return expr::Value::borrowed(t_.auth_outcome().spf_domain);
            case Variable::DkimResult:
                return expr::Value::borrowed(t_.auth_outcome().dkim_result);
            case Variable::DkimDomains: {
                expr::Value::List list;
                for (const auto& d : t_.auth_outcome().dkim_pass_domains) {
                    list.push_back(expr::Value::borrowed(d));
                }
                return expr::Value::list(std::move(list));
            }
            case Variable::DmarcResult:
                return expr::Value::borrowed(t_.auth_outcome().dmarc_result);
            case Variable::DmarcPolicy:
                return expr::Value::borrowed(t_.auth_outcome().dmarc_policy);
            case Variable::DmarcFrom:
                return expr::Value::borrowed(t_.auth_outcome().dmarc_from);
            case Variable::OriginIp:
                return expr::Value::borrowed(t_.auth_outcome().origin_ip);
            case Variable::OriginHelo:
                return expr::Value::borrowed(t_.auth_outcome().origin_helo);
            case Variable::AuthSource:
                return expr::Value::borrowed(t_.auth_outcome().source);
            case Variable::Count_:
                break;
        }
        return {};
    }

    std::optional<std::string_view> header(std::string_view name) const override {
        for (const auto& [n, v] : unfolded_) {
            if (headers::iequals(n, name)) return std::string_view(v);
        }
        for (const auto& h : t_.session_.headers) {
            if (headers::iequals(h.name, name)) {
                unfolded_.emplace_back(h.name, headers::unfold(h.raw_value));
                return std::string_view(unfolded_.back().second);
            }
        }
        return std::nullopt;
    }

  private:
    const Transaction& t_;
    Stage stage_;
    // Unfolded values of headers asked for; a deque-like list keeps views stable.
    mutable std::vector<std::pair<std::string, std::string>> unfolded_;
};

Transaction::Transaction(std::shared_ptr<const Policy> policy, std::shared_ptr<AuthServices> auth)
    : policy_(std::move(policy)), auth_services_(std::move(auth)) {}

Transaction::~Transaction() = default;

const AuthOutcome& Transaction::auth_outcome() const {
    static const AuthOutcome kNone;
    // What a MessageAuthentication with every check off reports once finished.
    static const AuthOutcome kOffFinished = [] {
        AuthOutcome o;
        o.source = "none";
        return o;
    }();
    if (auth_) return auth_->outcome();
    return auth_off_ == AuthOff::Finished ? kOffFinished : kNone;
}

const std::string& Transaction::authserv_id() const {
    return policy_->auth.authserv_id.empty() ? our_hostname() : policy_->auth.authserv_id;
}

void Transaction::start_authentication() {
    EvalContext context(*this, Stage::Mail);
    auto mode_of = [&](const PolicyExpression& e) {
        AuthMode mode = AuthMode::Disable;
        parse_auth_mode(e.evaluate(context).to_string(), mode);
        return mode;
    };
    const AuthMode spf = mode_of(policy_->auth.spf_verify);
    const AuthMode dkim = mode_of(policy_->auth.dkim_verify);
    const AuthMode dmarc = mode_of(policy_->auth.dmarc_verify);
    // Every check off (a policy without sender authentication, or no DNS services): no
    // per-message state to build, feed and tear down; auth_outcome() says what such a
    // MessageAuthentication would.
    if (!auth_services_ ||
        (spf == AuthMode::Disable && dkim == AuthMode::Disable && dmarc == AuthMode::Disable)) {
        auth_off_ = AuthOff::Started;
        return;
    }
    auth_ = std::make_unique<MessageAuthentication>(auth_services_, policy_->auth);
    auth_->set_modes(spf, dkim, dmarc, relay_ != nullptr, relay_ ? relay_->name : "");
    auth_->on_mail(session_, our_hostname());
}

const std::string& Transaction::our_hostname() const {
    if (!policy_->hostname.empty()) return policy_->hostname;
    if (!session_.mta_hostname.empty()) return session_.mta_hostname;
    return policy_->system_hostname;
}

Verdict Transaction::failure_verdict(std::string reason) const {
    Verdict v;
    const FailureMode mode = listener_ ? listener_->on_error : FailureMode{};
    v.action = mode.action;
    v.reply = mode.reply;
    v.rule = "on_error";
    v.reasons.push_back(std::move(reason));
    return v;
}

Verdict Transaction::connect() {
    try {
        // A front end that already knows the listener by name (the CLI) names it; otherwise
        // the policy recognises it from the clues the MTA gave.
        listener_ = session_.listener.empty() ? nullptr : policy_->find_listener(session_.listener);
        if (!listener_) listener_ = policy_->identify_listener(session_);
        session_.listener = listener_ ? listener_->name : "";
        relay_ = listener_ ? find_trusted_relay(*listener_, session_) : nullptr;
    } catch (const std::exception& e) {
        return failure_verdict(std::string("engine error at connect: ") + e.what());
    }
    return run_stage(Stage::Connect);
}

Verdict Transaction::ehlo(std::string helo) {
    session_.helo = std::move(helo);
    return run_stage(Stage::Ehlo);
}

Verdict Transaction::mail(std::string sender) {
    // The queue id may come with MAIL (Sendmail) and belongs to this message: keep it.
    std::string queue_id = std::move(session_.queue_id);
    reset_message();
    session_.queue_id = std::move(queue_id);
    session_.mail_from = std::move(sender);
    try {
        start_authentication();
    } catch (const std::exception& e) {
        return failure_verdict(std::string("engine error starting authentication: ") + e.what());
    }
    return run_stage(Stage::Mail);
}

Verdict Transaction::rcpt(std::string recipient) {
    session_.recipients.push_back(std::move(recipient));
    Verdict v = run_stage(Stage::Rcpt);
    // A refused recipient is not part of the message.
    if (v.action == Action::Reject || v.action == Action::Tempfail) session_.recipients.pop_back();
    return v;
}

void Transaction::header(std::string name, std::string raw_value) {
    session_.headers.push_back({std::move(name), std::move(raw_value)});
    const Header& h = session_.headers.back();
    const std::size_t own_before = received_layout_.own_received_count;
    received_layout_.add(*policy_, session_, h, session_.headers.size() - 1);
    if (!auth_) return;
    const bool own = received_layout_.own_received_count != own_before;
    auth_->on_header(session_, h, own, our_hostname());
}

void Transaction::body(std::string_view chunk) {
    session_.body_size += chunk.size();
    if (auth_) auth_->on_body(chunk);
}

bool Transaction::wants_body() const {
    return auth_ && auth_->wants_body();
}
void Transaction::body_skipped(std::size_t size) {
    session_.body_size += size;
}
Verdict Transaction::data() {
    try {
        analysis_ = analyse_verdict_headers(*policy_, relay_, session_, &received_layout_);
        if (auth_) {
            auth_->finish(session_);
        } else if (auth_off_ == AuthOff::Started) {
            auth_off_ = AuthOff::Finished;
        }
    } catch (const std::exception& e) {
        return failure_verdict(std::string("engine error analysing headers: ") + e.what());
    }
    return run_stage(Stage::Data);
}

void Transaction::reset_message() {
    session_.reset_message();
    analysis_ = TrustAnalysis{};
    auth_.reset();
    auth_off_ = AuthOff::No;
    received_layout_ = ReceivedLayout{};
    quarantine_for_message_.reset();
}

Verdict Transaction::run_stage(Stage stage) {
    try {
        return run_rules(stage);
    } catch (const std::exception& e) {
        return failure_verdict("engine error at " + std::string(stage_name(stage)) + ": " +
                               e.what());
    }
}

Verdict Transaction::run_rules(Stage stage) {
    Verdict verdict;
    // The data stage adds a few reasons of its own below: room for them up front.
    verdict.reasons.reserve(stage == Stage::Data ? 4 : 1);
    const Rule* decided = nullptr;
    EvalContext context(*this, stage);
    for (const Rule& rule : policy_->rules_by_stage[static_cast<std::size_t>(stage)]) {
        if (!rule.condition.evaluate_bool(context)) continue;
        decided = &rule;
        verdict.action = rule.action;
        verdict.reply = rule.reply;
        verdict.rule = rule.name;
        verdict.reasons.push_back(
            concat({"rule '", rule.name, "' matched (", rule.source_location, ")"}));
        break;
    }
    if (!decided) verdict.reasons.push_back("no rule matched");
    if (stage != Stage::Data && verdict.action == Action::Quarantine) {
        auto& slot = stage == Stage::Connect || stage == Stage::Ehlo ? quarantine_for_connection_
                                                                     : quarantine_for_message_;
        if (!slot) slot = EarlierQuarantine{stage, decided, verdict};
    }
    if (stage == Stage::Data) {
        for (const auto* earlier : {&quarantine_for_connection_, &quarantine_for_message_}) {
            if (!*earlier || action_severity(verdict.action) >= action_severity(Action::Quarantine))
                continue;
            const EarlierQuarantine& q = **earlier;
            verdict.action = Action::Quarantine;
            verdict.reply = q.verdict.reply;
            verdict.rule = q.verdict.rule;
            verdict.reasons.push_back("quarantined since " + std::string(stage_name(q.stage)) +
                                      (q.rule ? " by rule '" + q.rule->name + "'" : ""));
            // The data rule's own decorations (subject tag, headers) still apply: only rules
            // at data may have them, and a held message may as well carry them.
        }
        const std::string score = format_score(analysis_.spam_score);
        if (analysis_.spam_trusted) {
            const std::string_view spam_verdict = analysis_.spam_verdict.empty()
                                                      ? std::string_view("unknown")
                                                      : std::string_view(analysis_.spam_verdict);
            verdict.reasons.push_back(concat({"trusted verdict from relay '", analysis_.relay->name,
                                              "': ", spam_verdict, ", score ", score}));
        }
        if (analysis_.virus_found) {
            const std::string_view name = analysis_.virus_name.empty()
                                              ? std::string_view("infected")
                                              : std::string_view(analysis_.virus_name);
            verdict.reasons.push_back(concat({"trusted virus report: ", name}));
        }
        if (std::size_t n = analysis_.stripped_count(); n > 0) {
            verdict.reasons.push_back(
                concat({DecimalText(n).view(), " untrusted verdict header(s) removed"}));
        }
        enforce_authentication(verdict);
        add_data_modifications(decided, verdict, score);
    }
    return verdict;
}

void Transaction::enforce_authentication(Verdict& verdict) const {
    if (!auth_) return;
    const AuthOutcome& a = auth_->outcome();
    const AuthSettings& s = policy_->auth;
    std::optional<Verdict> enforced;
    auto enforce = [&](Action action, const SmtpReply& reply, std::string why) {
        if (enforced && action_severity(enforced->action) >= action_severity(action)) return;
        enforced = Verdict{};
        enforced->action = action;
        if (action != Action::Quarantine) enforced->reply = reply;
        enforced->rule = "auth";
        enforced->reasons.push_back(std::move(why));
    };
    if (a.spf_mode == AuthMode::Strict) {
        if (a.spf_result == "fail") {
            enforce(Action::Reject, s.spf_fail_reply, "strict SPF: fail for " + a.spf_domain);
        } else if (a.spf_result == "temperror") {
            enforce(s.on_temperror.action, s.on_temperror.reply, "strict SPF: temperror");
        }
    }
    if (a.dmarc_mode == AuthMode::Strict) {
        if (a.dmarc_result == "fail" && a.dmarc_policy == "reject") {
            enforce(Action::Reject, s.dmarc_reject_reply,
                    "strict DMARC: fail, policy reject for " + a.dmarc_from);
        } else if (a.dmarc_result == "fail" && a.dmarc_policy == "quarantine") {
            enforce(Action::Quarantine, {},
                    "strict DMARC: fail, policy quarantine for " + a.dmarc_from);
        } else if (a.dmarc_result == "temperror") {
            enforce(s.on_temperror.action, s.on_temperror.reply, "strict DMARC: temperror");
        }
    }
    if (!enforced || action_severity(enforced->action) <= action_severity(verdict.action)) return;
    verdict.action = enforced->action;
    verdict.reply = enforced->reply;
    verdict.rule = enforced->rule;
    for (auto& r : enforced->reasons)
        verdict.reasons.push_back(std::move(r));
}

void Transaction::add_data_modifications(const Rule* rule, Verdict& verdict,
                                         std::string_view score) const {
    // Nothing reaches a mailbox after these: edits would be noise for the MTA.
    if (verdict.action == Action::Reject || verdict.action == Action::Tempfail ||
        verdict.action == Action::Discard) {
        return;
    }
    using Kind = Modification::Kind;
    auto& mods = verdict.modifications;
    const std::size_t stripped = analysis_.stripped_count();
    // The usual edits: the deletions, a subject tag, the rule's headers, our
    // Authentication-Results and our result header.
    mods.reserve(mods.size() + stripped + (rule ? rule->add_headers.size() : 0) + 3);

    // Remove untrusted instances, per name from the highest occurrence down so that the
    // indices of those still to delete do not move (milter and Stalwart both renumber).
    std::vector<const HeaderDecision*> strip;
    for (const auto& d : analysis_.decisions) {
        if (!d.trusted) strip.push_back(&d);
    }
    std::stable_sort(strip.begin(), strip.end(),
                     [](const auto* a, const auto* b) { return a->occurrence > b->occurrence; });
    for (const auto* d : strip)
        mods.push_back({Kind::DeleteHeader, d->name, "", d->occurrence});

    if (rule && !rule->subject_tag.empty()) {
        auto subject =
            std::find_if(session_.headers.begin(), session_.headers.end(),
                         [](const Header& h) { return headers::iequals(h.name, "Subject"); });
        if (subject == session_.headers.end()) {
            mods.push_back({Kind::InsertHeader, "Subject", rule->subject_tag, 0});
        } else {
            std::string unfolded;  // only filled for a folded subject
            const std::string_view current = headers::unfold(subject->raw_value, unfolded);
            if (!current.starts_with(rule->subject_tag)) {
                mods.push_back(
                    {Kind::ChangeHeader, "Subject", concat({rule->subject_tag, current}), 1});
            }
        }
    }
    if (rule) {
        for (const auto& [name, value] : rule->add_headers) {
            mods.push_back({Kind::InsertHeader, name, value, 0});
        }
    }

    // Authentication-Results: drop every incoming copy that claims to be ours (highest
    // occurrence first), then write our own when anything was evaluated.
    {
        std::vector<int> forged;
        int occurrence = 0;
        for (const auto& h : session_.headers) {
            if (!headers::iequals(h.name, "Authentication-Results")) continue;
            ++occurrence;
            auto ar = headers::parse_authentication_results(h.raw_value);
            if (headers::iequals(ar.authserv_id, authserv_id())) forged.push_back(occurrence);
        }
        for (auto it = forged.rbegin(); it != forged.rend(); ++it) {
            mods.push_back({Kind::DeleteHeader, "Authentication-Results", "", *it});
        }
        const AuthOutcome& a = auth_outcome();
        if (auth_ && (a.spf_mode != AuthMode::Disable || a.dkim_mode != AuthMode::Disable ||
                      a.dmarc_mode != AuthMode::Disable)) {
            mods.push_back({Kind::InsertHeader, "Authentication-Results",
                            auth_->authentication_results(authserv_id()), 0});
        }
    }

    if (policy_->result_header.enabled) {
        const std::string_view spam = analysis_.spam_verdict.empty()     ? "unknown"
                                      : analysis_.spam_verdict == "spam" ? "yes"
                                                                         : "no";
        const std::string_view relay_label = analysis_.relay ? "; relay=" : "";
        const std::string_view relay_name =
            analysis_.relay ? std::string_view(analysis_.relay->name) : "";
        std::string value = concat(
            {our_hostname(), "; action=", action_name(verdict.action),
             "; rule=", or_none(verdict.rule), "; listener=", or_none(session_.listener),
             "; trusted=", analysis_.spam_trusted ? "yes" : "no", relay_label, relay_name,
             "; spam=", spam, "; score=", score, "; virus=", analysis_.virus_found ? "yes" : "no",
             "; stripped=", DecimalText(stripped).view()});
        mods.push_back({Kind::InsertHeader, policy_->result_header.name, std::move(value), 0});
    }
}

}  // namespace relaytrust
