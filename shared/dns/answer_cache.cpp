#include "dns/answer_cache.h"

#include <algorithm>

namespace relaytrust::dns {

std::string AnswerCache::key_of(std::string_view name, RecordType type) {
    if (name.ends_with('.')) name.remove_suffix(1);
    const auto code = static_cast<std::uint16_t>(type);
    const char type_bytes[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    std::string key(type_bytes, sizeof type_bytes);
    key.append(name);
    for (char& c : key)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return key;
}

std::optional<Answer> AnswerCache::find(std::string_view name, RecordType type,
                                        Clock::time_point now) {
    if (limits_.max_entries == 0) return std::nullopt;
    const std::string key = key_of(name, type);
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(key);
    if (found == entries_.end()) return std::nullopt;
    if (found->second.expires <= now) {
        entries_.erase(found);  // its order_ entry goes stale and is skipped later
        return std::nullopt;
    }
    return found->second.answer;
}

void AnswerCache::store(std::string_view name, RecordType type, const Answer& answer,
                        std::chrono::seconds ttl, Clock::time_point now) {
    if (limits_.max_entries == 0 || ttl.count() <= 0) return;
    if (answer.status != Status::Ok && answer.status != Status::NxDomain) return;
    std::string key = key_of(name, type);
    const Clock::time_point expires = now + std::min(ttl, limits_.max_ttl);
    std::lock_guard lock(mutex_);
    const std::uint64_t sequence = next_sequence_++;
    if (const auto found = entries_.find(key); found != entries_.end()) {
        found->second = Entry{answer, expires, sequence};  // two lookups missed at once
    } else {
        evict_oldest_while_full();
        entries_.emplace(key, Entry{answer, expires, sequence});
    }
    order_.emplace_back(std::move(key), sequence);
    // Keys stored again leave stale records in order_: drop them before they pile up.
    if (order_.size() > 2 * limits_.max_entries) drop_stale(now);
}

void AnswerCache::evict_oldest_while_full() {
    // Oldest insertions first: entries stored earliest mostly expire first, too.
    while (entries_.size() >= limits_.max_entries && !order_.empty()) {
        const auto& [key, sequence] = order_.front();
        const auto found = entries_.find(key);
        if (found != entries_.end() && found->second.sequence == sequence) entries_.erase(found);
        order_.pop_front();
    }
}

void AnswerCache::drop_stale(Clock::time_point now) {
    std::erase_if(order_, [&](const std::pair<std::string, std::uint64_t>& item) {
        const auto found = entries_.find(item.first);
        return found == entries_.end() || found->second.sequence != item.second ||
               found->second.expires <= now;
    });
    std::erase_if(entries_, [&](const auto& item) { return item.second.expires <= now; });
}

std::size_t AnswerCache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace relaytrust::dns
