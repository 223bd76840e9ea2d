#!/usr/bin/env bash
# Starts or stops the five OrderFlow services against a running local stack.
#
#   services.sh start STACK_DIR BIN_DIR   start gateway, users, orders, payments, notifications
#   services.sh stop  STACK_DIR           stop them (by recorded pid, SIGTERM then wait)
#   services.sh crash STACK_DIR SERVICE   kill one with SIGKILL, as a crash (`make crash SERVICE=…`)
#   services.sh revive STACK_DIR BIN_DIR  start again, on the ports they had, those not running (`make revive`)
#
# Ports: ORDERFLOW_<SERVICE>_PORT if set, else 8080-8084 when free, else any free port.
# Logs (one JSON object per line): STACK_DIR/logs/<service>.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd="${1:-}"
STACK_DIR="${2:-$ORDERFLOW_ROOT/.run/stack}"
BIN_DIR="${3:-}"
SERVICES="gateway users orders payments notifications"
PID_DIR="$STACK_DIR/pids"
LOG_DIR="$STACK_DIR/logs"
URLS_FILE="$STACK_DIR/services.env"
SETTINGS_FILE="$STACK_DIR/services.settings"  # the environment `start` ran in, for `revive`
STOPPED_MARK="$PID_DIR/stopped"               # `stop` ran: `revive` refuses until the next `start`

default_port() {
  case "$1" in gateway) echo 8080 ;; users) echo 8081 ;; orders) echo 8082 ;; payments) echo 8083 ;; notifications) echo 8084 ;; esac
}

choose_port() {
  local svc="$1" var override
  var="ORDERFLOW_${svc^^}_PORT"
  override="${!var:-}"
  if [ -n "$override" ]; then echo "$override"; return; fi
  local p; p="$(default_port "$svc")"
  if tcp_open "$p"; then free_port; else echo "$p"; fi
}

ready() { curl -fsS "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1; }

# service_alive SERVICE — its recorded pid runs and is that service (not a pid reused since; a
# service caught a moment after its start may still be one of the programs that exec it).
service_alive() {
  local file="$PID_DIR/$1.pid" pid name
  pid_alive "$file" || return 1
  pid="$(cat "$file")"
  if [ -r "/proc/$pid/comm" ]; then name="$(cat "/proc/$pid/comm")"; else name="$(ps -p "$pid" -o comm= 2>/dev/null || true)"; fi
  case "${name##*/}" in "$1"|setsid|env|nohup) return 0 ;; *) return 1 ;; esac
}

# What a service needs beyond the stack's URLs: users signs tokens (and creates the bootstrap
# administrator), the others verify them against users' JWKS; the gateway also learns where
# every upstream listens.
service_env() {
  case "$1" in
    users) echo "JWT_SIGNING_KEYS_FILE=$ORDERFLOW_JWT_SIGNING_KEYS_FILE USERS_ADMIN_EMAIL=$ORDERFLOW_ADMIN_EMAIL USERS_ADMIN_PASSWORD=$ORDERFLOW_ADMIN_PASSWORD" ;;
    gateway) echo "JWT_JWKS_URL=http://127.0.0.1:$USERS_PORT/.well-known/jwks.json" \
      "GATEWAY_USERS_URL=http://127.0.0.1:$USERS_PORT GATEWAY_ORDERS_URL=http://127.0.0.1:$ORDERS_PORT" \
      "GATEWAY_PAYMENTS_URL=http://127.0.0.1:$PAYMENTS_PORT GATEWAY_NOTIFICATIONS_URL=http://127.0.0.1:$NOTIFICATIONS_PORT" ;;
    *) echo "JWT_JWKS_URL=http://127.0.0.1:$USERS_PORT/.well-known/jwks.json" ;;
  esac
}

# lock_system — holds $PID_DIR/lock until this script exits. `start`, `stop` and `revive` take
# it, so a revive racing a stop (Ctrl-C of `make run` while `make revive` runs) either finishes
# first, and the stop then ends what it started, or runs after and sees the stop mark; and a
# revive during a start waits for it instead of starting a second copy. Services are started with
# the lock's descriptor closed, so none holds it. Without flock (not Linux) there is no lock.
lock_system() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$PID_DIR/lock"
  flock -n 9 && return 0
  log "waiting for another services.sh on $STACK_DIR to finish (a start or revive in progress)"
  flock 9
}

start_one() {
  local svc="$1" port="$2" dburl=""
  if service_alive "$svc"; then log "$svc already running"; return; fi
  local var="ORDERFLOW_${svc^^}_DATABASE_URL"
  dburl="${!var:-}"
  # Own session (where setsid exists): Ctrl-C in the terminal reaches run.sh, which stops the
  # services in order with SIGTERM, instead of hitting every process at once.
  local detach=""; command -v setsid >/dev/null 2>&1 && detach="setsid"
  $detach env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" LOG_LEVEL="${LOG_LEVEL:-info}" \
      ${dburl:+DATABASE_URL="$dburl"} KAFKA_BROKERS="$ORDERFLOW_KAFKA_BROKERS" REDIS_URL="$ORDERFLOW_REDIS_URL" \
      $(service_env "$svc") KAFKA_SESSION_TIMEOUT_MS="${KAFKA_SESSION_TIMEOUT_MS:-6000}" KAFKA_MAX_POLL_INTERVAL_MS="${KAFKA_MAX_POLL_INTERVAL_MS:-10000}" \
      nohup "$BIN_DIR/$svc" >>"$LOG_DIR/$svc.log" 2>&1 9>&- &
  echo $! > "$PID_DIR/$svc.pid.new" && mv "$PID_DIR/$svc.pid.new" "$PID_DIR/$svc.pid"  # never read half-written
}

# wait_ready SERVICE... — waits until each answers /health/ready on the port services.env gives
# it; exits 1 (after showing the last log lines of those that do not) if any does not.
wait_ready() {
  local svc var port failed=0
  source "$URLS_FILE"
  for svc in "$@"; do
    var="${svc^^}_URL"; port="${!var##*:}"
    if ! wait_until "$svc (port $port)" 60 ready "$port"; then
      warn "$svc is not ready; last log lines:"; tail -n 5 "$LOG_DIR/$svc.log" >&2 || true; failed=1
    fi
  done
  [ $failed -eq 0 ] || exit 1
}

case "$cmd" in
  start)
    [ -n "$BIN_DIR" ] || die "usage: $0 start STACK_DIR BIN_DIR"
    [ -f "$STACK_DIR/stack.env" ] || die "no stack in $STACK_DIR; run deploy/local/stack.sh start first"
    set -a; source "$STACK_DIR/stack.env"; set +a
    pkg_config_env
    mkdir -p "$PID_DIR" "$LOG_DIR"
    lock_system
    rm -f "$STOPPED_MARK"
    # The settings the services start with (RATE_LIMIT_*, SAGA_*, LOG_LEVEL, …) for `revive`, which
    # runs from another shell; not this script's own variables, nor read-only ones. Mode 600: it
    # holds stack.env's secrets too.
    (umask 077 && export -p | grep -Ev '^declare -[a-zA-Z]*r|^declare -x (PWD|OLDPWD|SHLVL|_|cmd|STACK_DIR|BIN_DIR|SERVICES|PID_DIR|LOG_DIR|URLS_FILE|SETTINGS_FILE|STOPPED_MARK)(=|$)' \
      > "$SETTINGS_FILE")
    : > "$URLS_FILE"
    for svc in $SERVICES; do
      port="$(choose_port "$svc")"
      printf -v "${svc^^}_PORT" '%s' "$port"
      echo "${svc^^}_URL=http://127.0.0.1:$port" >> "$URLS_FILE"
    done
    for svc in $SERVICES; do
      var="${svc^^}_PORT"
      start_one "$svc" "${!var}"
    done
    wait_ready $SERVICES
    ;;
  stop)
    if [ -d "$PID_DIR" ]; then lock_system; touch "$STOPPED_MARK"; fi
    for svc in notifications payments orders users gateway; do
      # A crashed service's pid file stays until here; its pid may belong to another process by now.
      service_alive "$svc" || { rm -f "$PID_DIR/$svc.pid"; continue; }
      stop_pidfile "$svc" "$PID_DIR/$svc.pid"
    done
    ;;
  crash)
    svc="${3:-}"
    case " $SERVICES " in *" $svc "*) [ -n "$svc" ] ;; *) false ;; esac \
      || die "SERVICE must be one of: $SERVICES (got '${svc}'), e.g. make crash SERVICE=payments"
    service_alive "$svc" || die "$svc is not running (no live $svc process recorded in $PID_DIR/$svc.pid)"
    pid="$(cat "$PID_DIR/$svc.pid")"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" || die "$svc (pid $pid) still runs 10 s after SIGKILL"
    log "killed $svc (pid $pid) with SIGKILL, as a crash: no shutdown ran. \`make revive\` starts it again."
    ;;
  revive)
    [ -n "$BIN_DIR" ] || die "usage: $0 revive STACK_DIR BIN_DIR"
    [ -f "$URLS_FILE" ] && [ -f "$STACK_DIR/stack.env" ] \
      || die "no system in $STACK_DIR (services.env missing): start it with \`make run\`"
    mkdir -p "$PID_DIR"; lock_system
    [ ! -e "$STOPPED_MARK" ] || die "the system in $STACK_DIR was stopped: start it with \`make run\`"
    # The environment `start` ran in, so a revived service keeps the settings it had.
    if [ -f "$SETTINGS_FILE" ]; then source "$SETTINGS_FILE"; fi
    set -a; source "$STACK_DIR/stack.env"; source "$URLS_FILE"; set +a
    for part in "Postgres:${PG_PORT:-}" "Redis:${REDIS_PORT:-}" "Kafka:${KAFKA_PORT:-}"; do
      tcp_open "${part#*:}" || die "${part%%:*} does not answer on port ${part#*:}: the stack is down; start it with \`make run\`"
    done
    pkg_config_env
    for svc in $SERVICES; do  # each keeps its port: the gateway and the services.env readers know only that one
      url_var="${svc^^}_URL"
      [ -n "${!url_var:-}" ] || die "$URLS_FILE names no ${url_var}"
      printf -v "${svc^^}_PORT" '%s' "${!url_var##*:}"
    done
    revived=""
    for svc in $SERVICES; do
      service_alive "$svc" && continue
      var="${svc^^}_PORT"
      ! tcp_open "${!var}" || die "$svc is not running, but something else listens on its port ${!var}"
      log "$svc is not running: starting it again on port ${!var}"
      start_one "$svc" "${!var}"
      revived="$revived $svc"
    done
    if [ -z "$revived" ]; then log "all five services are running: nothing to revive"; exit 0; fi
    wait_ready $revived
    ;;
  *) echo "usage: $0 start STACK_DIR BIN_DIR | stop STACK_DIR | crash STACK_DIR SERVICE | revive STACK_DIR BIN_DIR" >&2; exit 2 ;;
esac
