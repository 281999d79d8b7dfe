// DMARC evaluation of one message: policy discovery, Organizational Domains, identifier
// alignment and the policy to apply.
//
// Two discovery modes:
//   TreeWalk (default, RFC 9989 §4.10): _dmarc.<author domain>, then up the tree (at most 8
//     queries: the author domain, then from 7 labels down to 1). The Organizational Domain is
//     found by the same walk: the first record with psd=n, the name just below a record with
//     psd=y, else the record with the fewest labels, else the domain itself.
//   PublicSuffixList (RFC 7489): _dmarc.<author domain>, then _dmarc.<organizational domain>
//     with the Organizational Domain taken from the Public Suffix List (libpsl).
//
//   DmarcVerifier dmarc(resolver, options);
//   dmarc.on_from_header(raw_value);            // per From field; starts record lookups
//   dmarc.prefetch_identifier(dkim_d_or_spf);   // optional, overlaps alignment lookups
//   DmarcOutcome outcome = dmarc.evaluate(auth, deadline);
//
// Choices where the RFCs leave room (see docs/auth.md): several From fields, or From mailboxes
// in different domains, give permerror (RFC 7489 §6.6.1 lets the receiver decide; a rule can
// reject on it); two DMARC records at one name count as none there; an unparsable record at the
// author domain is permerror, one further up the tree is skipped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/dkim_verifier.h"
#include "auth/dmarc_record.h"
#include "auth/psl.h"
#include "dns/resolver.h"

namespace relaytrust::auth {

class PendingLookup;

enum class DmarcMode : std::uint8_t { TreeWalk, PublicSuffixList };

// RFC 8601 words for dmarc=.
enum class DmarcStatus : std::uint8_t { None, Pass, Fail, TempError, PermError };
std::string_view dmarc_status_name(DmarcStatus status);

// Per identifier kind: Pass = authenticated and aligned, Fail = authenticated but not aligned,
// None = not authenticated (alignment not considered).
enum class DmarcAlignment : std::uint8_t { None, Pass, Fail };
std::string_view dmarc_alignment_name(DmarcAlignment alignment);

// Which record tag chose the policy.
enum class DmarcPolicyTag : std::uint8_t { None, P, Sp, Np };
std::string_view dmarc_policy_tag_name(DmarcPolicyTag tag);  // "", "p", "sp", "np"

struct DmarcOptions {
    DmarcMode mode = DmarcMode::TreeWalk;
    // For PublicSuffixList mode; PublicSuffixList::system() when null.
    std::shared_ptr<const PublicSuffixList> public_suffix_list;
    // pct= sampling (PublicSuffixList mode): true when this message is among the `percent` %
    // that get the policy. Defaults to a random draw; tests pin it.
    std::function<bool(unsigned percent)> in_sample;
};

// One authenticated identifier: a DKIM d= or the SPF domain, and whether it passed.
struct DmarcIdentifier {
    std::string domain;
    bool pass = false;
};

struct DmarcAuthResults {
    // SPF for the RFC5321.MailFrom domain (the HELO domain when MAIL FROM is null).
    DmarcIdentifier spf;
    std::vector<DmarcIdentifier> dkim;  // one per signature
};

// DKIM results as DMARC inputs. An rsa-sha1 pass counts only with `accept_sha1` (RFC 8301).
std::vector<DmarcIdentifier> dmarc_dkim_identifiers(const std::vector<DkimResult>& results,
                                                    bool accept_sha1 = false);

struct DmarcOutcome {
    DmarcStatus status = DmarcStatus::None;
    std::string reason;
    std::string author_domain;          // the From domain (A-R header.from)
    std::string policy_domain;          // where the record was found
    std::string organizational_domain;  // of the author domain; empty if undetermined
    std::optional<DmarcRecord> record;
    DmarcPolicyTag policy_tag = DmarcPolicyTag::None;
    DmarcPolicy policy = DmarcPolicy::None;  // what the record asks for (p, sp or np)
    // What to do: `policy` when status is Fail, after pct= sampling (PSL mode) or t=y (tree
    // walk mode) lowered it one step; none otherwise.
    DmarcPolicy disposition = DmarcPolicy::None;
    bool policy_lowered = false;  // pct=/t= applied
    DmarcAlignment spf_alignment = DmarcAlignment::None;
    DmarcAlignment dkim_alignment = DmarcAlignment::None;
    std::string aligned_dkim_domain;  // d= of the first aligned passing signature
};

class DmarcVerifier {
  public:
    using Clock = std::chrono::steady_clock;

    explicit DmarcVerifier(dns::Resolver& resolver, DmarcOptions options = {});
    ~DmarcVerifier();
    DmarcVerifier(const DmarcVerifier&) = delete;
    DmarcVerifier& operator=(const DmarcVerifier&) = delete;

    // Each From header field, raw value as received. The first valid one starts discovery.
    void on_from_header(std::string_view raw_value);

    // The author domain directly, for callers that parsed From themselves. Overrides headers.
    void set_author_domain(std::string_view domain);

    // Starts the lookups the alignment check of `domain` may need (tree walk mode).
    void prefetch_identifier(std::string_view domain);

    DmarcOutcome evaluate(const DmarcAuthResults& auth, Clock::time_point deadline);

    // Tree walk names for `domain` in query order, without the "_dmarc." prefix.
    static std::vector<std::string> tree_walk_names(std::string_view domain);

    // Organizational Domain, or nullopt on a DNS temporary failure (tree walk mode).
    std::optional<std::string> organizational_domain(std::string_view domain,
                                                     Clock::time_point deadline);

    // Relaxed or strict alignment of two domains under this verifier's mode. nullopt on a DNS
    // temporary failure. Leading/trailing dots are ignored; other malformed names never align.
    std::optional<bool> aligned(std::string_view identifier_domain, std::string_view author_domain,
                                DmarcAlignmentMode mode, Clock::time_point deadline);

  private:
    struct RecordAt;
    RecordAt record_at(const std::string& domain, Clock::time_point deadline);
    std::shared_ptr<PendingLookup> lookup(const std::string& name, dns::RecordType type);
    void start_discovery();
    const PublicSuffixList& psl();
    bool author_domain_exists(Clock::time_point deadline);

    dns::Resolver& resolver_;
    DmarcOptions options_;
    std::size_t from_fields_ = 0;
    std::optional<std::string> author_domain_;
    std::string from_error_;
    bool author_domain_given_ = false;
    std::map<std::pair<std::string, dns::RecordType>, std::shared_ptr<PendingLookup>> lookups_;
};

}  // namespace relaytrust::auth
