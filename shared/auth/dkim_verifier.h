// DKIM verification of one message (RFC 6376, RFC 8463 Ed25519, RFC 8301 crypto rules), fed
// the way a milter or hook daemon sees the message:
//
//   DkimVerifier verifier(resolver);
//   for each header, in order:    verifier.on_header(name, raw_value);  // key fetch starts here
//   for each body chunk, any size: verifier.on_body(chunk);             // hashed, not stored
//   auto results = verifier.finish(deadline);  // waits for keys at most until the deadline
//
// Headers are kept (the header hash needs them and they are small); the body is only hashed,
// once per distinct (canonicalization, hash, l=) among the signatures.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/dkim_key.h"
#include "auth/dkim_signature.h"
#include "dns/resolver.h"

namespace relaytrust::auth {

class DkimBodyHasher;
class PendingLookup;

// RFC 8601 §2.7.1 result words. None is only used by summarize_dkim() for "no signatures".
enum class DkimStatus : std::uint8_t { None, Pass, Fail, Neutral, TempError, PermError };
std::string_view dkim_status_name(DkimStatus status);  // "pass", "fail", ...

// Why a signature did not pass (Ok when it passed).
enum class DkimProblem : std::uint8_t {
    Ok,
    SignatureSyntax,    // permerror: malformed or unsupported DKIM-Signature
    KeyMissing,         // permerror: NXDOMAIN or no TXT at <s>._domainkey.<d>
    KeySyntax,          // permerror: malformed key record (or s= excludes email)
    KeyUnusable,        // permerror: k= / a= mismatch, undecodable p=, RSA size limits
    KeyHashNotAllowed,  // permerror: key h= excludes the signature's hash
    KeyRevoked,         // fail: empty p=
    StrictIdentity,     // fail: key t=s but i= is a subdomain of d=
    Expired,            // fail: x= is in the past
    BodyLengthTooLong,  // fail: l= is larger than the body
    BodyHashMismatch,   // fail
    SignatureMismatch,  // fail
    DnsTemporary,       // temperror: SERVFAIL or resolver error
    DnsTimeout,         // temperror: no key before the deadline
    NotEvaluated,       // neutral: over the per-message signature limit
};

struct DkimResult {
    DkimStatus status = DkimStatus::PermError;
    DkimProblem problem = DkimProblem::SignatureSyntax;
    std::string reason;        // human-readable detail for logs and A-R comments
    std::string domain;        // d= (A-R header.d)
    std::string selector;      // s= (A-R header.s)
    std::string identity;      // i= or "@d" (A-R header.i)
    std::string algorithm;     // a= as understood, e.g. "rsa-sha256"; empty if unparsable
    std::string header_b;      // first 8 characters of b= (RFC 6008 header.b)
    bool weak_sha1 = false;    // rsa-sha1: RFC 8301 says not to treat it as valid; see docs
    bool key_testing = false;  // key t=y: the signer is testing DKIM
    unsigned key_bits = 0;
};

struct DkimVerifierOptions {
    DkimKeyLimits key_limits;
    // Signatures beyond this many get Neutral without any DNS query or hashing, so a message
    // with hundreds of DKIM-Signature fields cannot multiply the work.
    std::size_t max_signatures = 10;
    // Verification time for x= (Unix seconds); unset = the system clock. For tests.
    std::optional<std::int64_t> now_unix;
};

class DkimVerifier {
  public:
    using Clock = std::chrono::steady_clock;

    explicit DkimVerifier(dns::Resolver& resolver, DkimVerifierOptions options = {});
    ~DkimVerifier();
    DkimVerifier(const DkimVerifier&) = delete;
    DkimVerifier& operator=(const DkimVerifier&) = delete;

    // One header field: `name` as written, `raw_value` everything after the colon including the
    // leading space and folding line breaks (CRLF or LF). For Postfix's milter this needs
    // SMFIP_HDR_LEADSPC so the leading space is not stripped. A DKIM-Signature starts its key
    // lookup immediately. Call before any on_body().
    void on_header(std::string_view name, std::string_view raw_value);

    // A piece of the body in wire form (CRLF lines, dot-unstuffed), split anywhere.
    void on_body(std::string_view chunk);
    // False when no signature needs the body's hash, so on_body() would do nothing: none
    // parsed, or each one's key lookup has already come back without a record (its result is
    // then decided before the body hash is looked at). True while a lookup is still open.
    bool wants_body() const;

    // Results per DKIM-Signature, in header order. Waits for key lookups until `deadline`; a
    // lookup still open then is TempError. Calling it again returns the same results.
    const std::vector<DkimResult>& finish(Clock::time_point deadline);

    std::size_t signature_count() const { return signatures_.size(); }

  private:
    struct SignatureState;

    DkimResult evaluate(const SignatureState& state, Clock::time_point deadline) const;
    std::string signed_header_block(const SignatureState& state) const;

    dns::Resolver& resolver_;
    DkimVerifierOptions options_;
    std::vector<std::pair<std::string, std::string>> headers_;  // name, CRLF-normalized value
    std::vector<std::unique_ptr<SignatureState>> signatures_;
    std::vector<std::unique_ptr<DkimBodyHasher>> hashers_;
    std::vector<std::shared_ptr<PendingLookup>> lookups_;
    std::optional<std::vector<DkimResult>> results_;
};

// One word for the message (the `dkim_result` variable): none without signatures, else the
// first status present in the order pass > fail > temperror > permerror > neutral. A verified
// failure outranks temperror: anyone can add a signature whose key zone does not answer.
DkimStatus summarize_dkim(const std::vector<DkimResult>& results);

}  // namespace relaytrust::auth
