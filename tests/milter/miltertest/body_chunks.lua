-- The body arrives in many chunks and goes to the engine as it arrives: the policy's
-- body_size rule (> 100 000 bytes) only fires when every chunk has been counted.
dofile(dir .. "/common.lua")

local function send_body(conn, chunks, size)
  local line = string.rep("b", size - 2) .. "\r\n"
  for k = 1, chunks do
    T.check(mt.bodystring(conn, line) == nil, "body chunk " .. k)
  end
end

T.run("body_chunks", function()
  local conn = T.open({"{daemon_name}", "mx", "{client_addr}", "192.0.2.40"}, "client.example", "192.0.2.40")
  T.expect_reply(conn, SMFIR_CONTINUE, "connect")

  -- 1. 1000 chunks of 99 bytes (99 000 bytes): under the limit, accepted.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID3001")
  T.plain_headers(conn, "small body")
  send_body(conn, 1000, 99)
  T.check(mt.eom(conn) == nil, "eom")
  T.expect_reply(conn, SMFIR_ACCEPT, "99 000 bytes in 1000 chunks")

  -- 2. 2000 chunks of 51 bytes (102 000 bytes): over the limit by the last chunks only.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID3002")
  T.plain_headers(conn, "big body")
  send_body(conn, 2000, 51)
  T.check(mt.eom(conn) == nil, "eom")
  T.expect_smtp_reply(conn, "552", "5.3.4", "Body over the test limit", "102 000 bytes in 2000 chunks")

  -- 3. 40 chunks of 60 000 bytes (2.4 MB, big protocol packets): still counted, still refused.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID3003")
  T.plain_headers(conn, "huge body")
  send_body(conn, 40, 60000)
  T.check(mt.eom(conn) == nil, "eom")
  T.expect_smtp_reply(conn, "552", "5.3.4", "Body over the test limit", "2.4 MB in 60 000-byte chunks")

  -- 4. The size does not carry over to the next message.
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID3004")
  T.plain_headers(conn, "empty body")
  T.check(mt.eom(conn) == nil, "eom")
  T.expect_reply(conn, SMFIR_ACCEPT, "empty body after a huge one")
  mt.disconnect(conn)
end)
