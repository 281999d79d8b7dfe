-- wrk script: POSTs a realistic Stalwart data-stage hook request, the one make_request.py
-- writes (a ~10 KB message from the AV relay).
--
--   wrk -s post.lua URL -- REQUEST.json [TOKEN] [DELAY_MS]
--
-- TOKEN: Bearer token ("" for none). DELAY_MS: pause per connection between requests, to run
-- below saturation (wrk 4.1 has no -R; see run.sh).

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot open the request file " .. path)
  local text = f:read("*a")
  f:close()
  return text
end

local prepared
local pause = 0

function init(args)
  wrk.body = read_file(args[1])
  local token = args[2] or ""
  pause = tonumber(args[3] or "0") or 0
  wrk.method = "POST"
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
    "RESULT requests=%d rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors))
end
