#include "auth/dkim_verifier.h"

#include <algorithm>
#include <ctime>
#include <tuple>

#include "auth/dkim_canonical.h"
#include "auth/dkim_lookup.h"
#include "auth/dkim_text.h"

namespace relaytrust::auth {

struct DkimVerifier::SignatureState {
    DkimSignatureParse parse;
    std::size_t header_index = 0;
    bool over_limit = false;
    DkimBodyHasher* hasher = nullptr;
    std::shared_ptr<PendingLookup> key_lookup;
    // Identifies `hasher` so signatures with the same body parameters share one.
    std::tuple<DkimCanonicalization, DkimHash, std::optional<std::uint64_t>> body_parameters;
};

namespace {

std::string_view identity_domain(std::string_view identity) {
    const std::size_t at = identity.rfind('@');
    return at == std::string_view::npos ? identity : identity.substr(at + 1);
}

}  // namespace

std::string_view dkim_status_name(DkimStatus status) {
    switch (status) {
        case DkimStatus::None:
            return "none";
        case DkimStatus::Pass:
            return "pass";
        case DkimStatus::Fail:
            return "fail";
        case DkimStatus::Neutral:
            return "neutral";
        case DkimStatus::TempError:
            return "temperror";
        case DkimStatus::PermError:
            return "permerror";
    }
    return "none";
}

DkimVerifier::DkimVerifier(dns::Resolver& resolver, DkimVerifierOptions options)
    : resolver_(resolver), options_(std::move(options)) {}

DkimVerifier::~DkimVerifier() = default;

void DkimVerifier::on_header(std::string_view name, std::string_view raw_value) {
    headers_.emplace_back(std::string(name), normalize_crlf(raw_value));
    if (!iequals_ascii(name, "DKIM-Signature")) return;

    auto state = std::make_unique<SignatureState>();
    state->header_index = headers_.size() - 1;
    std::size_t evaluated = 0;
    for (const auto& existing : signatures_) {
        if (!existing->over_limit) ++evaluated;
    }
    if (evaluated >= options_.max_signatures) {
        state->over_limit = true;
        // Still parsed (cheaply) so the result can name d= and s=.
        state->parse = parse_dkim_signature(headers_.back().second);
        signatures_.push_back(std::move(state));
        return;
    }
    state->parse = parse_dkim_signature(headers_.back().second);
    if (state->parse.ok) {
        const DkimSignature& sig = state->parse.signature;
        state->body_parameters = {sig.body_canonicalization, dkim_algorithm_hash(sig.algorithm),
                                  sig.body_length};
        for (const auto& other : signatures_) {
            if (other->hasher != nullptr && other->body_parameters == state->body_parameters) {
                state->hasher = other->hasher;
                break;
            }
        }
        if (state->hasher == nullptr) {
            hashers_.push_back(std::make_unique<DkimBodyHasher>(
                sig.body_canonicalization, dkim_algorithm_hash(sig.algorithm), sig.body_length));
            state->hasher = hashers_.back().get();
        }
        const std::string key_name = sig.key_record_name();
        for (const auto& lookup : lookups_) {
            if (lookup->name() == key_name) state->key_lookup = lookup;
        }
        if (!state->key_lookup) {
            state->key_lookup = PendingLookup::start(resolver_, key_name, dns::RecordType::TXT);
            lookups_.push_back(state->key_lookup);
        }
    }
    signatures_.push_back(std::move(state));
}

void DkimVerifier::on_body(std::string_view chunk) {
    if (!wants_body()) return;
    for (const auto& hasher : hashers_)
        hasher->feed(chunk);
}

bool DkimVerifier::wants_body() const {
    // evaluate() ends with permerror or temperror before the body hash for a key lookup that
    // came back empty (forged or stale signatures, common in spam): hashing for it is wasted.
    return std::any_of(signatures_.begin(), signatures_.end(), [](const auto& state) {
        return state->hasher != nullptr &&
               !(state->key_lookup && state->key_lookup->answered_without_records());
    });
}

const std::vector<DkimResult>& DkimVerifier::finish(Clock::time_point deadline) {
    if (!results_) {
        std::vector<DkimResult> results;
        results.reserve(signatures_.size());
        for (const auto& state : signatures_)
            results.push_back(evaluate(*state, deadline));
        results_ = std::move(results);
    }
    return *results_;
}

std::string DkimVerifier::signed_header_block(const SignatureState& state) const {
    const DkimSignature& sig = state.parse.signature;
    std::string block;
    // RFC 6376 §5.4.2: each h= name takes the last not yet used instance of that field; a name
    // with no instance left contributes nothing (that is how over-signing works).
    std::vector<bool> used(headers_.size(), false);
    for (const std::string& wanted : sig.signed_headers) {
        for (std::size_t i = headers_.size(); i-- > 0;) {
            if (used[i] || !iequals_ascii(headers_[i].first, wanted)) continue;
            used[i] = true;
            block += canonicalize_header(sig.header_canonicalization, headers_[i].first,
                                         headers_[i].second);
            break;
        }
    }
    // Finally the signature field itself with the b= value blanked, without its CRLF.
    const auto& [name, value] = headers_[state.header_index];
    std::string blanked = value.substr(0, sig.b_value_begin);
    blanked += value.substr(sig.b_value_end);
    std::string own = canonicalize_header(sig.header_canonicalization, name, blanked);
    own.resize(own.size() - 2);
    block += own;
    return block;
}

DkimResult DkimVerifier::evaluate(const SignatureState& state, Clock::time_point deadline) const {
    const DkimSignature& sig = state.parse.signature;
    DkimResult result;
    result.domain = sig.domain;
    result.selector = sig.selector;
    result.identity = sig.identity;
    // The reason is evaluated before `result` is moved out.
    auto finished = [&result](DkimStatus status, DkimProblem problem, std::string reason) {
        result.status = status;
        result.problem = problem;
        result.reason = std::move(reason);
        return std::move(result);
    };
    if (state.over_limit) {
        return finished(
            DkimStatus::Neutral, DkimProblem::NotEvaluated,
            "more than " + std::to_string(options_.max_signatures) + " signatures; not evaluated");
    }
    if (!state.parse.ok) {
        return finished(DkimStatus::PermError, DkimProblem::SignatureSyntax, state.parse.error);
    }
    result.algorithm = std::string(dkim_algorithm_name(sig.algorithm));
    result.weak_sha1 = sig.algorithm == DkimAlgorithm::RsaSha1;
    result.header_b = sig.signature_base64.substr(0, 8);

    const std::int64_t now =
        options_.now_unix.value_or(static_cast<std::int64_t>(std::time(nullptr)));
    if (sig.expiration && now > *sig.expiration) {
        return finished(DkimStatus::Fail, DkimProblem::Expired, "signature expired");
    }

    // Key (RFC 6376 §6.1.2).
    const dns::Answer answer = state.key_lookup->wait_until(deadline);
    switch (answer.status) {
        case dns::Status::Ok:
            break;
        case dns::Status::NxDomain:
            return finished(DkimStatus::PermError, DkimProblem::KeyMissing,
                            "no key record at " + state.key_lookup->name());
        case dns::Status::Timeout:
            return finished(DkimStatus::TempError, DkimProblem::DnsTimeout, "key lookup timed out");
        case dns::Status::ServFail:
        case dns::Status::Error:
            return finished(DkimStatus::TempError, DkimProblem::DnsTemporary,
                            "key lookup failed temporarily" +
                                (answer.error.empty() ? std::string() : ": " + answer.error));
    }
    if (answer.texts.empty()) {
        return finished(DkimStatus::PermError, DkimProblem::KeyMissing,
                        "no key record at " + state.key_lookup->name());
    }
    // Several TXT records: use the first that is a key record (RFC 6376 §6.1.2 lets the
    // verifier choose).
    std::optional<DkimKeyRecord> key;
    std::string key_error;
    for (const std::string& text : answer.texts) {
        DkimKeyParse parsed = parse_dkim_key_record(text);
        if (parsed.ok) {
            key = std::move(parsed.key);
            break;
        }
        if (key_error.empty()) key_error = parsed.error;
    }
    if (!key) {
        return finished(DkimStatus::PermError, DkimProblem::KeySyntax, key_error);
    }
    result.key_testing = key->testing;
    if (key->revoked()) {
        return finished(DkimStatus::Fail, DkimProblem::KeyRevoked, "key revoked");
    }
    if (key->type != dkim_algorithm_key_type(sig.algorithm)) {
        return finished(DkimStatus::PermError, DkimProblem::KeyUnusable,
                        "key type k= does not match a=" + result.algorithm);
    }
    if (!key->allows_hash(dkim_algorithm_hash(sig.algorithm))) {
        return finished(DkimStatus::PermError, DkimProblem::KeyHashNotAllowed,
                        "key h= does not allow " +
                            std::string(dkim_hash_name(dkim_algorithm_hash(sig.algorithm))));
    }
    if (key->strict_identity && !iequals_ascii(identity_domain(sig.identity), sig.domain)) {
        return finished(DkimStatus::Fail, DkimProblem::StrictIdentity,
                        "key t=s requires the i= domain to equal d=");
    }

    // Body (RFC 6376 §6.1.3).
    const DkimBodyHasher::Result& body = state.hasher->finish();
    if (body.length_exceeds_body) {
        return finished(DkimStatus::Fail, DkimProblem::BodyLengthTooLong,
                        "l= is larger than the body");
    }
    if (body.digest != sig.body_hash) {
        return finished(DkimStatus::Fail, DkimProblem::BodyHashMismatch, "body hash mismatch");
    }

    // Headers and signature.
    const DkimCryptoResult crypto = verify_dkim_crypto(
        sig.algorithm, *key, signed_header_block(state), sig.signature, options_.key_limits);
    result.key_bits = crypto.key_bits;
    switch (crypto.outcome) {
        case DkimCryptoOutcome::Verified:
            return finished(DkimStatus::Pass, DkimProblem::Ok,
                            result.weak_sha1 ? "verified with rsa-sha1 (weak)" : "verified");
        case DkimCryptoOutcome::BadSignature:
            return finished(DkimStatus::Fail, DkimProblem::SignatureMismatch, "signature mismatch");
        case DkimCryptoOutcome::KeyUnusable:
            break;
    }
    return finished(DkimStatus::PermError, DkimProblem::KeyUnusable, crypto.detail);
}

DkimStatus summarize_dkim(const std::vector<DkimResult>& results) {
    if (results.empty()) return DkimStatus::None;
    constexpr DkimStatus kOrder[] = {DkimStatus::Pass, DkimStatus::Fail, DkimStatus::TempError,
                                     DkimStatus::PermError, DkimStatus::Neutral};
    for (const DkimStatus status : kOrder) {
        for (const DkimResult& result : results) {
            if (result.status == status) return status;
        }
    }
    return DkimStatus::Neutral;
}

}  // namespace relaytrust::auth
