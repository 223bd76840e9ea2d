#!/usr/bin/env bash
# `make load`: drives the gateway of a running `make run` with wrk — an authenticated read
# (GET /api/v1/users/me) and order placement (POST /api/v1/orders, a fresh Idempotency-Key each) —
# and prints req/s, p50/p90/p99 and non-2xx answers per scenario.
#
#   make run                                   # in another terminal, first (see below for limits)
#   make load                                  # or: deploy/loadtest/load.sh
#
# Knobs: LOAD_SECONDS (15), LOAD_CONNECTIONS (32), LOAD_THREADS (2), STACK_DIR (.run/stack),
#        LOAD_TARGET (the gateway URL; default GATEWAY_URL from STACK_DIR/services.env).
#
# The gateway rate-limits per user and route class, and every request here comes from one user:
# with the default limits most requests are answered 429. For a load test start the system with
# limits it never reaches, so that the limiter runs (its Redis round trip is measured) but never
# rejects:
#   RATE_LIMIT_READ_BURST=1000000 RATE_LIMIT_READ_PER_SECOND=1000000 \
#   RATE_LIMIT_WRITE_BURST=1000000 RATE_LIMIT_WRITE_PER_SECOND=1000000 make run
# (or GATEWAY_RATE_LIMIT=off to measure without it).
# Placed orders are real: they take stock from the seeded catalogue of the running system (once a
# product is sold out its orders are rejected by the saga — still 202 here). The load user's wallet
# gets LOAD_DEPOSIT_MINOR (default 1e9 minor units) so payments do not decline for want of funds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

SECONDS_PER_RUN="${LOAD_SECONDS:-15}"
CONNECTIONS="${LOAD_CONNECTIONS:-32}"
THREADS="${LOAD_THREADS:-2}"
DEPOSIT_MINOR="${LOAD_DEPOSIT_MINOR:-1000000000}"
STACK_DIR="${STACK_DIR:-$ORDERFLOW_ROOT/.run/stack}"
HERE="$ORDERFLOW_ROOT/deploy/loadtest"

# ensure_wrk — installs wrk (Debian package) when it is missing.
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if is_macos; then die "wrk is missing: brew install wrk"; fi
  command -v apt-get >/dev/null 2>&1 || die "wrk is missing; install it with your package manager"
  [ "$(id -u)" -eq 0 ] || die "wrk is missing — install it with: sudo apt-get install wrk"
  log "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null
}

if [ -n "${LOAD_TARGET:-}" ]; then
  GATEWAY_URL="$LOAD_TARGET"
elif [ -f "$STACK_DIR/services.env" ]; then
  source "$STACK_DIR/services.env"
  [ -n "${GATEWAY_URL:-}" ] || die "$STACK_DIR/services.env names no GATEWAY_URL"
else
  die "no running system found ($STACK_DIR/services.env is missing): start it with \`make run\` first (with high RATE_LIMIT_* limits, see deploy/loadtest/load.sh), or set LOAD_TARGET to a gateway URL"
fi
GATEWAY_URL="${GATEWAY_URL%/}"
curl -fsS -m 5 "$GATEWAY_URL/health" >/dev/null 2>&1 \
  || die "the gateway at $GATEWAY_URL does not answer /health: is \`make run\` still running?"
ensure_wrk

log "registering a load user through $GATEWAY_URL and depositing $DEPOSIT_MINOR minor units"
TOKEN="$(python3 "$HERE/customer.py" "$GATEWAY_URL" --deposit-minor "$DEPOSIT_MINOR" --prefix load)" \
  || die "could not prepare the load user through the gateway"

OUT="$(mktemp -d "${TMPDIR:-/tmp}/orderflow-load.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
RESULTS=()
for scenario in authenticated_get place_order; do
  log "$scenario: wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_RUN}s against $GATEWAY_URL"
  ORDERFLOW_TOKEN="$TOKEN" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 10s \
    -s "$HERE/wrk/$scenario.lua" "$GATEWAY_URL" >"$OUT/$scenario.txt" 2>&1 \
    || { cat "$OUT/$scenario.txt" >&2; die "wrk failed ($scenario)"; }
  line="$(grep '^RESULT ' "$OUT/$scenario.txt" | tail -n1)"
  [ -n "$line" ] || { cat "$OUT/$scenario.txt" >&2; die "wrk printed no RESULT line ($scenario)"; }
  RESULTS+=("$line")
done

python3 - "$GATEWAY_URL" "$SECONDS_PER_RUN" "$CONNECTIONS" "$THREADS" "$STACK_DIR" "${RESULTS[@]}" <<'PY'
import sys
url, seconds, conns, threads, stack_dir = sys.argv[1:6]
rows = [dict(kv.split("=", 1) for kv in line.split()[1:]) for line in sys.argv[6:]]
print()
print(f"Gateway load — {url}, wrk {threads} threads × {conns} connections, {seconds} s per scenario, one user")
print(f"{'scenario':<20}{'req/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'non-2xx':>10}{'sock err':>10}")
bad = 0
for r in rows:
    print(f"{r['scenario']:<20}{float(r['rps']):>10.0f}{float(r['p50_ms']):>9.2f}{float(r['p90_ms']):>9.2f}{float(r['p99_ms']):>9.2f}"
          f"{float(r['p999_ms']):>10.2f}{int(r['non2xx']):>10}{int(r['socket_errors']):>10}")
    bad += int(r["non2xx"])
if bad:
    print()
    print(f"WARNING: {bad} answers were not 2xx. The usual cause is the gateway's per-user rate limit (429):")
    print("  every request here comes from one user. Restart the system with limits it never reaches, e.g.")
    print("  RATE_LIMIT_READ_BURST=1000000 RATE_LIMIT_READ_PER_SECOND=1000000 \\")
    print("  RATE_LIMIT_WRITE_BURST=1000000 RATE_LIMIT_WRITE_PER_SECOND=1000000 make run")
    print(f"  (GATEWAY_RATE_LIMIT=off turns the limiter off). Otherwise see {stack_dir}/logs/gateway.log.")
PY
