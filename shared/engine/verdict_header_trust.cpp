#include "engine/verdict_header_trust.h"

#include <algorithm>
#include <array>

#include "engine/concat.h"
#include "headers/received_parser.h"

namespace relaytrust {

using headers::iequals;
using headers::VerdictHeaderKind;

std::size_t TrustAnalysis::stripped_count() const {
    return static_cast<std::size_t>(std::count_if(decisions.begin(), decisions.end(),
                                                  [](const auto& d) { return !d.trusted; }));
}

namespace {

bool icontains(std::string_view text, std::string_view needle) {
    if (needle.empty() || needle.size() > text.size()) return false;
    // Only the positions holding the needle's first letter (in either case) can start a match:
    // memchr finds them faster than a byte-by-byte walk.
    const char first = needle.front();
    const bool letter = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
    const char lower = letter ? static_cast<char>(first | 0x20) : first;
    const char upper = letter ? static_cast<char>(first & ~0x20) : first;
    const std::size_t last_start = text.size() - needle.size();
    std::size_t next_lower = text.find(lower);
    std::size_t next_upper = upper == lower ? std::string_view::npos : text.find(upper);
    while (true) {
        const std::size_t i = std::min(next_lower, next_upper);
        if (i == std::string_view::npos || i > last_start) return false;
        if (iequals(text.substr(i, needle.size()), needle)) return true;
        if (i == next_lower) next_lower = text.find(lower, i + 1);
        if (i == next_upper) next_upper = text.find(upper, i + 1);
    }
}

}  // namespace

bool is_own_received(const Policy& policy, const Session& session, const Header& received) {
    // Ours only if its `by` host is one of our names, and a host name is one unbroken token of
    // the raw value (unfolding removes line breaks only before white space): a value that
    // contains none of them needs no parse. That is every relay hop when the MTA does not show
    // its own Received header (Stalwart's hooks, Postfix's milters).
    const std::string_view names[] = {policy.hostname, session.mta_hostname,
                                      policy.hostname.empty() && session.mta_hostname.empty()
                                          ? std::string_view(policy.system_hostname)
                                          : std::string_view()};
    if (std::none_of(std::begin(names), std::end(names),
                     [&](std::string_view name) { return icontains(received.raw_value, name); })) {
        return false;
    }
    auto parsed = headers::parse_received(received.raw_value);
    if (!parsed.ok || parsed.hop.by_host.empty()) return false;
    const std::string& by = parsed.hop.by_host;
    return (!policy.hostname.empty() && iequals(by, policy.hostname)) ||
           (!session.mta_hostname.empty() && iequals(by, session.mta_hostname)) ||
           (policy.hostname.empty() && session.mta_hostname.empty() &&
            iequals(by, policy.system_hostname));
}

const TrustedRelay* find_trusted_relay(const Listener& listener, const Session& session) {
    for (const auto& relay : listener.relays) {
        if (relay.network && relay.network->contains(session.remote_ip)) return &relay;
    }
    return nullptr;
}

void ReceivedLayout::add(const Policy& policy, const Session& session, const Header& header,
                         std::size_t index) {
    if (relay_hop_index || !iequals(header.name, "Received")) return;
    if (is_own_received(policy, session, header)) {
        ++own_received_count;
    } else {
        relay_hop_index = index;
    }
}

namespace {

// Counts per header name, case-insensitively. A message has a handful of verdict header
// names: a short list beats a map (and std::tolower's locale lookups), and the first few
// entries live inline so that a usual message allocates nothing here.
class NameCounter {
  public:
    int& operator[](std::string_view name) {
        if (int* count = find_in(*this, name)) return *count;
        if (inline_used_ < inline_.size()) {
            inline_[inline_used_] = {name, 0};
            return inline_[inline_used_++].second;
        }
        return overflow_.emplace_back(name, 0).second;
    }
    const int* find(std::string_view name) const { return find_in(*this, name); }

  private:
    using Entry = std::pair<std::string_view, int>;
    // Self: NameCounter or const NameCounter, for find() and operator[] alike.
    template <typename Self>
    static auto find_in(Self& self, std::string_view name) -> decltype(&self.inline_[0].second) {
        for (std::size_t i = 0; i < self.inline_used_; ++i) {
            if (iequals(self.inline_[i].first, name)) return &self.inline_[i].second;
        }
        for (auto& [known, count] : self.overflow_) {
            if (iequals(known, name)) return &count;
        }
        return nullptr;
    }

    std::array<Entry, 8> inline_{};
    std::size_t inline_used_ = 0;
    std::vector<Entry> overflow_;
};

VerdictHeaderKind classify(const Policy& policy, std::string_view name) {
    if (iequals(name, policy.result_header.name)) return VerdictHeaderKind::SpamOther;
    VerdictHeaderKind kind = headers::classify_verdict_header(name);
    if (kind != VerdictHeaderKind::None) return kind;
    for (const auto& extra : policy.extra_verdict_headers) {
        if (iequals(name, extra)) return VerdictHeaderKind::SpamOther;
    }
    return VerdictHeaderKind::None;
}

// Folds one trusted, parsed header into the combined verdict. Earlier calls win for is_spam
// (callers pass headers in priority order).
void merge_spam(TrustAnalysis& out, const headers::SpamVerdict& v, bool& have_verdict,
                bool& have_score) {
    if (v.is_spam && !have_verdict) {
        out.spam_verdict = *v.is_spam ? "spam" : "ham";
        have_verdict = true;
    }
    if (v.score && !have_score) {
        out.spam_score = *v.score;
        have_score = true;
    }
    if (v.required && out.spam_required == 0) out.spam_required = *v.required;
    if (out.spam_tests.empty() && !v.tests.empty()) out.spam_tests = v.tests;
    out.spam_trusted = true;
}

// spam_priority(): 0 is the strongest, kLowestSpamPriority the weakest, -1 no spam verdict.
constexpr int kLowestSpamPriority = 5;
int spam_priority(VerdictHeaderKind kind) {
    switch (kind) {
        case VerdictHeaderKind::SpamStatus:
            return 0;
        case VerdictHeaderKind::SpamFlag:
            return 1;
        case VerdictHeaderKind::SpamScore:
            return 2;
        case VerdictHeaderKind::SpamdResult:
            return 3;
        case VerdictHeaderKind::RspamdScore:
            return 4;
        case VerdictHeaderKind::SpamLevel:
            return kLowestSpamPriority;
        default:
            return -1;
    }
}

}  // namespace

TrustAnalysis analyse_verdict_headers(const Policy& policy, const TrustedRelay* relay,
                                      const Session& session, const ReceivedLayout* layout) {
    TrustAnalysis out;
    out.relay = relay;
    const auto& hdrs = session.headers;

    // Locate our own Received headers (on top) and the relay's hop just below them.
    ReceivedLayout computed;
    if (!layout) {
        for (std::size_t i = 0; i < hdrs.size() && !computed.relay_hop_index; ++i) {
            computed.add(policy, session, hdrs[i], i);
        }
        layout = &computed;
    }
    out.own_received_count = layout->own_received_count;
    out.relay_hop_index = layout->relay_hop_index;
    // Own Received headers are the first ones of the block: the region the relay wrote starts
    // below the last of them.
    std::size_t region_start = 0;
    for (std::size_t i = 0, own = 0; i < hdrs.size() && own < out.own_received_count; ++i) {
        if (iequals(hdrs[i].name, "Received")) {
            ++own;
            region_start = i + 1;
        }
    }

    // Every verdict header instance, with its occurrence number among same-named headers.
    // A message usually carries a few: room for those without regrowing.
    out.decisions.reserve(std::min<std::size_t>(hdrs.size(), 8));
    NameCounter seen;
    for (std::size_t i = 0; i < hdrs.size(); ++i) {
        VerdictHeaderKind kind = classify(policy, hdrs[i].name);
        if (kind == VerdictHeaderKind::None) continue;
        HeaderDecision& d = out.decisions.emplace_back();
        d.header_index = i;
        d.name = hdrs[i].name;
        d.occurrence = ++seen[hdrs[i].name];
        d.kind = kind;
    }

    // Pick, per header name, the single instance in the trusted position.
    // Per name, the index into decisions of the instance in position (absent: none).
    NameCounter chosen;
    if (relay) {
        for (std::size_t k = 0; k < out.decisions.size(); ++k) {
            const auto& d = out.decisions[k];
            if (iequals(d.name, policy.result_header.name)) continue;
            if (relay->position == VerdictPosition::LastInstance) {
                chosen[d.name] = static_cast<int>(k);  // later ones overwrite: the last stays
            } else if (out.relay_hop_index && d.header_index >= region_start &&
                       d.header_index < *out.relay_hop_index) {
                chosen[d.name] = static_cast<int>(k);  // the last one above the hop is nearest
            }
        }
    }

    for (std::size_t k = 0; k < out.decisions.size(); ++k) {
        auto& d = out.decisions[k];
        const int* chosen_index = chosen.find(d.name);
        const bool in_position = chosen_index && *chosen_index == static_cast<int>(k);
        if (iequals(d.name, policy.result_header.name)) {
            d.reason = concat({"relaytrust writes its own ", policy.result_header.name,
                               "; incoming copies are never kept"});
        } else if (!relay) {
            d.reason =
                session.listener.empty() || policy.find_listener(session.listener) == nullptr ||
                        policy.find_listener(session.listener)->relays.empty()
                    ? concat({"listener '", session.listener, "' has no trusted relay"})
                    : concat({"client ", session.remote_ip, " is not a trusted relay of listener '",
                              session.listener, "'"});
        } else if (!in_position) {
            if (relay->position == VerdictPosition::LastInstance) {
                d.reason = concat({"not the last ", d.name, " in the header block"});
            } else if (!out.relay_hop_index) {
                d.reason =
                    concat({"no Received header from relay '", relay->name, "' to anchor trust"});
            } else if (d.header_index > *out.relay_hop_index) {
                d.reason = "below the relay's Received hop: written before the relay saw it";
            } else if (d.header_index < region_start) {
                d.reason = "above our own Received header: not written by the relay";
            } else {
                d.reason = concat({"another ", d.name, " stands nearer the relay's hop"});
            }
        } else if (d.kind == VerdictHeaderKind::SpamOther) {
            d.trusted = true;
            d.reason = concat({"written by relay '", relay->name, "'"});
        } else {
            auto parsed = headers::parse_verdict_header(d.kind, hdrs[d.header_index].raw_value);
            if (!parsed.ok) {
                d.reason =
                    concat({"written by relay '", relay->name, "' but unparsable: ", parsed.error});
            } else {
                d.trusted = true;
                d.reason = concat({"written by relay '", relay->name, "'"});
                d.parsed = std::move(parsed.verdict);
            }
        }
    }

    // Combine the trusted headers in priority order: X-Spam-Status's Yes/No outranks flags,
    // which outrank scores; within one priority, header order. Virus reports stand apart
    // (header order). One pass per priority instead of a sorted copy: no allocation, and
    // there are only a few decisions.
    for (const auto& d : out.decisions) {
        if (d.trusted && d.kind == VerdictHeaderKind::VirusStatus &&
            d.parsed.virus_found.value_or(false)) {
            out.virus_found = true;
            if (out.virus_name.empty()) out.virus_name = d.parsed.virus_name;
        }
    }
    bool have_verdict = false, have_score = false;
    for (int priority = 0; priority <= kLowestSpamPriority; ++priority) {
        for (const auto& d : out.decisions) {
            if (d.trusted && spam_priority(d.kind) == priority) {
                merge_spam(out, d.parsed, have_verdict, have_score);
            }
        }
    }
    return out;
}

}  // namespace relaytrust
