-- The MTA sends fewer macros than relaytrust-milter asks for (Sendmail's defaults lack
-- {client_addr}; an admin may trim lists): the milter falls back to the xxfi_connect arguments
-- and the default listener, and never trusts what it cannot establish.
dofile(dir .. "/common.lua")

T.run("missing_macros", function()
  -- 1. No macros at all: default listener "mx", no trust, forged verdict headers stripped.
  local conn = T.open(nil, "client.example", "192.0.2.10")
  T.expect_reply(conn, SMFIR_CONTINUE, "connect without macros")
  T.check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
  T.expect_reply(conn, SMFIR_CONTINUE, "mail without macros")
  T.check(mt.rcptto(conn, "<bob@example.net>") == nil, "rcptto")
  T.expect_reply(conn, SMFIR_CONTINUE, "rcpt without macros")
  T.header(conn, "X-Spam-Status", " No, score=-9.0 required=5.0 tests=FORGED")
  T.plain_headers(conn, "no macros")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "eom without macros")
  T.expect_result(conn, "listener=mx; trusted=no; spam=unknown; score=0.00; virus=no; stripped=1$",
                  "no macros")
  T.check(mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Status"), "forged X-Spam-Status not deleted")
  mt.disconnect(conn)

  -- 2. {daemon_name} only, client IP from the connect arguments (no {client_addr}): a
  --    non-relay address on relay-in is still refused at connect.
  conn = T.open({"{daemon_name}", "relay-in"}, "client.example", "192.0.2.10")
  T.expect_reply(conn, SMFIR_REPLYCODE, "relay-in from 192.0.2.10 via hostaddr")
  mt.disconnect(conn)

  -- 3. Same, from the relay's address: accepted, and its verdict is believed.
  conn = T.open({"{daemon_name}", "relay-in"}, "localhost", "127.0.0.1")
  T.expect_reply(conn, SMFIR_CONTINUE, "relay-in from 127.0.0.1 via hostaddr")
  T.check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
  T.check(mt.rcptto(conn, "<bob@example.net>") == nil, "rcptto")
  T.relay_verdict(conn, "15.0", true)
  T.plain_headers(conn, "relay spam, no client_addr")
  T.eom(conn)
  T.expect_smtp_reply(conn, "550", "5.7.1", "Message rejected as spam", "trusted spam via hostaddr")
  mt.disconnect(conn)

  -- 4. An unknown protocol family (no address at all) on relay-in: not the relay, refused.
  conn = T.open({"{daemon_name}", "relay-in"}, "unknown", "unspec")
  T.expect_reply(conn, SMFIR_REPLYCODE, "relay-in from an unknown address family")
  mt.disconnect(conn)

  -- 5. No envelope macros, no queue ID, null sender: still one decision, nothing crashes.
  conn = T.open({"{daemon_name}", "mx"}, "client.example", "192.0.2.11")
  T.expect_reply(conn, SMFIR_CONTINUE, "connect mx")
  T.check(mt.mailfrom(conn, "<>") == nil, "null sender")
  T.expect_reply(conn, SMFIR_CONTINUE, "null sender")
  T.check(mt.rcptto(conn, "<postmaster@example.net>") == nil, "rcptto")
  T.plain_headers(conn, "bounce")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "null sender eom")
  T.expect_result(conn, "listener=mx; trusted=no", "null sender")
  mt.disconnect(conn)
end)
