// The variables expressions can read. Names follow Stalwart where Stalwart has one.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "expr/expression.h"

namespace relaytrust {

enum class Variable : expr::VariableId {
    // Stalwart's session variables.
    Listener,
    RemoteIp,
    RemotePort,
    LocalIp,
    LocalPort,
    Protocol,
    IsTls,
    HeloDomain,
    AuthenticatedAs,
    Sender,
    SenderDomain,
    Rcpt,
    RcptDomain,
    Recipients,
    // relaytrust's own.
    Stage,  // 'connect' ... 'data'
    QueueId,
    TlsVersion,
    RemoteHost,    // PTR name as the MTA resolved it
    Relay,         // name of the trusted relay the session comes from, '' otherwise
    IsRelay,       // remote_ip is a trusted relay of this listener
    SpamTrusted,   // a verdict header from the trusted relay was found and parsed
    SpamVerdict,   // 'spam' | 'ham' | '' (trusted headers only)
    SpamScore,     // number (0 when unknown)
    SpamRequired,  // relay's threshold (0 when unknown)
    SpamTests,     // list of rule names the relay reported
    VirusFound,    // trusted virus header says infected
    VirusName,
    StrippedCount,  // verdict header instances removed as untrusted
    BodySize,
    SpfResult,  // none | neutral | pass | fail | softfail | temperror | permerror
    SpfDomain,
    DkimResult,   // pass if any signature passed, else the first signature's result; none
    DkimDomains,  // list of d= of passing signatures
    DmarcResult,  // none | pass | fail | temperror | permerror
    DmarcPolicy,  // what the sender's DMARC record asks for this message: none | quarantine |
                  // reject
    DmarcFrom,    // the RFC5322.From domain DMARC evaluated
    OriginIp,     // the IP SPF was evaluated for (the relay's client in origin mode)
    OriginHelo,
    AuthSource,  // evaluated | relay-ar | none
    Count_,      // not a variable; constants get ids from here on
};

inline constexpr expr::VariableId kFirstConstantId =
    static_cast<expr::VariableId>(Variable::Count_);

std::string_view variable_name(Variable v);
std::optional<Variable> variable_by_name(std::string_view name);
// Every built-in variable name, for docs and error hints.
std::span<const std::string_view> variable_names();

}  // namespace relaytrust
