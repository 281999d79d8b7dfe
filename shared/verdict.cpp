#include "verdict.h"

#include <array>
#include <cctype>

namespace relaytrust {

namespace {
constexpr std::array<std::string_view, kActionCount> kActionNames = {"accept", "reject", "tempfail",
                                                                     "discard", "quarantine"};
}  // namespace

std::string_view action_name(Action action) {
    return kActionNames[static_cast<std::size_t>(action)];
}

int action_severity(Action action) {
    switch (action) {
        case Action::Accept:
            return 0;
        case Action::Quarantine:
            return 1;
        case Action::Discard:
            return 2;
        case Action::Tempfail:
            return 3;
        case Action::Reject:
            return 4;
    }
    return 0;
}

bool parse_action(std::string_view text, Action& out) {
    for (std::size_t i = 0; i < kActionNames.size(); ++i) {
        if (kActionNames[i] == text) {
            out = static_cast<Action>(i);
            return true;
        }
    }
    return false;
}

std::string validate_reply(Action action, const SmtpReply& reply) {
    if (reply.code < 200 || reply.code > 599) return "reply code must be a 3-digit SMTP code";
    const int cls = reply.code / 100;
    if (action == Action::Reject && cls != 5) return "a reject needs a 5xx reply code";
    if (action == Action::Tempfail && cls != 4) return "a tempfail needs a 4xx reply code";
    if ((action == Action::Accept || action == Action::Quarantine || action == Action::Discard) &&
        cls != 2) {
        return "accept, discard and quarantine take a 2xx reply code";
    }
    if (!reply.enhanced.empty()) {
        // x.y.z with x = class digit, y 1-3 digits, z 1-3 digits (RFC 3463).
        const std::string& e = reply.enhanced;
        std::size_t dot1 = e.find('.');
        std::size_t dot2 = dot1 == std::string::npos ? dot1 : e.find('.', dot1 + 1);
        auto digits = [&](std::size_t from, std::size_t to) {
            if (to <= from || to - from > 3) return false;
            for (std::size_t i = from; i < to; ++i) {
                if (!std::isdigit(static_cast<unsigned char>(e[i]))) return false;
            }
            return true;
        };
        if (dot1 != 1 || dot2 == std::string::npos || !digits(dot1 + 1, dot2) ||
            !digits(dot2 + 1, e.size())) {
            return "enhanced status must look like 5.7.1";
        }
        if (e[0] - '0' != cls) return "enhanced status class must match the reply code";
    }
    for (char c : reply.text) {
        if (c == '\r' || c == '\n') return "reply text must not contain CR or LF";
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
            return "reply text must not contain control characters";
    }
    return "";
}

SmtpReply default_reply(Action action) {
    switch (action) {
        case Action::Reject:
            return {550, "5.7.1", "Message rejected by policy"};
        case Action::Tempfail:
            return {451, "4.7.1", "Try again later"};
        case Action::Discard:
        case Action::Quarantine:
        case Action::Accept:
            break;
    }
    return {250, "2.0.0", "OK"};
}

std::string_view modification_kind_name(Modification::Kind kind) {
    switch (kind) {
        case Modification::Kind::AddHeader:
            return "add-header";
        case Modification::Kind::InsertHeader:
            return "insert-header";
        case Modification::Kind::ChangeHeader:
            return "change-header";
        case Modification::Kind::DeleteHeader:
            return "delete-header";
        case Modification::Kind::ChangeSender:
            return "change-sender";
        case Modification::Kind::AddRecipient:
            return "add-recipient";
        case Modification::Kind::DeleteRecipient:
            return "delete-recipient";
        case Modification::Kind::ReplaceBody:
            return "replace-body";
    }
    return "?";
}

}  // namespace relaytrust
