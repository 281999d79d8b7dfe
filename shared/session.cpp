#include "session.h"

#include <array>

namespace relaytrust {

namespace {
constexpr std::array<std::string_view, kStageCount> kStageNames = {"connect", "ehlo", "mail",
                                                                   "rcpt", "data"};
}  // namespace

std::string_view stage_name(Stage stage) {
    return kStageNames[static_cast<std::size_t>(stage)];
}

bool parse_stage(std::string_view text, Stage& out) {
    for (std::size_t i = 0; i < kStageNames.size(); ++i) {
        if (kStageNames[i] == text) {
            out = static_cast<Stage>(i);
            return true;
        }
    }
    return false;
}

void Session::reset_message() {
    queue_id.clear();
    mail_from.clear();
    recipients.clear();
    headers.clear();
    body_size = 0;
}

}  // namespace relaytrust
