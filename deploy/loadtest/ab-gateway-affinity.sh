#!/usr/bin/env bash
# The A/B behind ADR 0008's event-loop affinity and ADR 0009's event-loop path figures: two
# gateways on one throwaway stack, the same environment except one on/off setting (AB_SETTING:
# GATEWAY_EVENT_LOOP_AFFINITY by default, or GATEWAY_FAST_PATH), auth and rate limiting on (limits
# so high none is refused). Rounds alternate on → off; each measures wrk's max req/s on
# GET /api/v1/users/me and the gateway's CPU per request (utime + stime from /proc), then the
# medians and how many pairs each side won. Linux only (reads /proc).
#
# Knobs: AB_SETTING, AB_ROUNDS (6), AB_SECONDS (8), AB_CONNECTIONS (32). Release build.
# Not part of `make test`: a benchmark, it exits 0 whichever side wins.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

SETTING="${AB_SETTING:-GATEWAY_EVENT_LOOP_AFFINITY}"
case "$SETTING" in GATEWAY_EVENT_LOOP_AFFINITY|GATEWAY_FAST_PATH) ;; *) die "AB_SETTING must be GATEWAY_EVENT_LOOP_AFFINITY or GATEWAY_FAST_PATH, not '$SETTING'" ;; esac
ROUNDS="${AB_ROUNDS:-6}"; SECONDS_PER_RUN="${AB_SECONDS:-8}"; CONNECTIONS="${AB_CONNECTIONS:-32}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "AB_ROUNDS must be a whole number ≥ 1, not '$ROUNDS'"
[ -r /proc/self/stat ] || die "this script reads CPU time from /proc (Linux only)"
command -v wrk >/dev/null 2>&1 || die "wrk is missing: make bench-gateway installs it (or apt-get install wrk)"
HERE="$ORDERFLOW_ROOT/deploy/loadtest"

source "$HERE/gateway-variant.sh"
gateway_bench_environment
export "$SETTING=on"
throwaway_extra_cleanup() { stop_pidfile "gateway ($SETTING=off)" "$STACK_DIR/pids/gateway-off.pid"; }
throwaway_system ab-gateway-affinity release
OFF_PORT="$(free_port)"
start_gateway_variant off "$OFF_PORT" "$SETTING=off"

TOKEN="$(python3 "$HERE/customer.py" "$USERS_URL" --prefix ab)" || die "could not register the customer"
declare -A PID=([on]="$(cat "$STACK_DIR/pids/gateway.pid")" [off]="$(cat "$STACK_DIR/pids/gateway-off.pid")")
declare -A URL=([on]="$GATEWAY_URL" [off]="http://127.0.0.1:$OFF_PORT")
for side in on off; do
  curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "${URL[$side]}/api/v1/users/me" || die "gateway ($side) did not answer 200"
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
RESULTS="$STACK_DIR/ab.txt"; : >"$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  for side in on off; do
    ORDERFLOW_TOKEN="$TOKEN" wrk -t2 -c"$CONNECTIONS" -d3s -s "$HERE/wrk/authenticated_get.lua" "${URL[$side]}" >/dev/null 2>&1 || true
    before="$(cpu_ticks "${PID[$side]}")"
    out="$(ORDERFLOW_TOKEN="$TOKEN" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$HERE/wrk/authenticated_get.lua" "${URL[$side]}" 2>&1)" \
      || { echo "$out" >&2; die "wrk failed on gateway ($side)"; }
    after="$(cpu_ticks "${PID[$side]}")"
    line="$(grep '^RESULT ' <<<"$out" | tail -n1)" || die "no RESULT from wrk on gateway ($side)"
    echo "$r $side $((after - before)) $line" >>"$RESULTS"
    log "round $r/$ROUNDS, $SETTING=$side: $(sed -n 's/.* rps=\([0-9.]*\) .*/\1/p' <<<"$line") req/s"
  done
done

python3 - "$RESULTS" "$(getconf CLK_TCK)" "$SECONDS_PER_RUN" "$CONNECTIONS" "$SETTING" <<'PY'
import statistics, sys
path, ticks_per_s, seconds, conns, setting = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
rounds = {}
for raw in open(path):
    r, side, ticks, _, *fields = raw.split()
    kv = dict(f.split("=", 1) for f in fields)
    rps, bad = float(kv["rps"]), int(kv["non2xx"]) + int(kv["socket_errors"])
    rounds.setdefault(int(r), {})[side] = (rps, int(ticks) / ticks_per_s / (rps * seconds) * 1e6, float(kv["p99_ms"]), bad)
pairs = [rounds[r] for r in sorted(rounds)]
med = statistics.median
print()
print(f"Gateway {setting}=on/off A/B — GET /api/v1/users/me, auth + rate limit on, wrk -t2 -c{conns}, {seconds:.0f} s per run, same stack")
print(f"{'round':<7}{'on req/s':>10}{'off req/s':>11}{'on µs/req':>11}{'off µs/req':>12}{'on p99 ms':>11}{'off p99 ms':>12}")
for i, p in enumerate(pairs, 1):
    print(f"{i:<7}{p['on'][0]:>10.0f}{p['off'][0]:>11.0f}{p['on'][1]:>11.0f}{p['off'][1]:>12.0f}{p['on'][2]:>11.1f}{p['off'][2]:>12.1f}")
wins = sum(p["on"][0] > p["off"][0] for p in pairs)
print()
print(f"median req/s: on {med(p['on'][0] for p in pairs):.0f}, off {med(p['off'][0] for p in pairs):.0f}; "
      f"paired on/off {med(p['on'][0] / p['off'][0] for p in pairs):.2f}x; on won {wins} of {len(pairs)} pairs")
print(f"median gateway CPU per request: on {med(p['on'][1] for p in pairs):.0f} µs, off {med(p['off'][1] for p in pairs):.0f} µs")
bad = sum(p[s][3] for p in pairs for s in ("on", "off"))
if bad:
    print(f"note: {bad} non-2xx or socket errors in total — figures suspect")
PY
