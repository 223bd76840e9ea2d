-- Shared by the wrk scripts here: counts non-2xx answers per thread and prints one parseable line.
--   RESULT scenario=… requests=… duration_s=… rps=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=… non2xx=… socket_errors=…
-- A script loads it with dofile (next to itself), calls register(thread) from its setup(), and
-- sets done = result_done("<scenario>").

-- Main state: every thread, so done() can read their counters.
threads = {}

function register(thread)
  table.insert(threads, thread)
end

-- Thread state.
non2xx = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function result_done(scenario)
  return function(summary, latency, requests)
    local bad = 0
    for _, thread in ipairs(threads) do
      bad = bad + (thread:get("non2xx") or 0)
    end
    local e = summary.errors
    local seconds = summary.duration / 1e6
    io.write(string.format(
      "RESULT scenario=%s requests=%d duration_s=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d\n",
      scenario, summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, latency.max / 1000, bad,
      e.connect + e.read + e.write + e.timeout))
  end
end
