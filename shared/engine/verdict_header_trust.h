// Decides, header by header, which verdict headers the trusted relay wrote (kept and read) and
// which anyone else wrote (removed). Position is what makes a header trustworthy: a sender can
// write any text, but cannot write above the relay's own Received hop.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "headers/verdict_header_parser.h"
#include "policy/policy.h"
#include "session.h"

namespace relaytrust {

struct HeaderDecision {
    std::size_t header_index = 0;  // into Session::headers
    std::string name;              // as written
    int occurrence = 0;            // 1-based among same-named headers (case-insensitive)
    headers::VerdictHeaderKind kind = headers::VerdictHeaderKind::None;
    bool trusted = false;  // kept and read; otherwise removed
    std::string reason;
    headers::SpamVerdict parsed;  // what a trusted instance says
};

struct TrustAnalysis {
    const TrustedRelay* relay = nullptr;         // the relay this session comes from, if any
    std::optional<std::size_t> relay_hop_index;  // the relay's own Received header
    std::size_t own_received_count = 0;          // Received headers our MTA put on top
    std::vector<HeaderDecision> decisions;       // one per verdict header instance

    bool spam_trusted = false;
    std::string spam_verdict;  // "spam", "ham" or ""
    double spam_score = 0;
    double spam_required = 0;
    std::vector<std::string> spam_tests;
    bool virus_found = false;
    std::string virus_name;

    std::size_t stripped_count() const;
};

// A Received header our own MTA wrote (its `by` host is our name). Only meaningful for the
// Received headers on top of the block.
bool is_own_received(const Policy& policy, const Session& session, const Header& received);

// The relay (of the session's listener) whose network holds remote_ip, or nullptr.
const TrustedRelay* find_trusted_relay(const Listener& listener, const Session& session);

// Where the Received headers on top of the block stand: ours first, then the relay's hop.
struct ReceivedLayout {
    std::size_t own_received_count = 0;          // Received headers our MTA put on top
    std::optional<std::size_t> relay_hop_index;  // the first Received below ours
    // Feeds the header at `index` (headers arrive top down); parses only the Received headers
    // down to the first foreign one.
    void add(const Policy& policy, const Session& session, const Header& header, std::size_t index);
};

// layout: the Received layout already worked out while the headers streamed in (each
// Received is then parsed once per message), or nullptr to work it out here.
TrustAnalysis analyse_verdict_headers(const Policy& policy, const TrustedRelay* relay,
                                      const Session& session,
                                      const ReceivedLayout* layout = nullptr);

}  // namespace relaytrust
