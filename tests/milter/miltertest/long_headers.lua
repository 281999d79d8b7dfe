-- Very long and very many headers: 1000 headers in all, 99 of them forged X-Spam-Status
-- instances on the public listener, plus long folded ones. Every forged copy must be deleted and
-- the result header must count them. (miltertest 2.11 overflows its stack on a header value
-- over about 1 KB, so the 30 KB header lives in the Postfix test, postfix_test.sh core.)
dofile(dir .. "/common.lua")

T.run("long_headers", function()
  local conn = T.open({"j", "mx.test.example", "{daemon_name}", "mx",
                       "{client_addr}", "192.0.2.30"}, "client.example", "192.0.2.30")
  T.expect_reply(conn, SMFIR_CONTINUE, "connect")
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID2001")

  -- Long folded headers, as long as miltertest can send (about 1 KB each).
  local parts = {}
  for k = 1, 12 do parts[k] = string.rep(string.char(97 + k % 26), 73) end
  T.header(conn, "X-Long", " " .. table.concat(parts, "\r\n\t"))
  T.header(conn, "X-Spam-Status", " Yes, score=99.0 required=5.0 tests=" ..
           string.rep("FORGED_RULE_NAME,", 50) .. "\r\n\tEND")

  local forged = 0
  for k = 1, 998 do
    if k % 10 == 0 then
      T.header(conn, "X-Spam-Status", string.format(" No, score=-%d.0 required=5.0 tests=FORGED_%d", k, k))
      forged = forged + 1
    else
      T.header(conn, "X-Filler-" .. k, " value " .. k)
    end
  end
  T.header(conn, "Subject", " many headers")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "1000 headers")
  T.check(forged == 99, "test bug: forged count " .. forged)
  T.check(mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Status"), "forged X-Spam-Status not deleted")
  T.expect_result(conn, "listener=mx; trusted=no; spam=unknown; score=0.00; virus=no; stripped=100$",
                  "1000 headers")

  -- The same connection handles a small message afterwards (nothing left over).
  T.envelope(conn, "alice@example.org", "bob@example.net", "QID2002")
  T.plain_headers(conn, "small after big")
  T.eom(conn)
  T.expect_reply(conn, SMFIR_ACCEPT, "small message after 1000 headers")
  T.expect_result(conn, "stripped=0$", "small message after 1000 headers")
  mt.disconnect(conn)
end)
