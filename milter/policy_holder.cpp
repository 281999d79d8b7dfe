#include "policy_holder.h"

namespace relaytrust::milter {

PolicyLoadResult PolicyHolder::load() {
    std::lock_guard lock(load_mutex_);
    PolicyLoadResult result = path_.empty() ? load_default_policy() : load_policy_file(path_);
    if (result.ok()) {
        snapshot_.store(std::make_shared<const PolicySnapshot>(
            PolicySnapshot{result.policy, generation() + 1}));
    }
    return result;
}

std::string describe_policy(const Policy& policy) {
    std::size_t rules = 0;
    std::string stages;
    for (std::size_t i = 0; i < kStageCount; ++i) {
        const auto stage = static_cast<Stage>(i);
        rules += policy.rules_by_stage[i].size();
        if (policy.uses_stage(stage)) {
            if (!stages.empty()) stages += ",";
            stages += stage_name(stage);
        }
    }
    std::string text = policy.source + ": " + std::to_string(policy.listeners.size()) +
                       " listener(s), " + std::to_string(rules) + " rule(s)";
    text += " (stages with rules: " + (stages.empty() ? std::string("none") : stages) + ")";
    text += ", hostname " + policy.hostname;
    return text;
}

}  // namespace relaytrust::milter
