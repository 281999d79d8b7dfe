#include "auth/dmarc_verifier.h"

#include <algorithm>
#include <random>

#include "auth/dkim_lookup.h"
#include "auth/dkim_text.h"
#include "auth/dmarc_author.h"

namespace relaytrust::auth {

struct DmarcVerifier::RecordAt {
    enum class Kind : std::uint8_t { Absent, Found, Invalid, TempError } kind = Kind::Absent;
    DmarcRecord record;
    std::string detail;
};

namespace {

constexpr std::size_t kTreeWalkMaxLabels = 7;  // after the author domain (RFC 9989 §4.10)

std::vector<std::string_view> labels_of(std::string_view domain) {
    std::vector<std::string_view> labels;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = domain.find('.', start);
        labels.push_back(domain.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return labels;
}

// The last `count` labels of `domain`.
std::string suffix_with_labels(std::string_view domain, std::size_t count) {
    const std::vector<std::string_view> labels = labels_of(domain);
    std::string out;
    for (std::size_t i = labels.size() - std::min(count, labels.size()); i < labels.size(); ++i) {
        if (!out.empty()) out += '.';
        out += labels[i];
    }
    return out;
}

// Lower-case and drop leading/trailing dots; empty when the rest is not a valid name.
std::string normalize_domain(std::string_view domain) {
    domain = trim_dkim_whitespace(domain);
    while (!domain.empty() && domain.front() == '.')
        domain.remove_prefix(1);
    while (!domain.empty() && domain.back() == '.')
        domain.remove_suffix(1);
    std::string lower = ascii_lower(domain);
    return is_valid_domain_name(lower) ? lower : std::string();
}

DmarcPolicy one_step_lower(DmarcPolicy policy) {
    return policy == DmarcPolicy::Reject ? DmarcPolicy::Quarantine : DmarcPolicy::None;
}

bool random_in_sample(unsigned percent) {
    thread_local std::mt19937 generator{std::random_device{}()};
    return std::uniform_int_distribution<unsigned>(0, 99)(generator) < percent;
}

}  // namespace

std::string_view dmarc_status_name(DmarcStatus status) {
    switch (status) {
        case DmarcStatus::None:
            return "none";
        case DmarcStatus::Pass:
            return "pass";
        case DmarcStatus::Fail:
            return "fail";
        case DmarcStatus::TempError:
            return "temperror";
        case DmarcStatus::PermError:
            return "permerror";
    }
    return "none";
}

std::string_view dmarc_alignment_name(DmarcAlignment alignment) {
    switch (alignment) {
        case DmarcAlignment::None:
            return "none";
        case DmarcAlignment::Pass:
            return "pass";
        case DmarcAlignment::Fail:
            return "fail";
    }
    return "none";
}

std::string_view dmarc_policy_tag_name(DmarcPolicyTag tag) {
    switch (tag) {
        case DmarcPolicyTag::None:
            return "";
        case DmarcPolicyTag::P:
            return "p";
        case DmarcPolicyTag::Sp:
            return "sp";
        case DmarcPolicyTag::Np:
            return "np";
    }
    return "";
}

std::vector<DmarcIdentifier> dmarc_dkim_identifiers(const std::vector<DkimResult>& results,
                                                    bool accept_sha1) {
    std::vector<DmarcIdentifier> identifiers;
    for (const DkimResult& result : results) {
        if (result.domain.empty()) continue;
        const bool pass = result.status == DkimStatus::Pass && (accept_sha1 || !result.weak_sha1);
        identifiers.push_back(DmarcIdentifier{result.domain, pass});
    }
    return identifiers;
}

DmarcVerifier::DmarcVerifier(dns::Resolver& resolver, DmarcOptions options)
    : resolver_(resolver), options_(std::move(options)) {
    if (!options_.in_sample) options_.in_sample = random_in_sample;
}

DmarcVerifier::~DmarcVerifier() = default;

const PublicSuffixList& DmarcVerifier::psl() {
    if (!options_.public_suffix_list) options_.public_suffix_list = PublicSuffixList::system();
    return *options_.public_suffix_list;
}

std::vector<std::string> DmarcVerifier::tree_walk_names(std::string_view domain) {
    std::vector<std::string> names{std::string(domain)};
    const std::size_t label_count = labels_of(domain).size();
    for (std::size_t count = std::min(label_count - 1, kTreeWalkMaxLabels); count >= 1; --count)
        names.push_back(suffix_with_labels(domain, count));
    return names;
}

std::shared_ptr<PendingLookup> DmarcVerifier::lookup(const std::string& name,
                                                     dns::RecordType type) {
    auto& slot = lookups_[{name, type}];
    if (!slot) slot = PendingLookup::start(resolver_, name, type);
    return slot;
}

void DmarcVerifier::on_from_header(std::string_view raw_value) {
    ++from_fields_;
    if (author_domain_given_) return;
    if (from_fields_ > 1) {
        author_domain_.reset();
        from_error_ = "more than one From field";
        return;
    }
    const FromAddresses from = parse_from_addresses(raw_value);
    if (!from.ok) {
        from_error_ = "From: " + from.error;
        return;
    }
    for (const std::string& domain : from.domains) {
        if (domain != from.domains.front()) {
            from_error_ = "From has mailboxes in more than one domain";
            return;
        }
    }
    author_domain_ = from.domains.front();
    start_discovery();
}

void DmarcVerifier::set_author_domain(std::string_view domain) {
    author_domain_given_ = true;
    from_error_.clear();
    author_domain_.reset();
    std::string normalized = normalize_domain(domain);
    if (normalized.empty()) {
        from_error_ = "invalid author domain";
        return;
    }
    author_domain_ = std::move(normalized);
    start_discovery();
}

void DmarcVerifier::start_discovery() {
    if (options_.mode == DmarcMode::TreeWalk) {
        prefetch_identifier(*author_domain_);
        return;
    }
    lookup("_dmarc." + *author_domain_, dns::RecordType::TXT);
    const std::string organizational = psl().organizational_domain(*author_domain_);
    if (organizational != *author_domain_) lookup("_dmarc." + organizational, dns::RecordType::TXT);
}

void DmarcVerifier::prefetch_identifier(std::string_view domain) {
    if (options_.mode != DmarcMode::TreeWalk) return;
    const std::string normalized = normalize_domain(domain);
    if (normalized.empty()) return;
    for (const std::string& name : tree_walk_names(normalized))
        lookup("_dmarc." + name, dns::RecordType::TXT);
}

DmarcVerifier::RecordAt DmarcVerifier::record_at(const std::string& domain,
                                                 Clock::time_point deadline) {
    RecordAt result;
    const dns::Answer answer =
        lookup("_dmarc." + domain, dns::RecordType::TXT)->wait_until(deadline);
    if (answer.temporary_failure()) {
        result.kind = RecordAt::Kind::TempError;
        result.detail = "DNS temporary failure for _dmarc." + domain;
        return result;
    }
    const std::string* only = nullptr;
    std::size_t count = 0;
    for (const std::string& text : answer.texts) {
        if (!is_dmarc_record_text(text)) continue;
        only = &text;
        ++count;
    }
    if (count != 1) {
        // None, or several: RFC 7489 §6.6.3 and RFC 9989 ignore all of them.
        if (count > 1) result.detail = "several DMARC records at _dmarc." + domain + " ignored";
        return result;
    }
    DmarcRecordParse parsed = parse_dmarc_record(*only);
    if (!parsed.ok) {
        result.kind = RecordAt::Kind::Invalid;
        result.detail = "invalid DMARC record at _dmarc." + domain + ": " + parsed.error;
        return result;
    }
    result.kind = RecordAt::Kind::Found;
    result.record = std::move(parsed.record);
    return result;
}

std::optional<std::string> DmarcVerifier::organizational_domain(std::string_view domain,
                                                                Clock::time_point deadline) {
    const std::string normalized = normalize_domain(domain);
    if (normalized.empty()) return std::string();
    if (options_.mode == DmarcMode::PublicSuffixList)
        return psl().organizational_domain(normalized);

    const std::vector<std::string> names = tree_walk_names(normalized);
    for (const std::string& name : names)  // in parallel, then read in order
        lookup("_dmarc." + name, dns::RecordType::TXT);
    std::optional<std::string> fewest_labels;
    for (const std::string& name : names) {
        const RecordAt at = record_at(name, deadline);
        if (at.kind == RecordAt::Kind::TempError) return std::nullopt;
        if (at.kind != RecordAt::Kind::Found) continue;
        if (at.record.psd == DmarcPsd::No) return name;
        if (at.record.psd == DmarcPsd::Yes && name != normalized)
            return suffix_with_labels(normalized, labels_of(name).size() + 1);
        fewest_labels = name;
    }
    return fewest_labels.value_or(normalized);
}

std::optional<bool> DmarcVerifier::aligned(std::string_view identifier_domain,
                                           std::string_view author_domain, DmarcAlignmentMode mode,
                                           Clock::time_point deadline) {
    const std::string identifier = normalize_domain(identifier_domain);
    const std::string author = normalize_domain(author_domain);
    if (identifier.empty() || author.empty()) return false;
    if (identifier == author) return true;
    if (mode == DmarcAlignmentMode::Strict) return false;
    // Organizational Domains are suffixes of their domains: without a common last label there
    // is nothing to look up.
    if (labels_of(identifier).back() != labels_of(author).back()) return false;
    const std::optional<std::string> identifier_org = organizational_domain(identifier, deadline);
    const std::optional<std::string> author_org = organizational_domain(author, deadline);
    if (!identifier_org || !author_org) return std::nullopt;
    return *identifier_org == *author_org;
}

bool DmarcVerifier::author_domain_exists(Clock::time_point deadline) {
    // RFC 9989: a domain that answers NXDOMAIN or NODATA for A, AAAA and MX does not exist.
    // A temporary failure counts as existing, so np= is never applied on a guess.
    std::vector<std::shared_ptr<PendingLookup>> pending;
    for (const dns::RecordType type :
         {dns::RecordType::A, dns::RecordType::AAAA, dns::RecordType::MX})
        pending.push_back(lookup(*author_domain_, type));
    for (const auto& query : pending) {
        const dns::Answer answer = query->wait_until(deadline);
        if (answer.temporary_failure()) return true;
        if (answer.status == dns::Status::Ok && (!answer.addresses.empty() || !answer.mx.empty()))
            return true;
    }
    return false;
}

DmarcOutcome DmarcVerifier::evaluate(const DmarcAuthResults& auth, Clock::time_point deadline) {
    DmarcOutcome outcome;
    if (!author_domain_) {
        outcome.status = DmarcStatus::PermError;
        outcome.reason = from_error_.empty() ? "no From field" : from_error_;
        return outcome;
    }
    const std::string& author = *author_domain_;
    outcome.author_domain = author;

    // Policy discovery.
    std::vector<std::string> candidates;
    if (options_.mode == DmarcMode::TreeWalk) {
        candidates = tree_walk_names(author);
    } else {
        candidates.push_back(author);
        const std::string organizational = psl().organizational_domain(author);
        if (organizational != author) candidates.push_back(organizational);
    }
    for (const std::string& name : candidates) {
        RecordAt at = record_at(name, deadline);
        if (at.kind == RecordAt::Kind::TempError) {
            outcome.status = DmarcStatus::TempError;
            outcome.reason = at.detail;
            return outcome;
        }
        if (at.kind == RecordAt::Kind::Invalid) {
            // The author domain's own broken record is reported; one further up the tree is
            // skipped (PSL mode has only the Organizational Domain above, which is the policy).
            if (name == author || options_.mode == DmarcMode::PublicSuffixList) {
                outcome.status = DmarcStatus::PermError;
                outcome.reason = at.detail;
                return outcome;
            }
            continue;
        }
        if (at.kind == RecordAt::Kind::Found) {
            outcome.policy_domain = name;
            outcome.record = std::move(at.record);
            break;
        }
    }
    const std::optional<std::string> author_org = organizational_domain(author, deadline);
    outcome.organizational_domain = author_org.value_or("");
    if (!outcome.record) {
        outcome.status = DmarcStatus::None;
        outcome.reason = "no DMARC record for " + author;
        return outcome;
    }
    const DmarcRecord& record = *outcome.record;

    if (outcome.policy_domain == author) {
        outcome.policy_tag = DmarcPolicyTag::P;
        outcome.policy = record.policy;
    } else if (record.has_nonexistent_policy && !author_domain_exists(deadline)) {
        outcome.policy_tag = DmarcPolicyTag::Np;
        outcome.policy = record.nonexistent_policy;
    } else {
        outcome.policy_tag = DmarcPolicyTag::Sp;
        outcome.policy = record.subdomain_policy;
    }

    // Alignment (RFC 7489 §3.1).
    bool alignment_temperror = false;
    if (auth.spf.pass) {
        const std::optional<bool> spf_aligned =
            aligned(auth.spf.domain, author, record.spf_alignment, deadline);
        if (!spf_aligned) alignment_temperror = true;
        outcome.spf_alignment =
            spf_aligned.value_or(false) ? DmarcAlignment::Pass : DmarcAlignment::Fail;
    }
    for (const DmarcIdentifier& dkim : auth.dkim) {
        if (!dkim.pass) continue;
        const std::optional<bool> dkim_aligned =
            aligned(dkim.domain, author, record.dkim_alignment, deadline);
        if (!dkim_aligned) alignment_temperror = true;
        if (dkim_aligned.value_or(false)) {
            outcome.dkim_alignment = DmarcAlignment::Pass;
            outcome.aligned_dkim_domain = normalize_domain(dkim.domain);
            break;
        }
        outcome.dkim_alignment = DmarcAlignment::Fail;
    }

    if (outcome.spf_alignment == DmarcAlignment::Pass ||
        outcome.dkim_alignment == DmarcAlignment::Pass) {
        outcome.status = DmarcStatus::Pass;
        outcome.reason = outcome.dkim_alignment == DmarcAlignment::Pass ? "aligned DKIM pass"
                                                                        : "aligned SPF pass";
        return outcome;
    }
    if (alignment_temperror) {
        outcome.status = DmarcStatus::TempError;
        outcome.reason = "DNS temporary failure while checking alignment";
        return outcome;
    }
    outcome.status = DmarcStatus::Fail;
    outcome.reason = "no aligned SPF or DKIM pass";
    outcome.disposition = outcome.policy;
    const bool lower = options_.mode == DmarcMode::PublicSuffixList
                           ? record.percent < 100 && !options_.in_sample(record.percent)
                           : record.testing;
    if (lower && outcome.policy != DmarcPolicy::None) {
        outcome.disposition = one_step_lower(outcome.policy);
        outcome.policy_lowered = true;
    }
    return outcome;
}

}  // namespace relaytrust::auth
