-- Helpers shared by the miltertest scripts (loaded with dofile). Globals `sock` and `dir` come
-- from miltertest -D. Header values are passed with their leading space, as an MTA does once
-- SMFIP_HDR_LEADSPC is negotiated, and the milter's edits come back the same way.

T = {}

-- miltertest exits 1 without a word on a Lua error: run the body under pcall and say why.
function T.run(name, body)
  local ok, err = pcall(body)
  if not ok then
    mt.echo("FAIL " .. name .. ": " .. tostring(err))
    os.exit(1)
  end
  mt.echo("PASS " .. name)
end

function T.check(condition, what)
  if not condition then error(what, 2) end
end

function T.reply_name(r)
  local names = {
    [SMFIR_ACCEPT] = "accept", [SMFIR_CONTINUE] = "continue", [SMFIR_DISCARD] = "discard",
    [SMFIR_REJECT] = "reject", [SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REPLYCODE] = "replycode",
  }
  return names[r] or tostring(r)
end

function T.expect_reply(conn, want, what)
  local got = mt.getreply(conn)
  T.check(got == want, what .. ": reply " .. T.reply_name(got) .. ", want " .. T.reply_name(want))
end

-- A new MTA connection. connect_macros: flat list of name, value pairs or nil for none.
function T.open(connect_macros, host, ip)
  local conn = mt.connect(sock, 40, 0.25)
  T.check(conn ~= nil, "mt.connect(" .. sock .. ") failed")
  if connect_macros ~= nil and #connect_macros > 0 then
    mt.macro(conn, SMFIC_CONNECT, table.unpack(connect_macros))
  end
  T.check(mt.conninfo(conn, host, ip) == nil, "mt.conninfo failed")
  return conn
end

-- The connection as Postfix presents relay-in traffic from the relay itself.
function T.open_relay_in()
  local conn = T.open({"j", "mx.test.example", "{daemon_name}", "relay-in",
                       "{client_addr}", "127.0.0.1", "{client_port}", "40000"},
                      "localhost", "127.0.0.1")
  T.expect_reply(conn, SMFIR_CONTINUE, "relay-in connect from 127.0.0.1")
  T.check(mt.helo(conn, "av-relay.test.example") == nil, "helo")
  T.expect_reply(conn, SMFIR_CONTINUE, "helo")
  return conn
end

-- MAIL + RCPT + an optional queue ID, each expected to continue.
function T.envelope(conn, sender, rcpt, queue_id)
  if queue_id ~= nil then mt.macro(conn, SMFIC_MAIL, "i", queue_id) end
  T.check(mt.mailfrom(conn, "<" .. sender .. ">") == nil, "mailfrom")
  T.expect_reply(conn, SMFIR_CONTINUE, "MAIL FROM " .. sender)
  T.check(mt.rcptto(conn, "<" .. rcpt .. ">") == nil, "rcptto")
  T.expect_reply(conn, SMFIR_CONTINUE, "RCPT TO " .. rcpt)
end

-- The relay's verdict headers above its own Received hop, as amavis writes them.
function T.relay_verdict(conn, score, yes)
  T.header(conn, "X-Spam-Flag", yes and " YES" or " NO")
  T.header(conn, "X-Spam-Status", string.format(" %s, score=%s required=5.0 tests=BAYES_99",
                                                yes and "Yes" or "No", score))
  T.header(conn, "Received", " from sender.example.org (sender.example.org [203.0.113.7])\r\n" ..
           "\tby av-relay.test.example (amavisd-new) with ESMTP id R1;\r\n" ..
           "\tSun, 22 Nov 2026 10:00:00 +0000")
end

function T.header(conn, name, value)
  T.check(mt.header(conn, name, value) == nil, "mt.header " .. name)
end

function T.plain_headers(conn, subject)
  T.header(conn, "From", " Alice <alice@example.org>")
  T.header(conn, "To", " Bob <bob@example.net>")
  T.header(conn, "Subject", " " .. subject)
end

function T.eom(conn)
  T.check(mt.bodystring(conn, "Hello Bob,\r\nthis is a test.\r\n") == nil, "bodystring")
  T.check(mt.eom(conn) == nil, "eom")
end

-- The X-Relaytrust-Result value the milter inserted at end of message.
function T.result_header(conn)
  local value = mt.getheader(conn, "X-Relaytrust-Result", 0)
  T.check(value ~= nil, "no X-Relaytrust-Result inserted")
  return value
end

function T.expect_result(conn, pattern, what)
  local value = T.result_header(conn)
  T.check(string.find(value, pattern) ~= nil,
          what .. ": X-Relaytrust-Result '" .. value .. "' does not match '" .. pattern .. "'")
end

function T.expect_smtp_reply(conn, code, enhanced, text, what)
  T.expect_reply(conn, SMFIR_REPLYCODE, what)
  T.check(mt.eom_check(conn, MT_SMTPREPLY, code, enhanced, text),
          what .. ": SMTP reply is not " .. code .. " " .. enhanced .. " " .. text)
end
