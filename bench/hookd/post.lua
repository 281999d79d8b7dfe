-- wrk script: POSTs a realistic Stalwart data-stage hook request (a ~10 KB message from the
-- AV relay: its verdict headers, its Received hop, forged headers below, a text body).
--
--   wrk -s post.lua URL -- [TOKEN] [DELAY_MS]
--
-- TOKEN: Bearer token ("" for none). DELAY_MS: pause per connection between requests, to run
-- below saturation (wrk 4.1 has no -R; see run.sh).

local function json_string(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    if c == '\r' then return '\\r' end
    if c == '\n' then return '\\n' end
    if c == '\t' then return '\\t' end
    return string.format('\\u%04x', c:byte())
  end)
  return '"' .. s .. '"'
end

local function message_body(bytes)
  local line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n"
  local parts = {"Hello Bob,\r\n\r\n"}
  local size = #parts[1]
  while size < bytes do
    parts[#parts + 1] = line
    size = size + #line
  end
  parts[#parts + 1] = "\r\n-- \r\nAlice\r\n"
  return table.concat(parts)
end

local headers = {
  {"X-Spam-Status", " No, score=1.2 required=5.0 tests=BAYES_00,DKIM_SIGNED,DKIM_VALID\r\n\tautolearn=ham version=3.4.6\r\n"},
  {"X-Spam-Flag", " NO\r\n"},
  {"X-Virus-Scanned", " amavisd-new at relay.example.net\r\n"},
  {"Received", " from mail.sender.example (mail.sender.example [203.0.113.5])\r\n\tby relay.example.net (amavisd-new) with ESMTPS id 4Xyz;\r\n\tTue, 1 Jan 2030 00:00:00 +0000\r\n"},
  {"X-Spam-Status", " No, score=-10.0 required=5.0\r\n"},
  {"DKIM-Signature", " v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=mail;\r\n\th=from:to:subject:date:message-id; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\r\n"},
  {"From", " Alice <alice@sender.example>\r\n"},
  {"To", " Bob <bob@example.org>\r\n"},
  {"Subject", " Quarterly numbers\r\n"},
  {"Date", " Tue, 1 Jan 2030 00:00:00 +0000\r\n"},
  {"Message-ID", " <20300101000000.12345@sender.example>\r\n"},
  {"MIME-Version", " 1.0\r\n"},
  {"Content-Type", " text/plain; charset=utf-8\r\n"},
}

local function data_request()
  local body = message_body(10 * 1024)
  local header_json, size = {}, 2 + #body
  for _, h in ipairs(headers) do
    header_json[#header_json + 1] = "[" .. json_string(h[1]) .. "," .. json_string(h[2]) .. "]"
    size = size + #h[1] + 1 + #h[2]
  end
  return '{"context":{"stage":"data","client":{"ip":"127.0.0.1","port":40000,' ..
      '"ptr":"relay.example.net.","helo":"relay.example.net","activeConnections":1},' ..
      '"server":{"name":"Stalwart v0.16.19","port":10025,"ip":"::"},' ..
      '"queue":{"id":"1a2b3c4d5e6f7081"},"protocol":{"version":1}},' ..
      '"envelope":{"from":{"address":"alice@sender.example"},' ..
      '"to":[{"address":"bob@example.org"}]},' ..
      '"message":{"headers":[' .. table.concat(header_json, ",") .. '],' ..
      '"contents":' .. json_string(body) .. ',"size":' .. size .. '}}'
end

local prepared
local pause = 0

function init(args)
  local token = args[1] or ""
  pause = tonumber(args[2] or "0") or 0
  wrk.method = "POST"
  wrk.body = data_request()
  wrk.headers["Content-Type"] = "application/json"
  if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
  prepared = wrk.format()
end

function request()
  return prepared
end

function delay()
  return pause
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  -- errors.status counts non-2xx/3xx answers.
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d body_bytes=%d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, #data_request()))
end
