// The Public Suffix List through libpsl: the RFC 7489 way to find a domain's Organizational
// Domain (RFC 9989 replaced it with the DNS tree walk; relaytrust keeps it as a selectable
// legacy mode). Loaded once and shared read-only between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct psl_ctx_st;  // libpsl's psl_ctx_t

namespace relaytrust::auth {

class PublicSuffixList {
  public:
    // The distribution's list (Debian: /usr/share/publicsuffix, from the publicsuffix package)
    // or libpsl's compiled-in copy, whichever is newer (psl_latest). Loaded once per process.
    static std::shared_ptr<const PublicSuffixList> system();

    // A list file in PSL text format (public_suffix_list.dat) or libpsl's DAFSA format, so a
    // newer list than the distribution's can be configured. nullptr and `error` on failure.
    static std::shared_ptr<const PublicSuffixList> load_file(const std::string& path,
                                                             std::string* error);

    // The registrable domain ("eTLD+1") of `domain`, lower-cased; nullopt when the name is a
    // public suffix itself, is empty or starts with a dot. Trailing dots are not accepted.
    std::optional<std::string> registrable_domain(std::string_view domain) const;

    bool is_public_suffix(std::string_view domain) const;

    // RFC 7489 §3.2 Organizational Domain: the registrable domain, or the (lower-cased) name
    // itself when it has none (it is a public suffix).
    std::string organizational_domain(std::string_view domain) const;

    ~PublicSuffixList();
    PublicSuffixList(const PublicSuffixList&) = delete;
    PublicSuffixList& operator=(const PublicSuffixList&) = delete;

  private:
    explicit PublicSuffixList(psl_ctx_st* context) : context_(context) {}

    psl_ctx_st* context_;
};

// Lower-cases a domain for PSL lookups: Unicode-aware through libpsl when the name is UTF-8,
// plain ASCII otherwise.
std::string psl_lower(std::string_view domain);

}  // namespace relaytrust::auth
