-- SMFIC_ABORT in the middle of a message (RSET, a client that drops DATA): the message's state
-- is gone, the connection's stays, and the next message is judged on its own headers only.
dofile(dir .. "/common.lua")

T.run("abort_mid_message", function()
  local conn = T.open_relay_in()

  -- 1. Trusted spam (score 15) whose message is aborted halfway through the headers.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID0001")
  T.relay_verdict(conn, "15.0", true)
  T.check(mt.abort(conn) == nil, "abort after headers")

  -- 2. A clean message on the same connection must not inherit the spam headers above.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID0002")
  T.plain_headers(conn, "after abort")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "clean message after an aborted spam")
  T.expect_result(conn, "listener=relay%-in; trusted=no; relay=av%-relay; spam=unknown; score=0.00; virus=no; stripped=0$",
                  "clean message after abort")

  -- 3. Abort in the middle of the body.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID0003")
  T.relay_verdict(conn, "15.0", true)
  T.plain_headers(conn, "aborted in body")
  T.check(mt.bodystring(conn, string.rep("x", 5000) .. "\r\n") == nil, "body chunk")
  T.check(mt.abort(conn) == nil, "abort in body")

  -- 4. The connection still works: trusted spam is rejected as usual.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID0004")
  T.relay_verdict(conn, "15.0", true)
  T.plain_headers(conn, "spam after aborts")
  T.eom(conn)
  T.expect_smtp_reply(conn, "550", "5.7.1", "Message rejected as spam", "spam after aborts")

  -- 5. A message refused at MAIL, then a fresh one.
  T.check(mt.mailfrom(conn, "<bulk@spammer.example>") == nil, "mailfrom spammer")
  T.expect_reply(conn, SMFIR_REPLYCODE, "sender refused at MAIL")
  T.check(mt.abort(conn) == nil, "abort after refused MAIL")
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID0005")
  T.relay_verdict(conn, "1.0", false)
  T.plain_headers(conn, "ham after refused sender")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "ham after refused sender")
  T.expect_result(conn, "trusted=yes; relay=av%-relay; spam=no; score=1.00", "ham after refused sender")
  mt.disconnect(conn)
end)
