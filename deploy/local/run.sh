#!/usr/bin/env bash
# `make run`: install what is missing, start the stack, build in release mode, start the five
# services, print their URLs and follow their logs. Ctrl-C (or `make stop`) stops everything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STACK_DIR="$ORDERFLOW_ROOT/.run/stack"
"$ORDERFLOW_ROOT/deploy/local/setup.sh"
"$ORDERFLOW_ROOT/deploy/local/stack.sh" start "$STACK_DIR" >/dev/null

TAIL_PID=""
stop_all() {
  trap - INT TERM EXIT
  # The log follower runs in the background, where scripts ignore SIGINT: end it explicitly.
  if [ -n "$TAIL_PID" ]; then kill "$TAIL_PID" 2>/dev/null || true; fi
  echo
  "$ORDERFLOW_ROOT/deploy/local/services.sh" stop "$STACK_DIR" || true
  "$ORDERFLOW_ROOT/deploy/local/stack.sh" stop "$STACK_DIR" || true
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

pkg_config_env
log "building (release)…"
(cd "$ORDERFLOW_ROOT" && swift build -c release ${SWIFT_BUILD_FLAGS:-})
BIN_DIR="$(cd "$ORDERFLOW_ROOT" && swift build -c release ${SWIFT_BUILD_FLAGS:-} --show-bin-path)"
"$ORDERFLOW_ROOT/deploy/local/services.sh" start "$STACK_DIR" "$BIN_DIR"

source "$STACK_DIR/stack.env"; source "$STACK_DIR/services.env"
cat <<INFO

  OrderFlow is running.
    gateway        $GATEWAY_URL        (the API: $GATEWAY_URL/api/v1/…, reference: $GATEWAY_URL/docs, contract: $GATEWAY_URL/openapi.yaml)
                                            (health: $GATEWAY_URL/health/ready, metrics: $GATEWAY_URL/metrics)
    users          $USERS_URL
    orders         $ORDERS_URL
    payments       $PAYMENTS_URL
    notifications  $NOTIFICATIONS_URL
    postgres       127.0.0.1:$PG_PORT   (database orderflow; credentials in $STACK_DIR/stack.env)
    redis          $ORDERFLOW_REDIS_URL
    kafka (Tansu)  $ORDERFLOW_KAFKA_BROKERS
  Admin login:  $ORDERFLOW_ADMIN_EMAIL / $ORDERFLOW_ADMIN_PASSWORD   (dev secrets in $STACK_DIR/stack.env)
  Token keys:   $USERS_URL/.well-known/jwks.json (signing key in $STACK_DIR/secrets/, generated on first run)
  Try it:       \`make demo\` in another terminal (a scripted scenario through the gateway).
                \`make sagas\` in another terminal: the saga console (every order's sagas, live);
                \`make sagas-web\`: the same in a browser (open the address it prints), with a fault and order lab.
  Logs: $STACK_DIR/logs/   Stop: Ctrl-C here, or \`make stop\` from another terminal.

INFO
if [ -n "${ORDERFLOW_RUN_DETACH:-}" ]; then trap - INT TERM EXIT; exit 0; fi  # leave it running; `make stop` ends it
tail -n 0 -F "$STACK_DIR"/logs/{gateway,users,orders,payments,notifications}.log &
TAIL_PID=$!
# Follow until Ctrl-C or `make stop`. A service that exits on its own (a crash point armed in the
# lab, `make crash`, a bug) is reported and the others keep running, as in production: the sagas
# waiting on it time out and retry, and `make revive` starts it again on its port.
REPORTED=" "  # the services reported as exited, space-separated (no associative arrays: macOS's bash 3)
while sleep 1; do
  for svc in gateway users orders payments notifications; do
    if [ -e "$STACK_DIR/pids/stopped" ] || [ ! -f "$STACK_DIR/pids/$svc.pid" ]; then  # services.sh stop marks it first
      log "the services were stopped (\`make stop\`): stopping the rest"; exit 0
    fi
    if pid_alive "$STACK_DIR/pids/$svc.pid"; then
      case "$REPORTED" in *" $svc "*) log "$svc is running again"; REPORTED="${REPORTED/ $svc / }" ;; esac
    else
      case "$REPORTED" in
        *" $svc "*) ;;
        *) warn "$svc exited (see $STACK_DIR/logs/$svc.log); the others keep running. \`make revive\` starts it again."
           REPORTED="$REPORTED$svc " ;;
      esac
    fi
  done
done
