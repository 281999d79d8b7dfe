#include "auth/dkim_canonical.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace relaytrust::auth {
namespace {

constexpr std::size_t kFlushThreshold = 16 * 1024;

constexpr bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// Bytes that end a run of verbatim body bytes: CR and LF, plus SP and HTAB for relaxed.
constexpr std::array<bool, 256> make_special(bool relaxed) {
    std::array<bool, 256> table{};
    table['\r'] = table['\n'] = true;
    if (relaxed) table[' '] = table['\t'] = true;
    return table;
}
constexpr auto kSimpleSpecial = make_special(false);
constexpr auto kRelaxedSpecial = make_special(true);

}  // namespace

std::string normalize_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
        out.push_back(text[i]);
    }
    return out;
}

std::string canonicalize_header(DkimCanonicalization mode, std::string_view name,
                                std::string_view raw_value) {
    std::string out;
    if (mode == DkimCanonicalization::Simple) {
        out.reserve(name.size() + raw_value.size() + 3);
        out.append(name).append(":").append(raw_value).append("\r\n");
        return out;
    }
    // Relaxed (RFC 6376 §3.4.2): lower-case name, unfold, WSP runs to one SP, trim both ends
    // of the value and the whitespace around the colon.
    while (!name.empty() && is_wsp(name.back()))
        name.remove_suffix(1);
    out.reserve(name.size() + raw_value.size() + 3);
    for (const char c : name)
        out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    out.push_back(':');
    bool pending_space = false;
    bool value_started = false;
    for (const char c : raw_value) {
        if (c == '\r' || c == '\n') continue;  // unfolding
        if (is_wsp(c)) {
            pending_space = true;
            continue;
        }
        if (pending_space && value_started) out.push_back(' ');
        pending_space = false;
        value_started = true;
        out.push_back(c);
    }
    out.append("\r\n");
    return out;
}

DkimBodyCanonicalizer::DkimBodyCanonicalizer(DkimCanonicalization mode, Sink sink)
    : mode_(mode), sink_(std::move(sink)) {}

void DkimBodyCanonicalizer::feed(std::string_view chunk) {
    if (finished_) return;
    const bool relaxed = mode_ == DkimCanonicalization::Relaxed;
    std::size_t i = 0;
    while (i < chunk.size()) {
        const char c = chunk[i];
        if (pending_cr_) {
            pending_cr_ = false;
            if (c == '\n') {
                end_of_line();
                ++i;
                continue;
            }
            content("\r");  // a CR without LF is ordinary data; c is handled below
        }
        if (c == '\r') {
            pending_cr_ = true;
            ++i;
            continue;
        }
        if (c == '\n') {  // bare LF: treated as a line end
            end_of_line();
            ++i;
            continue;
        }
        if (relaxed && is_wsp(c)) {
            pending_space_ = true;
            ++i;
            continue;
        }
        // The longest run of bytes that canonicalization copies unchanged.
        const auto& special = relaxed ? kRelaxedSpecial : kSimpleSpecial;
        const char* bytes = chunk.data();
        std::size_t run_end = i + 1;
        while (run_end < chunk.size()) {
            if (!special[static_cast<unsigned char>(bytes[run_end])]) {
                ++run_end;
                continue;
            }
            // Relaxed: a single SP between two ordinary bytes is already canonical, so it stays
            // in the run instead of going through pending_space_ (most spaces in text are such).
            if (relaxed && bytes[run_end] == ' ' && run_end + 1 < chunk.size() &&
                !special[static_cast<unsigned char>(bytes[run_end + 1])]) {
                run_end += 2;
                continue;
            }
            break;
        }
        content(chunk.substr(i, run_end - i));
        i = run_end;
    }
}

void DkimBodyCanonicalizer::content(std::string_view bytes) {
    if (!line_has_content_) {
        // Empty lines held back turn out not to be trailing: write them now.
        while (pending_empty_lines_ > 0) {
            emit("\r\n");
            --pending_empty_lines_;
        }
        line_has_content_ = true;
    }
    if (pending_space_) {
        emit(" ");
        pending_space_ = false;
    }
    emit(bytes);
}

void DkimBodyCanonicalizer::end_of_line() {
    if (line_has_content_) {
        emit("\r\n");
    } else {
        ++pending_empty_lines_;  // in relaxed mode this includes lines of only WSP
    }
    line_has_content_ = false;
    pending_space_ = false;
}

void DkimBodyCanonicalizer::finish() {
    if (finished_) return;
    if (pending_cr_) {
        pending_cr_ = false;
        content("\r");
    }
    // A last line without CRLF gets one; trailing empty lines are dropped.
    if (line_has_content_) emit("\r\n");
    // Simple: an empty body is a single CRLF (RFC 6376 §3.4.3); relaxed: empty stays empty.
    if (emitted_ == 0 && mode_ == DkimCanonicalization::Simple) emit("\r\n");
    flush();
    finished_ = true;
}

void DkimBodyCanonicalizer::emit(std::string_view bytes) {
    emitted_ += bytes.size();
    buffer_.append(bytes);
    if (buffer_.size() >= kFlushThreshold) flush();
}

void DkimBodyCanonicalizer::flush() {
    if (buffer_.empty()) return;
    sink_(buffer_);
    buffer_.clear();
}

std::string canonicalize_body(DkimCanonicalization mode, std::string_view body) {
    std::string out;
    DkimBodyCanonicalizer canonicalizer(mode,
                                        [&out](std::string_view bytes) { out.append(bytes); });
    canonicalizer.feed(body);
    canonicalizer.finish();
    return out;
}

void MdContextDeleter::operator()(evp_md_ctx_st* ctx) const {
    EVP_MD_CTX_free(ctx);
}

DkimBodyHasher::DkimBodyHasher(DkimCanonicalization mode, DkimHash hash,
                               std::optional<std::uint64_t> length_limit)
    : ctx_(EVP_MD_CTX_new()),
      length_limit_(length_limit),
      canonicalizer_(mode, [this](std::string_view bytes) { consume(bytes); }) {
    if (ctx_ && EVP_DigestInit_ex(ctx_.get(), hash == DkimHash::Sha1 ? EVP_sha1() : EVP_sha256(),
                                  nullptr) != 1) {
        ctx_.reset();  // finish() then reports an empty digest, which never matches bh=
    }
}

void DkimBodyHasher::consume(std::string_view canonical_bytes) {
    std::string_view hashed = canonical_bytes;
    if (length_limit_) {
        const std::uint64_t room = *length_limit_ > seen_ ? *length_limit_ - seen_ : 0;
        hashed = hashed.substr(
            0, static_cast<std::size_t>(std::min<std::uint64_t>(room, canonical_bytes.size())));
    }
    seen_ += canonical_bytes.size();
    if (ctx_ && !hashed.empty()) EVP_DigestUpdate(ctx_.get(), hashed.data(), hashed.size());
}

const DkimBodyHasher::Result& DkimBodyHasher::finish() {
    if (result_) return *result_;
    canonicalizer_.finish();
    Result result;
    result.canonical_length = seen_;
    result.length_exceeds_body = length_limit_ && *length_limit_ > seen_;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (ctx_ && EVP_DigestFinal_ex(ctx_.get(), digest, &length) == 1)
        result.digest.assign(reinterpret_cast<const char*>(digest), length);
    result_ = std::move(result);
    return *result_;
}

}  // namespace relaytrust::auth
