#include "auth/spf.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "auth/spf_macro.h"
#include "auth/spf_record.h"
#include "dns/names.h"

namespace relaytrust::auth {

std::string_view spf_result_name(SpfResultCode code) {
    switch (code) {
        case SpfResultCode::None:
            return "none";
        case SpfResultCode::Neutral:
            return "neutral";
        case SpfResultCode::Pass:
            return "pass";
        case SpfResultCode::Fail:
            return "fail";
        case SpfResultCode::SoftFail:
            return "softfail";
        case SpfResultCode::TempError:
            return "temperror";
        case SpfResultCode::PermError:
            return "permerror";
    }
    return "none";
}

std::optional<SpfResultCode> parse_spf_result_name(std::string_view name) {
    for (const SpfResultCode code :
         {SpfResultCode::None, SpfResultCode::Neutral, SpfResultCode::Pass, SpfResultCode::Fail,
          SpfResultCode::SoftFail, SpfResultCode::TempError, SpfResultCode::PermError}) {
        if (dns::same_name(name, spf_result_name(code))) return code;
    }
    return std::nullopt;
}

namespace {

using dns::Answer;
using dns::RecordType;
using Clock = std::chrono::steady_clock;

// Ends the evaluation with temperror / permerror from however deep it is.
struct Abort {
    SpfResultCode code;
    std::string problem;
};

// What one record (following redirects, not includes) decided.
struct Outcome {
    SpfResultCode code = SpfResultCode::Neutral;
    std::string mechanism;
    std::optional<MacroString> explanation;  // exp= of the deciding record
    std::string domain;                      // that record's domain, %{d} for the exp
};

SpfResultCode code_of(SpfQualifier qualifier) {
    switch (qualifier) {
        case SpfQualifier::Pass:
            return SpfResultCode::Pass;
        case SpfQualifier::Fail:
            return SpfResultCode::Fail;
        case SpfQualifier::SoftFail:
            return SpfResultCode::SoftFail;
        case SpfQualifier::Neutral:
            return SpfResultCode::Neutral;
    }
    return SpfResultCode::Neutral;
}

// The first `bits` bits (of the 128-bit form) of both addresses are equal.
bool same_prefix(const net::IpAddress& left, const net::IpAddress& right, unsigned bits) {
    unsigned bit = 0;
    for (; bit + 8 <= bits; bit += 8) {
        if (left.bytes[bit / 8] != right.bytes[bit / 8]) return false;
    }
    if (bit < bits) {
        const auto mask = std::uint8_t(0xff << (8 - (bits - bit)));
        if ((left.bytes[bit / 8] & mask) != (right.bytes[bit / 8] & mask)) return false;
    }
    return true;
}

bool is_suffix_domain(std::string_view name, std::string_view domain) {
    if (dns::same_name(name, domain)) return true;
    if (domain.ends_with('.')) domain.remove_suffix(1);
    if (name.ends_with('.')) name.remove_suffix(1);
    return name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
           dns::same_name(name.substr(name.size() - domain.size()), domain);
}

// RFC 7208 §4.3: a malformed or single-label <domain> yields "none" without any lookup.
bool is_checkable_domain(std::string_view domain) {
    if (!dns::is_queryable_name(domain)) return false;
    if (domain.ends_with('.')) domain.remove_suffix(1);
    if (domain.find('.') == std::string_view::npos) return false;
    return std::all_of(domain.begin(), domain.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte != 0x7f && c != '[' && c != ']';
    });
}

std::string describe(const Answer& answer) {
    std::string text(dns::status_name(answer.status));
    if (!answer.error.empty()) text += " (" + answer.error + ")";
    return text;
}

class Evaluator {
  public:
    Evaluator(dns::Resolver& resolver, const SpfOptions& options, const SpfRequest& request)
        : resolver_(resolver),
          options_(options),
          request_(request),
          deadline_(Clock::now() + options.time_limit) {}

    SpfResult run();

  private:
    dns::Resolver& resolver_;
    const SpfOptions& options_;
    const SpfRequest& request_;
    Clock::time_point deadline_;
    MacroValues values_;
    unsigned dns_terms_ = 0;
    unsigned voids_ = 0;
    std::optional<std::vector<std::string>> validated_names_;  // for %{p}

    RecordType address_type() const {
        return request_.client_ip.is_v4 ? RecordType::A : RecordType::AAAA;
    }

    Answer lookup(const std::string& name, RecordType type) {
        if (Clock::now() >= deadline_) {
            Answer late;
            late.status = dns::Status::Timeout;
            late.error = "SPF evaluation time limit reached";
            return late;
        }
        auto promise = std::make_shared<std::promise<Answer>>();
        std::future<Answer> answer = promise->get_future();
        resolver_.lookup(name, type,
                         [promise](Answer result) { promise->set_value(std::move(result)); });
        if (answer.wait_until(deadline_) != std::future_status::ready) {
            Answer late;
            late.status = dns::Status::Timeout;
            late.error = "SPF evaluation time limit reached";
            return late;
        }
        return answer.get();
    }

    void count_term(const std::string& term) {
        if (++dns_terms_ > options_.max_dns_mechanisms)
            throw Abort{SpfResultCode::PermError, "more than " +
                                                      std::to_string(options_.max_dns_mechanisms) +
                                                      " DNS-querying terms (at '" + term + "')"};
    }

    void note_void(const std::string& name) {
        if (++voids_ > options_.max_void_lookups)
            throw Abort{SpfResultCode::PermError, "more than " +
                                                      std::to_string(options_.max_void_lookups) +
                                                      " void DNS lookups (at " + name + ")"};
    }

    // The term's domain-spec expanded, or the current domain.
    std::string target_of(const SpfMechanism& mechanism, const std::string& domain) {
        if (!mechanism.domain) return domain;
        return expand_macros(*mechanism.domain, values_, true);
    }

    // The SPF record at `domain`; nullopt means "none" (reason in *why). Temporary DNS errors,
    // several records and syntax errors end the evaluation.
    std::optional<SpfRecord> fetch_record(const std::string& domain, bool counts_voids,
                                          std::string* why) {
        if (!dns::is_queryable_name(domain)) {
            *why = "'" + domain + "' is not a valid domain name";
            if (counts_voids) note_void(domain);
            return std::nullopt;
        }
        const Answer answer = lookup(domain, RecordType::TXT);
        if (answer.temporary_failure())
            throw Abort{SpfResultCode::TempError,
                        "DNS lookup of TXT " + domain + " failed: " + describe(answer)};
        if (answer.is_void()) {
            if (counts_voids) note_void(domain);
            *why = answer.status == dns::Status::NxDomain ? domain + " does not exist"
                                                          : "no TXT records at " + domain;
            return std::nullopt;
        }
        const std::string* found = nullptr;
        for (const std::string& text : answer.texts) {
            if (!is_spf_record(text)) continue;
            if (found)
                throw Abort{SpfResultCode::PermError, "more than one SPF record at " + domain};
            found = &text;
        }
        if (!found) {
            *why = "no SPF record at " + domain;
            return std::nullopt;
        }
        SpfParseResult parsed = parse_spf_record(*found);
        if (!parsed.record)
            throw Abort{SpfResultCode::PermError, "SPF record of " + domain + ": " + parsed.error};
        return std::move(parsed.record);
    }

    // The client's address is among the A/AAAA records of `name` (compared on `bits` bits).
    // Returns nullopt for a void answer; DNS errors end the evaluation when `errors_abort`.
    std::optional<bool> address_match(const std::string& name, unsigned bits, bool errors_abort) {
        if (!dns::is_queryable_name(name)) return std::nullopt;
        const Answer answer = lookup(name, address_type());
        if (answer.temporary_failure()) {
            if (!errors_abort) return false;
            throw Abort{SpfResultCode::TempError,
                        "DNS lookup of " + name + " failed: " + describe(answer)};
        }
        if (answer.is_void()) return std::nullopt;
        for (const std::string& text : answer.addresses) {
            const auto address = net::IpAddress::parse(text);
            if (address && same_prefix(*address, request_.client_ip, bits)) return true;
        }
        return false;
    }

    unsigned prefix_bits(const SpfMechanism& mechanism) const {
        return request_.client_ip.is_v4 ? 96 + mechanism.ip4_prefix : mechanism.ip6_prefix;
    }

    // PTR names of the client (at most max_ptr_names), or nullopt for a void answer; DNS
    // errors give an empty list (§5.5: a failed PTR lookup just does not match).
    std::optional<std::vector<std::string>> client_ptr_names() {
        const Answer answer = lookup(dns::reverse_lookup_name(request_.client_ip), RecordType::PTR);
        if (answer.temporary_failure()) return std::vector<std::string>{};
        if (answer.is_void()) return std::nullopt;
        std::vector<std::string> names = answer.names;
        if (names.size() > options_.max_ptr_names) names.resize(options_.max_ptr_names);
        return names;
    }

    // §5.5: a PTR name is validated when one of its addresses is the client's.
    bool validates(const std::string& name) {
        const auto matched = address_match(name, 128, false);
        return matched.value_or(false);
    }

    std::string validated_domain(const std::string& domain) {
        if (!validated_names_) {
            validated_names_.emplace();
            if (const auto names = client_ptr_names()) {
                for (const std::string& name : *names) {
                    if (validates(name)) validated_names_->push_back(name);
                }
            }
        }
        if (validated_names_->empty()) return "unknown";
        for (const std::string& name : *validated_names_) {
            if (dns::same_name(name, domain)) return name;
        }
        for (const std::string& name : *validated_names_) {
            if (is_suffix_domain(name, domain)) return name;
        }
        return validated_names_->front();
    }

    bool matches(const SpfMechanism& mechanism, const std::string& domain, int depth) {
        const net::IpAddress& client = request_.client_ip;
        switch (mechanism.kind) {
            case SpfMechanismKind::All:
                return true;
            case SpfMechanismKind::Ip4:
                return client.is_v4 &&
                       same_prefix(client, mechanism.network, 96 + mechanism.ip4_prefix);
            case SpfMechanismKind::Ip6:
                return !client.is_v4 &&
                       same_prefix(client, mechanism.network, mechanism.ip6_prefix);
            case SpfMechanismKind::A: {
                const std::string name = target_of(mechanism, domain);
                const auto matched = address_match(name, prefix_bits(mechanism), true);
                if (!matched) note_void(name);
                return matched.value_or(false);
            }
            case SpfMechanismKind::Mx: {
                const std::string name = target_of(mechanism, domain);
                if (!dns::is_queryable_name(name)) {
                    note_void(name);
                    return false;
                }
                Answer answer = lookup(name, RecordType::MX);
                if (answer.temporary_failure())
                    throw Abort{SpfResultCode::TempError,
                                "DNS lookup of MX " + name + " failed: " + describe(answer)};
                if (answer.is_void()) {
                    note_void(name);
                    return false;
                }
                std::stable_sort(answer.mx.begin(), answer.mx.end(),
                                 [](const dns::MxRecord& left, const dns::MxRecord& right) {
                                     return left.preference < right.preference;
                                 });
                // §4.6.4: more than max_mx_names address lookups → permerror. Checked when the
                // next lookup would be needed, so a match among the first ten still counts.
                unsigned looked_up = 0;
                for (const dns::MxRecord& mx : answer.mx) {
                    if (mx.exchange.empty()) continue;  // null MX (RFC 7505): no host
                    if (looked_up == options_.max_mx_names)
                        throw Abort{SpfResultCode::PermError,
                                    "more than " + std::to_string(options_.max_mx_names) +
                                        " MX names for " + name};
                    ++looked_up;
                    if (address_match(mx.exchange, prefix_bits(mechanism), true).value_or(false))
                        return true;
                }
                return false;
            }
            case SpfMechanismKind::Ptr: {
                const std::string target = target_of(mechanism, domain);
                const auto names = client_ptr_names();
                if (!names) {
                    note_void(dns::reverse_lookup_name(client));
                    return false;
                }
                // Only names under the target can match, so only those are validated.
                for (const std::string& name : *names) {
                    if (is_suffix_domain(name, target) && validates(name)) return true;
                }
                return false;
            }
            case SpfMechanismKind::Exists: {
                const std::string name = target_of(mechanism, domain);
                if (!dns::is_queryable_name(name)) {
                    note_void(name);
                    return false;
                }
                // §5.7: always an A query, whatever the client's address family.
                const Answer answer = lookup(name, RecordType::A);
                if (answer.temporary_failure())
                    throw Abort{SpfResultCode::TempError,
                                "DNS lookup of " + name + " failed: " + describe(answer)};
                if (answer.is_void()) {
                    note_void(name);
                    return false;
                }
                return true;
            }
            case SpfMechanismKind::Include: {
                const std::string target = target_of(mechanism, domain);
                std::string why;
                const auto record = fetch_record(target, true, &why);
                if (!record)
                    throw Abort{SpfResultCode::PermError, "'" + mechanism.text + "': " + why};
                // §5.2: pass matches; fail, softfail and neutral do not; errors propagate.
                return evaluate(*record, target, depth + 1).code == SpfResultCode::Pass;
            }
        }
        return false;
    }

    Outcome evaluate(const SpfRecord& record, const std::string& domain, int depth) {
        if (depth > 64)  // unreachable with the lookup limit; guards custom huge limits
            throw Abort{SpfResultCode::PermError, "include/redirect nesting too deep"};
        const std::string outer_domain = std::move(values_.domain);
        values_.domain = domain;
        struct Restore {
            MacroValues& values;
            const std::string& domain;
            ~Restore() { values.domain = domain; }
        } restore{values_, outer_domain};

        for (const SpfMechanism& mechanism : record.mechanisms) {
            if (mechanism.counts_as_lookup()) count_term(mechanism.text);
            if (matches(mechanism, domain, depth))
                return Outcome{code_of(mechanism.qualifier), mechanism.text, record.explanation,
                               domain};
        }
        if (record.redirect) {
            const std::string term = "redirect=" + record.redirect->text;
            count_term(term);
            const std::string target = expand_macros(*record.redirect, values_, true);
            std::string why;
            const auto next = fetch_record(target, true, &why);
            if (!next) throw Abort{SpfResultCode::PermError, "'" + term + "': " + why};
            // §6.1: the redirect target's result is the result, its exp= included.
            return evaluate(*next, target, depth + 1);
        }
        return Outcome{SpfResultCode::Neutral, "default", record.explanation, domain};
    }

    // §6.2: problems with the explanation never change the result; they just drop it.
    std::string explanation(const Outcome& outcome) {
        if (!outcome.explanation) return options_.default_explanation;
        values_.domain = outcome.domain;
        const std::string name = expand_macros(*outcome.explanation, values_, true);
        if (!dns::is_queryable_name(name)) return options_.default_explanation;
        const Answer answer = lookup(name, RecordType::TXT);
        if (!answer.ok() || answer.texts.size() != 1) return options_.default_explanation;
        const auto text = parse_macro_string(answer.texts.front(), MacroContext::Explanation);
        if (!text) return options_.default_explanation;
        return expand_macros(*text, values_, false);
    }
};

SpfResult Evaluator::run() {
    SpfResult result;
    result.identity = request_.identity;
    result.client_ip = request_.client_ip;
    result.helo = request_.helo;
    result.receiver = request_.receiver;

    std::string local_part = "postmaster";
    std::string domain = request_.helo;
    if (request_.identity == SpfIdentity::MailFrom) {
        std::string_view address = request_.mail_from;
        if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
            address = address.substr(1, address.size() - 2);
        if (!address.empty()) {
            const std::size_t at = address.rfind('@');
            if (at == std::string_view::npos) {
                domain = std::string(address);
            } else {
                if (at > 0) local_part = std::string(address.substr(0, at));
                domain = std::string(address.substr(at + 1));
            }
        }
    }
    if (domain.ends_with('.')) domain.pop_back();
    result.domain = domain;
    result.sender = local_part + "@" + domain;

    values_.sender = result.sender;
    values_.local_part = local_part;
    values_.sender_domain = domain;
    values_.domain = domain;
    values_.client_ip = request_.client_ip;
    values_.helo = request_.helo;
    values_.receiver = request_.receiver;
    values_.timestamp = options_.timestamp.value_or(std::int64_t(std::time(nullptr)));
    values_.validated_domain = [this](const std::string& current) {
        return validated_domain(current);
    };

    if (!is_checkable_domain(domain)) {
        result.code = SpfResultCode::None;
        result.problem = domain.empty() ? "no domain to check"
                                        : "'" + domain + "' is not a valid multi-label domain name";
        return result;
    }
    try {
        std::string why;
        const auto record = fetch_record(domain, false, &why);
        if (!record) {
            result.code = SpfResultCode::None;
            result.problem = why;
        } else {
            const Outcome outcome = evaluate(*record, domain, 0);
            result.code = outcome.code;
            result.mechanism = outcome.mechanism;
            if (outcome.code == SpfResultCode::Fail) result.explanation = explanation(outcome);
        }
    } catch (const Abort& abort) {
        result.code = abort.code;
        result.problem = abort.problem;
    }
    result.dns_lookups = dns_terms_;
    result.void_lookups = voids_;
    return result;
}

// RFC 5322 dot-atom: the value needs no quotes in a Received-SPF key=value pair.
bool is_dot_atom(std::string_view text) {
    if (text.empty() || text.front() == '.' || text.back() == '.') return false;
    static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
    char previous = 0;
    for (const char c : text) {
        const bool atext = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || kSpecials.find(c) != std::string_view::npos;
        if (c == '.') {
            if (previous == '.') return false;
        } else if (!atext) {
            return false;
        }
        previous = c;
    }
    return true;
}

// Header-safe text: control characters (CR/LF would end the header) become '?'.
std::string header_safe(std::string_view text) {
    std::string safe(text);
    for (char& c : safe) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) c = '?';
    }
    return safe;
}

std::string quoted_value(std::string_view text) {
    const std::string safe = header_safe(text);
    if (is_dot_atom(safe)) return safe;
    std::string quoted = "\"";
    for (const char c : safe) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

std::string comment_safe(std::string_view text) {
    std::string safe;
    for (const char c : header_safe(text)) {
        if (c == '(' || c == ')' || c == '\\') safe += '\\';
        safe += c;
    }
    return safe;
}

}  // namespace

SpfResult evaluate_spf(dns::Resolver& resolver, const SpfRequest& request,
                       const SpfOptions& options) {
    return Evaluator(resolver, options, request).run();
}

std::string SpfResult::comment() const {
    const std::string ip = client_ip.to_string();
    switch (code) {
        case SpfResultCode::Pass:
            return "domain of " + sender + " designates " + ip + " as permitted sender";
        case SpfResultCode::Fail:
            return "domain of " + sender + " does not designate " + ip + " as permitted sender";
        case SpfResultCode::SoftFail:
            return "domain of transitioning " + sender + " does not designate " + ip +
                   " as permitted sender";
        case SpfResultCode::Neutral:
            return ip + " is neither permitted nor denied by domain of " + sender;
        case SpfResultCode::None:
            return "domain of " + sender + " does not designate permitted sender hosts";
        case SpfResultCode::TempError:
            return "temporary error in processing during lookup of " + sender + ": " + problem;
        case SpfResultCode::PermError:
            return "permanent error in processing domain of " + domain + ": " + problem;
    }
    return {};
}

std::string SpfResult::received_spf() const {
    const std::string who = receiver.empty() ? "unknown" : receiver;
    std::string text = std::string(result_name()) + " (" + comment_safe(who) + ": " +
                       comment_safe(comment()) + ")";
    text += " client-ip=" + client_ip.to_string() + ";";
    if (identity == SpfIdentity::MailFrom) text += " envelope-from=" + quoted_value(sender) + ";";
    if (!helo.empty()) text += " helo=" + quoted_value(helo) + ";";
    text += " receiver=" + quoted_value(who) + ";";
    if (!mechanism.empty()) text += " mechanism=" + quoted_value(mechanism) + ";";
    if (!problem.empty() && (code == SpfResultCode::PermError || code == SpfResultCode::TempError))
        text += " problem=" + quoted_value(problem) + ";";
    text += identity == SpfIdentity::MailFrom ? " identity=mailfrom" : " identity=helo";
    return text;
}

std::string SpfResult::authentication_results() const {
    std::string text = "spf=" + std::string(result_name());
    if (identity == SpfIdentity::MailFrom) {
        text += " smtp.mailfrom=" + quoted_value(domain);
    } else {
        text += " smtp.helo=" + quoted_value(helo);
    }
    return text;
}

SpfVerifier::SpfVerifier(std::shared_ptr<dns::Resolver> resolver, SpfOptions options,
                         unsigned worker_threads)
    : resolver_(std::move(resolver)), options_(std::move(options)) {
    worker_threads = std::max(1u, worker_threads);
    for (unsigned i = 0; i < worker_threads; ++i)
        workers_.emplace_back([this] { worker_loop(); });
}

SpfVerifier::~SpfVerifier() {
    std::deque<Job> abandoned;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        abandoned.swap(queue_);
    }
    wakeup_.notify_all();
    for (std::thread& worker : workers_)
        worker.join();
    for (Job& job : abandoned) {
        SpfResult result;
        result.code = SpfResultCode::TempError;
        result.problem = "SPF verifier shutting down";
        result.client_ip = job.request.client_ip;
        result.helo = job.request.helo;
        result.identity = job.request.identity;
        job.done(std::move(result));
    }
}

void SpfVerifier::worker_loop() {
    while (true) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wakeup_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job.done(evaluate_spf(*resolver_, job.request, options_));
    }
}

void SpfVerifier::start_spf(SpfRequest request, std::function<void(SpfResult)> done) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Job{std::move(request), std::move(done)});
    }
    wakeup_.notify_one();
}

std::shared_future<SpfResult> SpfVerifier::start_spf(SpfRequest request) {
    auto promise = std::make_shared<std::promise<SpfResult>>();
    std::shared_future<SpfResult> future = promise->get_future().share();
    start_spf(std::move(request),
              [promise](SpfResult result) { promise->set_value(std::move(result)); });
    return future;
}

SpfResult SpfVerifier::check(const SpfRequest& request) const {
    return evaluate_spf(*resolver_, request, options_);
}

}  // namespace relaytrust::auth
