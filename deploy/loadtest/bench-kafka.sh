#!/usr/bin/env bash
# `make bench-kafka`: OrderFlow's Kafka client vs librdkafka's own rdkafka_performance (built from
# the same librdkafka source), same broker, same run, same producer properties.
#   1. producer throughput, COUNT messages of SIZE bytes, one partition (median of RUNS runs)
#   2. produce → consume latency at RATE msg/s (p50 / p99 / p99.9)
# Prints both and the ratio. Uses a throwaway Tansu on a free port; stops it afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

COUNT="${BENCH_COUNT:-1000000}"
RUNS="${BENCH_RUNS:-9}"
SIZE="${BENCH_SIZE:-300}"
RATE="${BENCH_RATE:-5000}"
LAT_COUNT="${BENCH_LAT_COUNT:-50000}"
PROPS=(-X acks=all -X enable.idempotence=true -X linger.ms=5 -X compression.type=lz4)

"$ORDERFLOW_ROOT/deploy/local/setup.sh"
pkg_config_env
STACK_DIR="$ORDERFLOW_ROOT/.run/bench-$$"
cleanup() { "$ORDERFLOW_ROOT/deploy/local/stack.sh" stop "$STACK_DIR" >/dev/null 2>&1 || true; rm -rf "$STACK_DIR"; }
trap cleanup EXIT INT TERM
"$ORDERFLOW_ROOT/deploy/local/stack.sh" start "$STACK_DIR" kafka >/dev/null
source "$STACK_DIR/stack.env"
B="$ORDERFLOW_KAFKA_BROKERS"

SRC="$(find "$DEPS_DIR/librdkafka-src/tree" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1)"
[ -n "$SRC" ] || die "librdkafka source not found under .deps (only kept when setup.sh built it); install librdkafka's examples yourself"
log "building rdkafka_performance from $(basename "$SRC")"
make -C "$SRC/examples" rdkafka_performance >/dev/null 2>&1 || die "cannot build rdkafka_performance"
PERF="$SRC/examples/rdkafka_performance"

log "building kafka-bench (release)"
(cd "$ORDERFLOW_ROOT" && swift build -c release --product KafkaBench ${SWIFT_BUILD_FLAGS:-} >/dev/null)
BENCH="$(cd "$ORDERFLOW_ROOT" && swift build -c release ${SWIFT_BUILD_FLAGS:-} --show-bin-path)/KafkaBench"

"$BENCH" create-topic "$B" bench.lat-c 1
"$BENCH" create-topic "$B" bench.lat-swift 1

# Two cores shared with the broker make single runs noisy: alternate the two clients RUNS times,
# each on a fresh topic, and compare medians.
log "throughput: $RUNS alternating runs of $COUNT × $SIZE B"
C_RUNS=""; S_RUNS=""
for i in $(seq 1 "$RUNS"); do
  "$BENCH" create-topic "$B" "bench.thr-c-$i" 1
  "$BENCH" create-topic "$B" "bench.thr-swift-$i" 1
  C_RUNS="$C_RUNS $("$PERF" -P -t "bench.thr-c-$i" -p 0 -s "$SIZE" -c "$COUNT" -b "$B" "${PROPS[@]}" 2>&1 | grep -oE '[0-9]+ msgs/s' | tail -n1 | grep -oE '[0-9]+')"
  S_RUNS="$S_RUNS $("$BENCH" throughput "$B" "bench.thr-swift-$i" "$COUNT" "$SIZE" | sed -E 's/.*msgs_per_sec=([0-9]+).*/\1/')"
done
median() { python3 -c 'import sys, statistics; print(int(statistics.median(int(x) for x in sys.argv[1:])))' $1; }
C_THR="$(median "$C_RUNS")"; S_THR="$(median "$S_RUNS")"
log "rdkafka_performance runs:$C_RUNS"
log "OrderFlow Kafka runs:   $S_RUNS"

log "latency: $LAT_COUNT messages at $RATE msg/s"
LAT_FILE="$STACK_DIR/c-latency.txt"
"$PERF" -C -t bench.lat-c -p 0 -o end -l -A "$LAT_FILE" -c "$LAT_COUNT" -b "$B" -X fetch.wait.max.ms=5 >/dev/null 2>&1 &
CONSUMER=$!
sleep 3
"$PERF" -P -t bench.lat-c -p 0 -s "$SIZE" -c "$LAT_COUNT" -r "$RATE" -l -b "$B" "${PROPS[@]}" >/dev/null 2>&1
wait "$CONSUMER" || true
C_LAT="$(python3 - "$LAT_FILE" <<'PY'
import sys
v = sorted(int(x) for x in open(sys.argv[1]) if x.strip())
p = lambda q: v[min(len(v) - 1, int(len(v) * q))]
print(len(v), p(0.5), p(0.99), p(0.999))
PY
)"
S_LAT="$("$BENCH" latency "$B" bench.lat-swift "$RATE" "$LAT_COUNT" "$SIZE" | sed -E 's/samples=([0-9]+) p50_us=([0-9]+) p99_us=([0-9]+) p999_us=([0-9]+)/\1 \2 \3 \4/')"

python3 - "$C_THR" "$S_THR" "$C_LAT" "$S_LAT" "$COUNT" "$SIZE" "$RATE" "$RUNS" <<'PY'
import sys
c_thr, s_thr = float(sys.argv[1]), float(sys.argv[2])
c = [int(x) for x in sys.argv[3].split()]
s = [int(x) for x in sys.argv[4].split()]
print()
print(f"Kafka client benchmark — throughput: median of {sys.argv[8]} runs of {sys.argv[5]} × {sys.argv[6]} B; latency: {sys.argv[7]} msg/s; broker: Tansu (same run)")
print(f"{'measure':<28}{'rdkafka_performance':>22}{'OrderFlow Kafka':>18}{'ratio':>9}")
print(f"{'producer throughput msg/s':<28}{c_thr:>22.0f}{s_thr:>18.0f}{s_thr / c_thr:>8.2f}x")
for name, i in (("latency p50 (ms)", 1), ("latency p99 (ms)", 2), ("latency p99.9 (ms)", 3)):
    print(f"{name:<28}{c[i] / 1000:>22.2f}{s[i] / 1000:>18.2f}{s[i] / c[i]:>8.2f}x")
print(f"{'latency samples':<28}{c[0]:>22}{s[0]:>18}")
PY
