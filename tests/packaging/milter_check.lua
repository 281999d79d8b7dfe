-- The installed relaytrust-milter with the installed default policy (miltertest -D sock=...):
-- relay-in from an address that is not the relay is refused at connect (rule
-- relay-in-only-from-relay); the public listener mx lets the session go on. Stops after HELO,
-- before MAIL, so no SPF/DKIM/DMARC lookup leaves the machine.
local function check(condition, what)
  if not condition then
    mt.echo("FAIL " .. what)
    os.exit(1)
  end
end

local conn = mt.connect(sock, 40, 0.25)
check(conn ~= nil, "cannot connect to " .. sock)
mt.macro(conn, SMFIC_CONNECT, "j", "mx.test.example", "{daemon_name}", "relay-in",
         "{client_addr}", "192.0.2.7", "{client_port}", "40000")
check(mt.conninfo(conn, "outside.example", "192.0.2.7") == nil, "conninfo")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "relay-in from 192.0.2.7 was not refused at connect")
mt.disconnect(conn)
mt.echo("PASS relay-in from outside refused at connect")

conn = mt.connect(sock, 40, 0.25)
check(conn ~= nil, "cannot connect to " .. sock)
mt.macro(conn, SMFIC_CONNECT, "j", "mx.test.example", "{daemon_name}", "mx",
         "{client_addr}", "192.0.2.7", "{client_port}", "40001")
check(mt.conninfo(conn, "outside.example", "192.0.2.7") == nil, "conninfo")
check(mt.getreply(conn) == SMFIR_CONTINUE, "mx connect from 192.0.2.7 did not continue")
check(mt.helo(conn, "outside.example") == nil, "helo")
check(mt.getreply(conn) == SMFIR_CONTINUE, "mx HELO did not continue")
mt.disconnect(conn)
mt.echo("PASS mx session continues past connect and HELO")
