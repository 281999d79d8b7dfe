// DKIM canonicalization (RFC 6376 §3.4): header fields one at a time, and the body as a stream
// of chunks of any size, so the engine never holds a whole body to hash it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/dkim_signature.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace relaytrust::auth {

// Turns every LF not preceded by CR into CRLF. Header values from front ends that strip CRs
// (or .eml files with LF endings) must look like wire format before canonicalization.
std::string normalize_crlf(std::string_view text);

// One header field as it goes into the header hash, with the trailing CRLF. `raw_value` is
// everything after the colon, folding included (CRLF line breaks).
std::string canonicalize_header(DkimCanonicalization mode, std::string_view name,
                                std::string_view raw_value);

// Streams a body through "simple" or "relaxed" body canonicalization. Lines may end in CRLF or
// a bare LF (treated as CRLF); a CR not followed by LF is data. CRLF split across chunks and
// trailing empty lines (dropped by both modes) are handled with a few bytes of state: only the
// count of empty lines not yet known to be trailing is held back.
class DkimBodyCanonicalizer {
  public:
    using Sink = std::function<void(std::string_view)>;

    DkimBodyCanonicalizer(DkimCanonicalization mode, Sink sink);
    DkimBodyCanonicalizer(const DkimBodyCanonicalizer&) = delete;
    DkimBodyCanonicalizer& operator=(const DkimBodyCanonicalizer&) = delete;

    void feed(std::string_view chunk);
    // Emits the final line ending rules; further feed() calls are ignored.
    void finish();

  private:
    void content(std::string_view bytes);
    void end_of_line();
    void emit(std::string_view bytes);
    void flush();

    DkimCanonicalization mode_;
    Sink sink_;
    std::string buffer_;
    std::uint64_t emitted_ = 0;
    std::uint64_t pending_empty_lines_ = 0;
    bool pending_cr_ = false;     // last byte seen was CR; LF may follow in the next chunk
    bool pending_space_ = false;  // relaxed: a WSP run not yet written (dropped at line end)
    bool line_has_content_ = false;
    bool finished_ = false;
};

// The whole canonicalized body at once (tests, the signer).
std::string canonicalize_body(DkimCanonicalization mode, std::string_view body);

struct MdContextDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
};

// Body hash of one signature's (canonicalization, hash, l=) combination, fed incrementally.
class DkimBodyHasher {
  public:
    struct Result {
        std::string digest;                  // raw hash bytes, compare with bh=
        std::uint64_t canonical_length = 0;  // whole canonical body, not cut at l=
        bool length_exceeds_body = false;    // l= is larger than the canonical body
    };

    DkimBodyHasher(DkimCanonicalization mode, DkimHash hash,
                   std::optional<std::uint64_t> length_limit);
    DkimBodyHasher(const DkimBodyHasher&) = delete;
    DkimBodyHasher& operator=(const DkimBodyHasher&) = delete;

    void feed(std::string_view chunk) { canonicalizer_.feed(chunk); }
    // Idempotent.
    const Result& finish();

  private:
    void consume(std::string_view canonical_bytes);

    std::unique_ptr<evp_md_ctx_st, MdContextDeleter> ctx_;
    std::optional<std::uint64_t> length_limit_;
    std::uint64_t seen_ = 0;
    DkimBodyCanonicalizer canonicalizer_;
    std::optional<Result> result_;
};

}  // namespace relaytrust::auth
