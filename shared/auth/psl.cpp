#include "auth/psl.h"

#include <libpsl.h>

#include "auth/dkim_text.h"

namespace relaytrust::auth {

std::shared_ptr<const PublicSuffixList> PublicSuffixList::system() {
    // psl_latest(NULL) compares the built-in list with the file path libpsl was built with.
    static const std::shared_ptr<const PublicSuffixList> list = [] {
        psl_ctx_t* context = psl_latest(nullptr);
        if (context == nullptr) context = const_cast<psl_ctx_t*>(psl_builtin());
        return std::shared_ptr<const PublicSuffixList>(new PublicSuffixList(context));
    }();
    return list;
}

std::shared_ptr<const PublicSuffixList> PublicSuffixList::load_file(const std::string& path,
                                                                    std::string* error) {
    psl_ctx_t* context = psl_load_file(path.c_str());
    if (context == nullptr) {
        if (error != nullptr) *error = "cannot load public suffix list " + path;
        return nullptr;
    }
    return std::shared_ptr<const PublicSuffixList>(new PublicSuffixList(context));
}

PublicSuffixList::~PublicSuffixList() {
    // psl_free ignores the static built-in context.
    psl_free(context_);
}

std::string psl_lower(std::string_view domain) {
    bool ascii = true;
    for (const char c : domain) {
        if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    }
    if (!ascii) {
        const std::string input(domain);
        char* lower = nullptr;
        if (psl_str_to_utf8lower(input.c_str(), "utf-8", nullptr, &lower) == PSL_SUCCESS &&
            lower != nullptr) {
            std::string out(lower);
            psl_free_string(lower);
            return out;
        }
    }
    return ascii_lower(domain);
}

std::optional<std::string> PublicSuffixList::registrable_domain(std::string_view domain) const {
    if (domain.empty() || domain.front() == '.' || domain.back() == '.') return std::nullopt;
    if (domain.find('\0') != std::string_view::npos) return std::nullopt;
    const std::string lower = psl_lower(domain);
    const char* registrable = psl_registrable_domain(context_, lower.c_str());
    if (registrable == nullptr) return std::nullopt;
    return std::string(registrable);
}

bool PublicSuffixList::is_public_suffix(std::string_view domain) const {
    if (domain.empty() || domain.find('\0') != std::string_view::npos) return false;
    const std::string lower = psl_lower(domain);
    return psl_is_public_suffix2(context_, lower.c_str(), PSL_TYPE_ANY) != 0;
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
    if (std::optional<std::string> registrable = registrable_domain(domain)) return *registrable;
    return psl_lower(domain);
}

}  // namespace relaytrust::auth
