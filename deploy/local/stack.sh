#!/usr/bin/env bash
# The embedded local stack: a private Postgres cluster, Redis and Tansu (Kafka protocol),
# each on a free loopback port, all state and logs under one directory.
#
#   stack.sh start  [DIR [PARTS…]]  start (or reuse) the stack in DIR (default .run/stack); prints DIR/stack.env
#   stack.sh stop   [DIR [PARTS…]]  stop what start started there (by recorded pid)
#   stack.sh status [DIR]           show what is running
#
# PARTS is any of postgres, redis, kafka (default: all three).
#
# DIR/stack.env holds the ports and URLs (including generated passwords) for services and tests.
# ORDERFLOW_PG_EXTRA_OPTIONS adds server options to Postgres, for profiling, e.g.
#   "-c shared_preload_libraries=pg_stat_statements"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd="${1:-}"
STACK_DIR="${2:-$ORDERFLOW_ROOT/.run/stack}"
shift $(( $# > 2 ? 2 : $# ))
PARTS="${*:-postgres redis kafka}"
wants() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)"
LOG_DIR="$STACK_DIR/logs"
PID_DIR="$STACK_DIR/pids"
ENV_FILE="$STACK_DIR/stack.env"
PG_DATA="$STACK_DIR/postgres/data"
PG_SOCKET_DIR="$STACK_DIR/postgres/socket"

pg_bin_dir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /opt/homebrew/opt/postgresql@15/bin /usr/local/opt/postgresql@15/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  die "initdb not found; run deploy/local/setup.sh"
}

# Postgres refuses to run as root; on Linux as root the cluster runs as the 'postgres' user.
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' system user (Debian's postgresql package creates it)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Daemons get their own session where setsid exists, so a Ctrl-C meant for `make run` reaches
# run.sh (which stops everything in order) instead of killing them mid-flight.
DETACH=""; command -v setsid >/dev/null 2>&1 && DETACH="setsid"

gen_secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }

# A dev token-signing key: kid=base64url(32 random bytes), an Ed25519 seed. Written once per
# stack directory (kept across runs, so issued tokens stay valid); never committed.
ensure_signing_keys() {
  local file="$STACK_DIR/secrets/jwt-signing-keys"
  if [ ! -s "$file" ]; then
    mkdir -p "$STACK_DIR/secrets"; chmod 700 "$STACK_DIR/secrets"
    ( umask 077; python3 -c 'import base64, os, time; print("dev-%d=%s" % (time.time(), base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")))' > "$file" )
  fi
  JWT_SIGNING_KEYS_FILE="$file"
}

# Load a previous env file so a re-run reuses ports and passwords.
load_env() { [ -f "$ENV_FILE" ] && source "$ENV_FILE" || true; }

write_env() {
  local pg="127.0.0.1:$PG_PORT/orderflow?sslmode=disable"
  cat > "$ENV_FILE" <<ENV
# Written by deploy/local/stack.sh — local development secrets, never commit.
PG_PORT=$PG_PORT
REDIS_PORT=$REDIS_PORT
KAFKA_PORT=$KAFKA_PORT
PG_ADMIN_PASSWORD=$PG_ADMIN_PASSWORD
PG_USERS_PASSWORD=$PG_USERS_PASSWORD
PG_ORDERS_PASSWORD=$PG_ORDERS_PASSWORD
PG_PAYMENTS_PASSWORD=$PG_PAYMENTS_PASSWORD
PG_NOTIFICATIONS_PASSWORD=$PG_NOTIFICATIONS_PASSWORD
ORDERFLOW_ADMIN_DATABASE_URL=postgres://postgres:$PG_ADMIN_PASSWORD@$pg
ORDERFLOW_USERS_DATABASE_URL=postgres://users:$PG_USERS_PASSWORD@$pg
ORDERFLOW_ORDERS_DATABASE_URL=postgres://orders:$PG_ORDERS_PASSWORD@$pg
ORDERFLOW_PAYMENTS_DATABASE_URL=postgres://payments:$PG_PAYMENTS_PASSWORD@$pg
ORDERFLOW_NOTIFICATIONS_DATABASE_URL=postgres://notifications:$PG_NOTIFICATIONS_PASSWORD@$pg
ORDERFLOW_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
ORDERFLOW_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
ORDERFLOW_STACK_DIR=$STACK_DIR
ORDERFLOW_JWT_SIGNING_KEYS_FILE=$JWT_SIGNING_KEYS_FILE
ORDERFLOW_ADMIN_EMAIL=$ORDERFLOW_ADMIN_EMAIL
ORDERFLOW_ADMIN_PASSWORD=$ORDERFLOW_ADMIN_PASSWORD
ENV
  chmod 600 "$ENV_FILE"
}

port_or_new() { # keep a recorded port unless something else took it meanwhile
  if [ -n "${1:-}" ] && ! tcp_open "$1"; then echo "$1"; else free_port; fi
}

pg_ready() { as_pg_user "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres; }

start_postgres() {
  PG_BIN="$(pg_bin_dir)"
  if [ -f "$PG_DATA/postmaster.pid" ] && as_pg_user "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; then
    log "postgres already running on port $PG_PORT"; return
  fi
  PG_PORT="$(port_or_new "${PG_PORT:-}")"
  mkdir -p "$STACK_DIR/postgres" "$PG_SOCKET_DIR"
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$STACK_DIR/postgres"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    local pwfile="$STACK_DIR/postgres/.pw"
    printf '%s\n' "$PG_ADMIN_PASSWORD" > "$pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres "$pwfile"
    as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$LOG_DIR/initdb.log" 2>&1 \
      || die "initdb failed; see $LOG_DIR/initdb.log"
    rm -f "$pwfile"
  fi
  touch "$LOG_DIR/postgres.log"
  [ "$(id -u)" -eq 0 ] && chown postgres "$LOG_DIR/postgres.log"
  as_pg_user "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$LOG_DIR/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SOCKET_DIR -c max_connections=200 -c fsync=off -c full_page_writes=off -c synchronous_commit=off ${ORDERFLOW_PG_EXTRA_OPTIONS:-}" \
    >/dev/null || die "postgres did not start; see $LOG_DIR/postgres.log"
  wait_until "postgres (port $PG_PORT)" 60 pg_ready || die "postgres not ready; see $LOG_DIR/postgres.log"
  as_pg_user "$PG_BIN/psql" -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -v users_password="$PG_USERS_PASSWORD" -v orders_password="$PG_ORDERS_PASSWORD" \
    -v payments_password="$PG_PAYMENTS_PASSWORD" -v notifications_password="$PG_NOTIFICATIONS_PASSWORD" \
    -f "$ORDERFLOW_ROOT/deploy/postgres/bootstrap.sql" >"$LOG_DIR/bootstrap.log" 2>&1 \
    || die "bootstrap SQL failed; see $LOG_DIR/bootstrap.log"
}

stop_postgres() {
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  PG_BIN="$(pg_bin_dir)"
  as_pg_user "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 30 >/dev/null 2>&1 || true
  log "stopped postgres"
}

start_redis() {
  if pid_alive "$PID_DIR/redis.pid"; then log "redis already running on port $REDIS_PORT"; return; fi
  local redis_server status
  redis_server="$(command -v redis-server)" || die "redis-server not found; run deploy/local/setup.sh"
  mkdir -p "$STACK_DIR/redis"
  for _ in 1 2 3; do
    REDIS_PORT="$(port_or_new "${REDIS_PORT:-}")"
    cat > "$STACK_DIR/redis/redis.conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
save ""
appendonly no
dir $STACK_DIR/redis
CONF
    $DETACH nohup "$redis_server" "$STACK_DIR/redis/redis.conf" >"$LOG_DIR/redis.log" 2>&1 &
    echo $! > "$PID_DIR/redis.pid"
    status=0; await_listener "redis (port $REDIS_PORT)" "$REDIS_PORT" "$PID_DIR/redis.pid" 30 || status=$?
    if [ "$status" -eq 0 ]; then
      wait_until "redis (PING)" 30 redis_ping || die "redis not ready; see $LOG_DIR/redis.log"
      return
    fi
    [ "$status" -eq 2 ] || die "redis not ready; see $LOG_DIR/redis.log"
    log "redis exited at start (port $REDIS_PORT taken meanwhile?); trying another port"
    REDIS_PORT=""
  done
  die "redis did not start in 3 attempts; see $LOG_DIR/redis.log"
}
redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

start_tansu() {
  if pid_alive "$PID_DIR/tansu.pid"; then log "tansu already running on port $KAFKA_PORT"; return; fi
  [ -x "$TANSU_BIN" ] || die "Tansu not installed; run deploy/local/setup.sh"
  local status
  for _ in 1 2 3; do
    KAFKA_PORT="$(port_or_new "${KAFKA_PORT:-}")"
    # Tansu reads some settings from the environment; give it only what it needs.
    $DETACH nohup env -i PATH="$PATH" HOME="${HOME:-/tmp}" RUST_LOG="${TANSU_LOG:-warn}" "$TANSU_BIN" broker \
      --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
      --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
      --storage-engine "memory://tansu/" >"$LOG_DIR/tansu.log" 2>&1 &
    echo $! > "$PID_DIR/tansu.pid"
    # Ready means *this* broker listens: two stacks starting at once can pick the same free port,
    # and the one that loses the bind must not be taken for ready because the other answers.
    status=0; await_listener "tansu (port $KAFKA_PORT)" "$KAFKA_PORT" "$PID_DIR/tansu.pid" 30 || status=$?
    [ "$status" -eq 0 ] && return
    [ "$status" -eq 2 ] || die "tansu not ready; see $LOG_DIR/tansu.log"
    log "tansu exited at start (port $KAFKA_PORT taken meanwhile?); trying another port"
    KAFKA_PORT=""
  done
  die "tansu did not start in 3 attempts; see $LOG_DIR/tansu.log"
}

case "$cmd" in
  start)
    mkdir -p "$LOG_DIR" "$PID_DIR"
    load_env
    PG_ADMIN_PASSWORD="${PG_ADMIN_PASSWORD:-$(gen_secret)}"
    PG_USERS_PASSWORD="${PG_USERS_PASSWORD:-$(gen_secret)}"
    PG_ORDERS_PASSWORD="${PG_ORDERS_PASSWORD:-$(gen_secret)}"
    PG_PAYMENTS_PASSWORD="${PG_PAYMENTS_PASSWORD:-$(gen_secret)}"
    PG_NOTIFICATIONS_PASSWORD="${PG_NOTIFICATIONS_PASSWORD:-$(gen_secret)}"
    ORDERFLOW_ADMIN_EMAIL="${ORDERFLOW_ADMIN_EMAIL:-admin@orderflow.test}"
    ORDERFLOW_ADMIN_PASSWORD="${ORDERFLOW_ADMIN_PASSWORD:-$(gen_secret)}"
    ensure_signing_keys
    wants postgres && start_postgres
    wants redis && start_redis
    wants kafka && start_tansu
    PG_PORT="${PG_PORT:-0}" REDIS_PORT="${REDIS_PORT:-0}" KAFKA_PORT="${KAFKA_PORT:-0}"
    write_env
    log "stack up in $STACK_DIR (postgres :$PG_PORT, redis :$REDIS_PORT, kafka :$KAFKA_PORT)"
    echo "$ENV_FILE"
    ;;
  stop)
    wants kafka && stop_pidfile tansu "$PID_DIR/tansu.pid"
    wants redis && stop_pidfile redis "$PID_DIR/redis.pid"
    wants postgres && stop_postgres
    true
    ;;
  status)
    load_env
    for s in redis tansu; do
      if pid_alive "$PID_DIR/$s.pid"; then echo "$s: running (pid $(cat "$PID_DIR/$s.pid"))"; else echo "$s: stopped"; fi
    done
    if [ -f "$PG_DATA/postmaster.pid" ]; then echo "postgres: running (port ${PG_PORT:-?})"; else echo "postgres: stopped"; fi
    ;;
  *)
    echo "usage: $0 start|stop|status [DIR]" >&2; exit 2 ;;
esac
