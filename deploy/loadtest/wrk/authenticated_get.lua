-- wrk script: an authenticated read, GET /api/v1/users/me with a bearer token.
--
--   ORDERFLOW_TOKEN=<access token> wrk -t2 -c32 -d15s -s deploy/loadtest/wrk/authenticated_get.lua http://127.0.0.1:8080
--
-- ORDERFLOW_PATH overrides the path (default /api/v1/users/me). The request is built once, so wrk
-- sends it as fast as its own static requests. done() prints one parseable line:
--   RESULT scenario=authenticated_get requests=… duration_s=… rps=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=… non2xx=… socket_errors=…
-- non2xx counts every answer outside 200-299 (counted per thread in response(), summed in done());
-- socket_errors are wrk's connect/read/write/timeout errors.

local token = os.getenv("ORDERFLOW_TOKEN")
if token == nil or token == "" then
  io.stderr:write("authenticated_get.lua: set ORDERFLOW_TOKEN to an access token\n")
  os.exit(2)
end

wrk.method = "GET"
wrk.path = os.getenv("ORDERFLOW_PATH") or "/api/v1/users/me"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"

-- Main state: every thread, so done() can read their counters.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

-- Thread state.
non2xx = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT scenario=authenticated_get requests=%d duration_s=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, bad,
    e.connect + e.read + e.write + e.timeout))
end
