-- wrk script: placing orders, POST /api/v1/orders with a fresh Idempotency-Key per request.
--
--   ORDERFLOW_TOKEN=<access token> wrk -t2 -c32 -d15s -s deploy/loadtest/wrk/place_order.lua http://127.0.0.1:8080
--
-- Each order is one unit of one of the eight seeded products (Services/Orders/Migrations/
-- 0002_create_orders_and_sagas.sql), round-robin, so concurrent orders do not all queue on one
-- product row's lock. The answer is 202 with the order `pending` whatever the saga decides
-- later (out of stock and declined payments are saga outcomes, not HTTP errors); the customer's
-- wallet should be large (deploy/loadtest/load.sh deposits plenty).
-- done() prints one parseable line:
--   RESULT scenario=place_order requests=… duration_s=… rps=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=… non2xx=… socket_errors=…

local token = os.getenv("ORDERFLOW_TOKEN")
if token == nil or token == "" then
  io.stderr:write("place_order.lua: set ORDERFLOW_TOKEN to an access token\n")
  os.exit(2)
end

local products = {}
for i = 1, 8 do
  products[i] = string.format("0193a000-0000-7000-8000-%012d", i)
end

wrk.method = "POST"
wrk.path = "/api/v1/orders"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

-- The RESULT line and the non-2xx counter live in result.lua, next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua")

function setup(thread)
  thread:set("id", #threads + 1)
  -- One nonce per run, the same in every thread: keys differ across runs and across threads.
  thread:set("nonce", string.format("%x%04x", os.time(), math.random(0, 0xffff)))
  register(thread)
end

-- Thread state (id and nonce are set by setup() before init()).
local counter = 0

function init(args)
  math.randomseed(os.time() + (id or 0) * 7919)
end

function request()
  counter = counter + 1
  -- Unique across threads (id), within a thread (counter) and across runs (nonce + random).
  local key = string.format("wrk-%s-%d-%d-%08x", nonce or "0", id or 0, counter, math.random(0, 0x7fffffff))
  local product = products[(counter + (id or 0)) % #products + 1]
  local body = '{"items":[{"product_id":"' .. product .. '","quantity":1}]}'
  wrk.headers["Idempotency-Key"] = key
  return wrk.format(nil, nil, nil, body)
end

done = result_done("place_order")
