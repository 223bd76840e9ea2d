# Sourced by the gateway benchmarks (bench-gateway.sh, ab-gateway-affinity.sh), after lib.sh.
#
# gateway_bench_environment — what services.sh passes to every service for a gateway benchmark:
#   quiet logs, long-lived tokens, auth and rate limiting on with limits so high that none is
#   refused (every request still takes its Redis round trip). Kafka is not on the measured path,
#   so the consumers' fetches may wait up to 1 s at the broker (KAFKA_FETCH_WAIT_MAX_MS=1000
#   unless set): at the default 10 ms an idle Tansu uses about a quarter of a core, taken from
#   every configuration alike (docs/benchmarks.md). Call before throwaway_system.
gateway_bench_environment() {
  export LOG_LEVEL=warning JWT_ACCESS_TTL_SECONDS=3600
  export KAFKA_FETCH_WAIT_MAX_MS="${KAFKA_FETCH_WAIT_MAX_MS:-1000}"
  export GATEWAY_AUTH=on GATEWAY_RATE_LIMIT=on
  export RATE_LIMIT_READ_BURST=1000000000 RATE_LIMIT_READ_PER_SECOND=1000000000
  export RATE_LIMIT_WRITE_BURST=1000000000 RATE_LIMIT_WRITE_PER_SECOND=1000000000
}

# start_gateway_variant NAME PORT [VAR=VALUE …] — a second gateway process with exactly the first
# one's environment (read from /proc on Linux; else rebuilt as services.sh builds it), on PORT,
# with the given settings changed. Pid in STACK_DIR/pids/gateway-NAME.pid, log in
# STACK_DIR/logs/gateway-NAME.log; waits until it is ready.
start_gateway_variant() {
  local name="$1" port="$2" pid environ=() clean=(-i) kv detach=""
  shift 2
  command -v setsid >/dev/null 2>&1 && detach="setsid"  # own session, as services.sh does
  pid="$(cat "$STACK_DIR/pids/gateway.pid")"
  if [ -r "/proc/$pid/environ" ] && tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^HTTP_PORT='; then
    while IFS= read -r -d '' kv; do environ+=("$kv"); done <"/proc/$pid/environ"
    log "gateway ($name): the first gateway's environment (/proc/$pid/environ) with $*"
  else
    # As deploy/local/services.sh builds it (start_one with service_env "gateway"); keep in step.
    environ=(HTTP_HOST=127.0.0.1 LOG_LEVEL="${LOG_LEVEL:-info}"
             KAFKA_BROKERS="$ORDERFLOW_KAFKA_BROKERS" REDIS_URL="$ORDERFLOW_REDIS_URL"
             JWT_JWKS_URL="$USERS_URL/.well-known/jwks.json"
             KAFKA_SESSION_TIMEOUT_MS="${KAFKA_SESSION_TIMEOUT_MS:-6000}" KAFKA_MAX_POLL_INTERVAL_MS="${KAFKA_MAX_POLL_INTERVAL_MS:-10000}"
             GATEWAY_USERS_URL="$USERS_URL" GATEWAY_ORDERS_URL="$ORDERS_URL"
             GATEWAY_PAYMENTS_URL="$PAYMENTS_URL" GATEWAY_NOTIFICATIONS_URL="$NOTIFICATIONS_URL")
    clean=()  # on top of this shell's environment, as services.sh starts it
    log "gateway ($name): environment rebuilt as services.sh does, with $*"
  fi
  $detach env "${clean[@]}" "${environ[@]}" HTTP_PORT="$port" "$@" "$BIN_DIR/gateway" >>"$STACK_DIR/logs/gateway-$name.log" 2>&1 &
  echo $! >"$STACK_DIR/pids/gateway-$name.pid"
  wait_until "gateway ($name, port $port)" 60 curl -fsS "http://127.0.0.1:$port/health/ready" \
    || { tail -n 20 "$STACK_DIR/logs/gateway-$name.log" >&2; die "gateway ($name) did not become ready"; }
}
