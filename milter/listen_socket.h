// Fixes to the socket libmilter opened (smfi_opensocket), before smfi_main accepts on it.
#pragma once

#include <sys/types.h>

#include <string>

namespace relaytrust::milter {

// libmilter never sets TCP_NODELAY. Whenever a callback sends two packets (edits, then the
// verdict at end of message) the second one waits for the MTA's delayed ACK: about 40 ms per
// message, 22 msg/s on one SMTP session. libmilter does not expose its listening descriptor,
// so this finds every listening inet socket of the process and sets the option there; Linux
// copies it to each accepted connection. Returns how many sockets were changed.
int enable_tcp_nodelay_on_listeners();

// Gives a unix socket the mode (and owner, when uid/gid are not -1) the MTA needs to connect;
// Postfix's smtpd runs as user postfix.
bool set_unix_socket_access(const std::string& path, mode_t mode, uid_t uid, gid_t gid,
                            std::string& error);

}  // namespace relaytrust::milter
