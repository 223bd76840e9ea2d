#!/usr/bin/env bash
# `make bench-relay`: the transactional outbox relay vs a bare producer, same broker, same run.
#   1. latency at RATE msg/s: commit → broker ack (relay) beside send → broker ack (producer)
#   2. drain rate: COUNT committed rows published and marked, beside the producer's throughput
# Uses a throwaway Postgres + Tansu on free ports; stops them afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

RATE="${BENCH_RATE:-1000}"
LAT_COUNT="${BENCH_LAT_COUNT:-10000}"
COUNT="${BENCH_COUNT:-100000}"
BATCH="${BENCH_BATCH:-1000}"

"$ORDERFLOW_ROOT/deploy/local/setup.sh"
pkg_config_env
STACK_DIR="$ORDERFLOW_ROOT/.run/bench-relay-$$"
cleanup() { "$ORDERFLOW_ROOT/deploy/local/stack.sh" stop "$STACK_DIR" >/dev/null 2>&1 || true; rm -rf "$STACK_DIR"; }
trap cleanup EXIT INT TERM
"$ORDERFLOW_ROOT/deploy/local/stack.sh" start "$STACK_DIR" postgres kafka >/dev/null
source "$STACK_DIR/stack.env"

log "building RelayBench (release)"
(cd "$ORDERFLOW_ROOT" && swift build -c release --product RelayBench ${SWIFT_BUILD_FLAGS:-} >/dev/null)
BENCH="$(cd "$ORDERFLOW_ROOT" && swift build -c release ${SWIFT_BUILD_FLAGS:-} --show-bin-path)/RelayBench"

# The relay's writes come from pgbench (Postgres' own load generator) in a separate process.
PGBENCH="$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n1 || true)"
[ -n "$PGBENCH" ] || PGBENCH="$(command -v pgbench || true)"
[ -n "$PGBENCH" ] || die "pgbench not found (Debian: part of postgresql; macOS: brew install postgresql@15)"
log "latency: $LAT_COUNT messages at $RATE msg/s, one transaction each (writer: pgbench)"
LAT="$("$BENCH" latency "$ORDERFLOW_ADMIN_DATABASE_URL" "$ORDERFLOW_KAFKA_BROKERS" "$RATE" "$LAT_COUNT" "$PGBENCH")"
log "drain: $COUNT committed rows, batches of $BATCH"
DRAIN="$("$BENCH" drain "$ORDERFLOW_ADMIN_DATABASE_URL" "$ORDERFLOW_KAFKA_BROKERS" "$COUNT" "$BATCH")"

python3 - "$LAT" "$DRAIN" "$RATE" "$LAT_COUNT" "$COUNT" "$BATCH" <<'PY'
import re, sys
lat, drain = sys.argv[1], sys.argv[2]
def grab(text, line, key):
    m = re.search(line + r".*?" + key + r"=([0-9]+)", text)
    return float(m.group(1))
pp50, pp99 = grab(lat, "producer_latency", "p50_us"), grab(lat, "producer_latency", "p99_us")
rp50, rp99 = grab(lat, "relay_latency", "p50_us"), grab(lat, "relay_latency", "p99_us")
lp50, lp99 = grab(lat, "producer_linger1_latency", "p50_us"), grab(lat, "producer_linger1_latency", "p99_us")
pthr, rdrain = grab(drain, "producer_throughput", "msgs_per_sec"), grab(drain, "relay_drain", "events_per_sec")
print()
print(f"Outbox relay benchmark — latency at {sys.argv[3]} msg/s ({sys.argv[4]} messages); drain of {sys.argv[5]} rows, batch {sys.argv[6]}; Postgres + Tansu (same run)")
print(f"{'measure':<30}{'producer (defaults)':>20}{'producer (linger 1)':>20}{'outbox relay':>14}{'ratio vs defaults':>19}{'vs linger 1':>13}")
print(f"{'latency p50 (ms)':<30}{pp50 / 1000:>20.2f}{lp50 / 1000:>20.2f}{rp50 / 1000:>14.2f}{rp50 / max(pp50, 1):>18.2f}x{rp50 / max(lp50, 1):>12.2f}x")
print(f"{'latency p99 (ms)':<30}{pp99 / 1000:>20.2f}{lp99 / 1000:>20.2f}{rp99 / 1000:>14.2f}{rp99 / max(pp99, 1):>18.2f}x{rp99 / max(lp99, 1):>12.2f}x   goal ≤ 2.00x")
print(f"{'throughput / drain (msg/s)':<30}{pthr:>20.0f}{'':>20}{rdrain:>14.0f}{rdrain / pthr:>18.2f}x{'':>13}   goal drain ≥ 5000/s")
print("The relay runs with linger.ms=1 (it hands librdkafka whole batches); the producer is shown with the client's defaults (linger.ms=5) and with the relay's setting.")
PY
