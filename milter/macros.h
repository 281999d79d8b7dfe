// MTA macros -> engine Session. Postfix and Sendmail send different macro sets by default, so
// the milter asks for what it needs (smfi_setsymlist) and falls back to the callback arguments
// whenever a macro is missing.
#pragma once

#include <libmilter/mfapi.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

#include "session.h"

namespace relaytrust::milter {

// Asks the MTA for the macros below at each stage. Only valid inside xxfi_negotiate; returns
// false when the MTA refused one list (the milter then works with what it gets).
bool request_macros(SMFICTX* ctx);

// A macro's value, or nullopt when the MTA did not send it.
std::optional<std::string> macro(SMFICTX* ctx, const char* name);

// Connection facts: {client_addr} {client_port} {client_name} {daemon_name} {daemon_addr}
// {daemon_port} j, with the xxfi_connect arguments as the fallback for the client.
void fill_connect_facts(SMFICTX* ctx, const char* hostname, const sockaddr* hostaddr,
                        Session& session);
// TLS facts from the HELO stage: {tls_version} {cipher}.
void fill_helo_facts(SMFICTX* ctx, Session& session);
// Authentication from the MAIL stage: {auth_authen}.
void fill_mail_facts(SMFICTX* ctx, Session& session);
// The queue ID (macro i): Sendmail sends it from MAIL on, Postfix from DATA on.
void update_queue_id(SMFICTX* ctx, Session& session);

// "<alice@example.com>" -> "alice@example.com"; "<>" -> "".
std::string envelope_address(std::string_view smtp_argument);

// "IPv6:2001:db8::1" (Sendmail), "[192.0.2.1]" -> bare address text.
std::string bare_ip(std::string_view text);

// The MTA's PTR name for the client: "" when it found none ("unknown", "[1.2.3.4]").
std::string resolved_host_name(std::string_view text);

}  // namespace relaytrust::milter
