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

-- The RESULT line and the non-2xx counter live in result.lua, next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "result.lua")

function setup(thread)
  register(thread)
end

done = result_done("authenticated_get")
