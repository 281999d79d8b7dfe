-- Several messages on one MTA connection, each with a different verdict, in the order an SMTP
-- session delivers them. Every verdict kind and stage gets its libmilter reply.
dofile(dir .. "/common.lua")

T.run("several_messages", function()
  local conn = T.open_relay_in()

  -- 1. Trusted spam, score 15: 550 at end of message.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID1001")
  T.relay_verdict(conn, "15.0", true)
  T.plain_headers(conn, "one")
  T.eom(conn)
  T.expect_smtp_reply(conn, "550", "5.7.1", "Message rejected as spam", "message 1")

  -- 2. Ham: accepted with the result header at the top, verdict headers kept.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID1002")
  T.relay_verdict(conn, "0.5", false)
  T.plain_headers(conn, "two")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "message 2")
  T.check(mt.eom_check(conn, MT_HDRINSERT, "X-Relaytrust-Result"), "message 2: no result header inserted")
  T.check(not mt.eom_check(conn, MT_HDRDELETE), "message 2: a trusted header was deleted")
  T.check(not mt.eom_check(conn, MT_QUARANTINE), "message 2: quarantined")
  T.expect_result(conn, "^ mx%.test%.example; action=accept; rule=none; listener=relay%-in; trusted=yes", "message 2")

  -- 3. Score 8.5: quarantine plus the result header.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID1003")
  T.relay_verdict(conn, "8.5", true)
  T.plain_headers(conn, "three")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "message 3")
  T.check(mt.eom_check(conn, MT_QUARANTINE), "message 3: not quarantined")
  T.expect_result(conn, "action=quarantine; rule=spam%-quarantine", "message 3")

  -- 4. Score 6.1: Subject tagged (one leading space, as the MTA wants it under LEADSPC).
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID1004")
  T.relay_verdict(conn, "6.1", true)
  T.plain_headers(conn, "four")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "message 4")
  T.check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " [SPAM] four"), "message 4: subject not tagged")

  -- 5. A sender refused at MAIL (553 with its text).
  T.check(mt.mailfrom(conn, "<bulk@spammer.example>") == nil, "mailfrom")
  T.expect_reply(conn, SMFIR_REPLYCODE, "message 5 MAIL")
  T.check(mt.abort(conn) == nil, "abort")

  -- 6. One recipient tempfailed (450, with a '%' in the text), the next accepted.
  T.check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
  T.expect_reply(conn, SMFIR_CONTINUE, "message 6 MAIL")
  T.check(mt.rcptto(conn, "<later@example.net>") == nil, "rcptto later")
  T.expect_reply(conn, SMFIR_REPLYCODE, "message 6 RCPT later@")
  T.check(mt.rcptto(conn, "<bob@example.net>") == nil, "rcptto bob")
  T.expect_reply(conn, SMFIR_CONTINUE, "message 6 RCPT bob@")
  T.plain_headers(conn, "six")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "message 6")

  -- 7. A blackholed recipient: the whole message is discarded at RCPT.
  T.check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
  T.expect_reply(conn, SMFIR_CONTINUE, "message 7 MAIL")
  T.check(mt.rcptto(conn, "<x@blackhole.example>") == nil, "rcptto blackhole")
  T.expect_reply(conn, SMFIR_DISCARD, "message 7 RCPT blackhole")
  T.check(mt.abort(conn) == nil, "abort")

  -- 8. And the connection still delivers afterwards.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID1008")
  T.plain_headers(conn, "eight")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "message 8")
  mt.disconnect(conn)

  -- 9. HELO-stage tempfail on a new connection.
  conn = T.open({"{daemon_name}", "mx"}, "client.example", "192.0.2.20")
  T.expect_reply(conn, SMFIR_CONTINUE, "connect mx")
  T.check(mt.helo(conn, "busy.example") == nil, "helo")
  T.expect_reply(conn, SMFIR_REPLYCODE, "HELO busy.example")
  mt.disconnect(conn)
end)
