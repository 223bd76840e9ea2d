#!/usr/bin/env bash
# `make test`: a throwaway stack on its own free ports, then `swift test` against it.
# The saga console scripts' Python unit tests run first; the static checks of the container and
# Kubernetes files once the programs are built (they read what the programs link). The stack is
# torn down whatever the outcome; the exit status is theirs if they fail, else swift test's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ORDERFLOW_ROOT/deploy/local/setup.sh"
log "unit tests of the saga console scripts (Python, no system needed)…"
python3 -m unittest discover -s "$ORDERFLOW_ROOT/deploy/demo" -p 'test_*.py'
STACK_DIR="$ORDERFLOW_ROOT/.run/test-$$"
cleanup() {
  local status=$?
  local system
  for system in "$STACK_DIR"/revive-*; do  # services a crash/revive test started, if it was cut short
    [ -d "$system" ] && "$ORDERFLOW_ROOT/deploy/local/services.sh" stop "$system" >/dev/null 2>&1 || true
  done
  "$ORDERFLOW_ROOT/deploy/local/stack.sh" stop "$STACK_DIR" >/dev/null 2>&1 || true
  if [ $status -eq 0 ]; then rm -rf "$STACK_DIR"; else warn "stack logs kept in $STACK_DIR/logs"; fi
  exit $status
}
trap cleanup EXIT INT TERM
"$ORDERFLOW_ROOT/deploy/local/stack.sh" start "$STACK_DIR" >/dev/null

set -a; source "$STACK_DIR/stack.env"; set +a
pkg_config_env
cd "$ORDERFLOW_ROOT"
log "building tests…"
swift build --build-tests ${SWIFT_BUILD_FLAGS:-}
export ORDERFLOW_BIN_DIR="$(swift build ${SWIFT_BUILD_FLAGS:-} --show-bin-path)"
export ORDERFLOW_ROOT
log "static checks of the compose file, the Dockerfile and the Kubernetes manifests (no Docker engine here), and the run image against the libraries the programs link…"
"$ORDERFLOW_ROOT/deploy/docker/check.sh"
log "running tests against the stack in $STACK_DIR"
# The output is kept, so that a failure's details can be repeated last: a CI log shown only by
# its tail still says which test failed and why.
if swift test --skip-build ${SWIFT_BUILD_FLAGS:-} ${SWIFT_TEST_FLAGS:-} 2>&1 | tee "$STACK_DIR/swift-test.log"; then
  exit 0
else
  status=$?
  warn "what failed (repeated from above):"
  grep -a -E '✘|↳|Fatal error|crashed|with signal' "$STACK_DIR/swift-test.log" | grep -a -v -E 'Testing Library Version|Target Platform' | tail -40 || true
  exit $status
fi
