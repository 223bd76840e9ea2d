#!/usr/bin/env bash
# `make demo`: a scripted tour through the gateway of a running `make run` — two customers,
# approved / insufficient-funds / injected-fault / cancelled orders, each with its saga timeline,
# then the orders and both wallets. Exits non-zero when an expectation fails (a smoke test).
#
#   make run     # in another terminal, first
#   make demo    # or: deploy/demo/demo.sh
#
# STACK_DIR (default .run/stack) names the running system; DEMO_GATEWAY overrides its gateway URL;
# DEMO_TIMEOUT (30) is how long each order may take to settle. The demo changes payments' fault
# settings for a moment (admin-only) and resets them afterwards: run it where nobody else relies
# on them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

STACK_DIR="${STACK_DIR:-$ORDERFLOW_ROOT/.run/stack}"
if [ ! -f "$STACK_DIR/stack.env" ] || { [ -z "${DEMO_GATEWAY:-}" ] && [ ! -f "$STACK_DIR/services.env" ]; }; then
  die "no running system in $STACK_DIR: start it with \`make run\` first (in another terminal)"
fi
if [ -z "${DEMO_GATEWAY:-}" ]; then
  GATEWAY_URL="$(sed -n 's/^GATEWAY_URL=//p' "$STACK_DIR/services.env" | tail -n1)"
  [ -n "$GATEWAY_URL" ] || die "$STACK_DIR/services.env names no GATEWAY_URL"
  curl -fsS -m 5 "$GATEWAY_URL/health" >/dev/null 2>&1 \
    || die "the gateway at $GATEWAY_URL does not answer /health: is \`make run\` still running?"
fi
exec python3 "$ORDERFLOW_ROOT/deploy/demo/demo.py" --stack-dir "$STACK_DIR" "$@"
