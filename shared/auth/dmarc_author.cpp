#include "auth/dmarc_author.h"

#include "auth/dkim_text.h"

namespace relaytrust::auth {
namespace {

class FromParser {
  public:
    explicit FromParser(std::string_view text) : text_(text) {}

    FromAddresses run() {
        for (pos_ = 0; pos_ < text_.size() && result_.error.empty(); ++pos_) {
            const char c = text_[pos_];
            if (in_angle_) {
                angle_step(c);
                continue;
            }
            switch (c) {
                case '(':
                    skip_comment();
                    current_.push_back(' ');
                    break;
                case '"':
                    copy_quoted(current_);
                    break;
                case '\\':
                    if (pos_ + 1 < text_.size()) current_.push_back(text_[++pos_]);
                    break;
                case '<':
                    in_angle_ = true;
                    angle_seen_ = true;
                    angle_.clear();
                    break;
                case ',':
                case ';':
                    finish_mailbox();
                    break;
                case ':':
                    current_.clear();  // a group's display name: the mailboxes follow
                    angle_seen_ = false;
                    break;
                default:
                    current_.push_back(c);
            }
        }
        if (result_.error.empty() && in_angle_) result_.error = "unterminated <address>";
        if (result_.error.empty()) finish_mailbox();
        if (result_.error.empty() && result_.domains.empty()) result_.error = "no address in From";
        result_.ok = result_.error.empty();
        if (!result_.ok) result_.domains.clear();
        return std::move(result_);
    }

  private:
    void angle_step(char c) {
        if (c == '>') {
            in_angle_ = false;
        } else if (c == '"') {
            copy_quoted(angle_);
        } else if (c == '(') {
            skip_comment();
        } else if (c == '\\' && pos_ + 1 < text_.size()) {
            angle_.push_back(text_[++pos_]);
        } else {
            angle_.push_back(c);
        }
    }

    void skip_comment() {
        int depth = 0;
        for (; pos_ < text_.size(); ++pos_) {
            const char c = text_[pos_];
            if (c == '\\') {
                ++pos_;
            } else if (c == '(') {
                ++depth;
            } else if (c == ')' && --depth == 0) {
                return;
            }
        }
        result_.error = "unterminated comment";
    }

    // Copies a quoted-string including its quotes, so an '@' inside stays recognisable.
    void copy_quoted(std::string& out) {
        out.push_back('"');
        for (++pos_; pos_ < text_.size(); ++pos_) {
            const char c = text_[pos_];
            if (c == '\\' && pos_ + 1 < text_.size()) {
                out.push_back(text_[++pos_]);
            } else if (c == '"') {
                out.push_back('"');
                return;
            } else {
                out.push_back(c);
            }
        }
        result_.error = "unterminated quoted string";
    }

    void finish_mailbox() {
        std::string_view address = trim_dkim_whitespace(angle_seen_ ? angle_ : current_);
        const bool had_angle = angle_seen_;
        current_.clear();
        angle_.clear();
        angle_seen_ = false;
        if (address.empty()) {
            if (had_angle) result_.error = "empty <> address";
            return;  // an empty list element or the end of a group
        }
        if (address.front() == '@') {  // obsolete source route "@a,@b:user@domain"
            const std::size_t colon = address.find(':');
            address =
                colon == std::string_view::npos ? std::string_view() : address.substr(colon + 1);
        }
        const std::size_t at = address.rfind('@');
        if (at == std::string_view::npos) {
            result_.error = "address without a domain";
            return;
        }
        std::string domain;
        for (const char c : address.substr(at + 1)) {
            if (!is_dkim_whitespace(c)) domain.push_back(c);
        }
        while (!domain.empty() && domain.back() == '.')
            domain.pop_back();
        domain = ascii_lower(domain);
        if (!is_valid_domain_name(domain)) {
            result_.error = "invalid From domain";
            return;
        }
        result_.domains.push_back(std::move(domain));
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::string current_;
    std::string angle_;
    bool in_angle_ = false;
    bool angle_seen_ = false;
    FromAddresses result_;
};

}  // namespace

FromAddresses parse_from_addresses(std::string_view raw_value) {
    return FromParser(raw_value).run();
}

}  // namespace relaytrust::auth
