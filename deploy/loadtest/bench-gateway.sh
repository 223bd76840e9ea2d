#!/usr/bin/env bash
# `make bench-gateway`: what the gateway costs, beside nginx proxying the same request, same run.
#
# One authenticated read, GET /api/v1/users/me with a real access token, four ways:
#   (a) users directly                          — the floor
#   (b) through the gateway, auth + rate limit  — what clients get (limits so high it never rejects,
#                                                 but every request still takes its Redis round trip)
#   (c) through a gateway with GATEWAY_AUTH=off GATEWAY_RATE_LIMIT=off — bare proxying
#   (d) through nginx (1 worker, upstream keepalive 64) — the reference proxy
# Like nginx's one worker, (b) and (c) run one event loop each (EVENT_LOOP_THREADS=1); users, the
# upstream, keeps one per core.
# For each: max req/s = wrk closed loop (BENCH_CONNECTIONS connections, BENCH_SECONDS) after a 3 s
# warm-up; then latency open-loop at a fixed rate of half of (b)'s max (latency from the scheduled
# send time, so no coordinated omission). The open loop is deploy/loadtest/fixed_rate.c, compiled
# here with cc into .deps/bin (Linux), or its Python twin fixed_rate.py (elsewhere, or
# BENCH_LOAD_GENERATOR=python), whose own latency is ~0.5 ms at p50 and ~1 ms at p99 (the C one:
# ~0.05 and ~0.1 ms) on the cores it measures. Both phases run BENCH_ROUNDS
# rounds with the four configurations interleaved (a b c d a b c d …). Ratios and added latencies
# are taken within each round (the configurations of one round share the machine's state) and the
# median over rounds is printed, beside each configuration's median; single runs on a small
# shared machine vary by ±25 %.
#   goals: (b) max req/s ≥ 0.8 × (d);  added p99 at half rate, (b) − (a) ≤ 1 ms
# A benchmark, not a test: it exits 0 when a goal is missed, and says MISSED.
#
# Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (15), BENCH_CONNECTIONS (32), BENCH_THREADS (2, wrk threads),
#        BENCH_RATE_CONNECTIONS (64, fixed-rate connections), BENCH_LOAD_GENERATOR (c, or python),
#        BENCH_RATE_PROCESSES (1; processes of the Python generator),
#        KAFKA_FETCH_WAIT_MAX_MS (1000 here: Kafka is idle in this benchmark; see gateway-variant.sh),
#        BENCH_GATEWAY_EVENT_LOOPS (1; 0 = one per core, the gateway's own default).
# Uses a throwaway stack (Postgres, Redis, Tansu) and the release build; stops them afterwards.
# Installs wrk and nginx-light (Debian packages) when missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

ROUNDS="${BENCH_ROUNDS:-3}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a whole number ≥ 1, not '$ROUNDS'"
BENCH_SECONDS="${BENCH_SECONDS:-15}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
RATE_CONNECTIONS="${BENCH_RATE_CONNECTIONS:-64}"
RATE_PROCESSES="${BENCH_RATE_PROCESSES:-1}"
LOAD_GENERATOR="${BENCH_LOAD_GENERATOR:-$([ "$(uname -s)" = Linux ] && echo c || echo python)}"
case "$LOAD_GENERATOR" in
  c)
    [ "$(uname -s)" = Linux ] || die "BENCH_LOAD_GENERATOR=c needs Linux (epoll, timerfd); use python"
    [ "$RATE_PROCESSES" = 1 ] || warn "BENCH_RATE_PROCESSES=$RATE_PROCESSES is for the Python generator; the C one runs as one process"
    # cc comes with build-essential (deploy/local/setup.sh, which runs later), clang with Swift.
    C_COMPILER="$(command -v cc || command -v clang || true)"
    [ -n "$C_COMPILER" ] || die "no C compiler (cc or clang) for deploy/loadtest/fixed_rate.c: run deploy/local/setup.sh, or BENCH_LOAD_GENERATOR=python"
    mkdir -p "$ORDERFLOW_ROOT/.deps/bin"
    "$C_COMPILER" -O2 -o "$ORDERFLOW_ROOT/.deps/bin/fixed_rate" "$ORDERFLOW_ROOT/deploy/loadtest/fixed_rate.c" \
      || die "deploy/loadtest/fixed_rate.c did not compile"
    OPEN_LOOP=("$ORDERFLOW_ROOT/.deps/bin/fixed_rate")
    GENERATOR_LABEL="fixed_rate.c"
    ;;
  python)
    OPEN_LOOP=(python3 "$ORDERFLOW_ROOT/deploy/loadtest/fixed_rate.py" --processes "$RATE_PROCESSES")
    GENERATOR_LABEL="fixed_rate.py, $RATE_PROCESSES process(es)"
    ;;
  *) die "BENCH_LOAD_GENERATOR must be c or python, not '$LOAD_GENERATOR'" ;;
esac
GATEWAY_LOOPS="${BENCH_GATEWAY_EVENT_LOOPS:-1}"
[[ "$GATEWAY_LOOPS" =~ ^[0-9]+$ ]] && [ "$GATEWAY_LOOPS" -le 64 ] \
  || die "BENCH_GATEWAY_EVENT_LOOPS must be a whole number 0-64 (0 = one per core), not '$GATEWAY_LOOPS'"
LOOP_SETTING=(); [ "$GATEWAY_LOOPS" -gt 0 ] && LOOP_SETTING=(EVENT_LOOP_THREADS="$GATEWAY_LOOPS")
unset EVENT_LOOP_THREADS  # users, and BENCH_GATEWAY_EVENT_LOOPS=0, mean NIO's default: one per core
WARMUP_SECONDS=3
HERE="$ORDERFLOW_ROOT/deploy/loadtest"
ME_PATH="/api/v1/users/me"

# ensure_debian_packages PKG… — apt-get installs the packages that are missing.
ensure_debian_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}"
  log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  # On a machine with a running init system Debian also starts its own nginx service (port 80);
  # this bench never uses it: it runs a private nginx on a free port.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
if is_macos; then
  if ! command -v wrk >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1; then die "missing tools: brew install wrk nginx"; fi
else
  command -v dpkg-query >/dev/null 2>&1 || die "this script installs wrk and nginx with apt-get (Debian/Ubuntu)"
  ensure_debian_packages wrk nginx-light
fi
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$NGINX_BIN" ] || die "nginx not found after installing nginx-light"

throwaway_extra_cleanup() {
  stop_pidfile nginx "$STACK_DIR/pids/nginx.pid"
  stop_pidfile "gateway (bare)" "$STACK_DIR/pids/gateway-bare.pid"
  stop_pidfile "gateway (measured)" "$STACK_DIR/pids/gateway-measured.pid"
}
source "$HERE/gateway-variant.sh"
gateway_bench_environment
throwaway_system bench-gateway release
USERS_PORT="${USERS_URL##*:}"

# (b) and (c): two more gateways with the first one's environment and the bench's event-loop
# count, (c) with authentication and rate limiting off. (The first gateway, as `make run` starts
# it, stays idle.)
MEASURED_PORT="$(free_port)"
start_gateway_variant measured "$MEASURED_PORT" ${LOOP_SETTING[@]+"${LOOP_SETTING[@]}"}
MEASURED_URL="http://127.0.0.1:$MEASURED_PORT"
BARE_PORT="$(free_port)"
start_gateway_variant bare "$BARE_PORT" GATEWAY_AUTH=off GATEWAY_RATE_LIMIT=off ${LOOP_SETTING[@]+"${LOOP_SETTING[@]}"}
BARE_URL="http://127.0.0.1:$BARE_PORT"

# (d): nginx in the foreground of a background job (daemon off), one worker, pooled upstream.
NGINX_DIR="$STACK_DIR/nginx"
NGINX_PORT="$(free_port)"
mkdir -p "$NGINX_DIR/tmp"
cat >"$NGINX_DIR/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $STACK_DIR/logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log $STACK_DIR/logs/nginx-access.log combined buffer=64k flush=1s;
  client_body_temp_path $NGINX_DIR/tmp/body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  upstream users {
    server 127.0.0.1:$USERS_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://users;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
}
CONF
"$NGINX_BIN" -t -q -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" -e "$STACK_DIR/logs/nginx-error.log" \
  || die "nginx rejected $NGINX_DIR/nginx.conf"
"$NGINX_BIN" -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" -e "$STACK_DIR/logs/nginx-error.log" \
  >>"$STACK_DIR/logs/nginx.out" 2>&1 &
echo $! >"$STACK_DIR/pids/nginx.pid"
wait_until "nginx (port $NGINX_PORT)" 30 tcp_open "$NGINX_PORT" || die "nginx did not start; see $STACK_DIR/logs/nginx-error.log"
NGINX_URL="http://127.0.0.1:$NGINX_PORT"

log "registering a customer (directly on users) for its access token"
TOKEN="$(python3 "$HERE/customer.py" "$USERS_URL" --prefix bench)" || die "could not register the bench customer"

NAMES=(a b c d)
LABELS=("(a) users directly" "(b) gateway, auth + rate limit" "(c) gateway, auth + rate limit off" "(d) nginx")
URLS=("$USERS_URL" "$MEASURED_URL" "$BARE_URL" "$NGINX_URL")
for i in 0 1 2 3; do  # every path must answer the real request before anything is measured
  code="$(curl -s -o "$STACK_DIR/check.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "${URLS[$i]}$ME_PATH" || true)"
  [ "$code" = 200 ] || { cat "$STACK_DIR/check.json" >&2 2>/dev/null || true; die "${LABELS[$i]}: GET $ME_PATH answered ${code:-nothing}, not 200"; }
done
limiter_headers() { curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" "$1$ME_PATH" | grep -ci '^ratelimit-limit:' || true; }
if [ "$(limiter_headers "$MEASURED_URL")" -gt 0 ]; then log "(b) answers with RateLimit-* headers: its limiter runs"
else warn "(b) answered without RateLimit-* headers: is its rate limiter on (GATEWAY_RATE_LIMIT)?"; fi
[ "$(limiter_headers "$BARE_URL")" -eq 0 ] || warn "(c) answered with RateLimit-* headers: its limiter should be off"

OUT="$STACK_DIR/results"
mkdir -p "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  for i in 0 1 2 3; do
    log "round $r/$ROUNDS, ${LABELS[$i]}: warm-up ${WARMUP_SECONDS}s, then wrk -t$THREADS -c$CONNECTIONS -d${BENCH_SECONDS}s"
    ORDERFLOW_TOKEN="$TOKEN" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP_SECONDS}s" --timeout 10s \
      -s "$HERE/wrk/authenticated_get.lua" "${URLS[$i]}" >/dev/null 2>&1 || true
    f="$OUT/${NAMES[$i]}-max-$r.txt"
    ORDERFLOW_TOKEN="$TOKEN" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${BENCH_SECONDS}s" --timeout 10s \
      -s "$HERE/wrk/authenticated_get.lua" "${URLS[$i]}" >"$f" 2>&1 \
      || { cat "$f" >&2; die "wrk failed on ${LABELS[$i]}"; }
    grep -q '^RESULT ' "$f" || { cat "$f" >&2; die "no RESULT from wrk on ${LABELS[$i]}"; }
  done
done

# Half of (b)'s median maximum.
HALF="$(python3 - "$OUT" "$ROUNDS" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def rps(path):
    line = [l for l in open(path) if l.startswith("RESULT ")][-1]
    return float(dict(kv.split("=", 1) for kv in line.split()[1:])["rps"])
print(round(max(1.0, statistics.median(rps(f"{out}/b-max-{r}.txt") for r in range(1, rounds + 1)) / 2), 1))
PY
)"
for r in $(seq 1 "$ROUNDS"); do
  for i in 0 1 2 3; do
    log "round $r/$ROUNDS, ${LABELS[$i]}: open loop at $HALF req/s (half of (b)) for ${BENCH_SECONDS}s over $RATE_CONNECTIONS connections"
    f="$OUT/${NAMES[$i]}-rate-$r.txt"
    "${OPEN_LOOP[@]}" "${URLS[$i]}$ME_PATH" --rate "$HALF" --seconds "$BENCH_SECONDS" \
      --connections "$RATE_CONNECTIONS" --header "Authorization: Bearer $TOKEN" \
      >"$f" 2>&1 || { cat "$f" >&2; die "the load generator ($GENERATOR_LABEL) failed on ${LABELS[$i]}"; }
  done
done

GENERATOR_LABEL="$GENERATOR_LABEL" GATEWAY_LOOPS_LABEL="$([ "$GATEWAY_LOOPS" -gt 0 ] && echo "$GATEWAY_LOOPS" || echo "one per core")" \
python3 - "$OUT" "$HALF" "$BENCH_SECONDS" "$CONNECTIONS" "$THREADS" "$RATE_CONNECTIONS" "$ROUNDS" "${LABELS[@]}" <<'PY'
import os, statistics, sys
out, half, seconds, conns, threads, rconns, rounds = sys.argv[1:8]
rounds = int(rounds)
labels = sys.argv[8:12]
def result(path):
    with open(path) as f:
        line = [l for l in f if l.startswith("RESULT ")][-1]
    return {k: v for k, v in (kv.split("=", 1) for kv in line.split()[1:])}
names = "abcd"
runs = range(1, rounds + 1)
mx = {n: [result(f"{out}/{n}-max-{r}.txt") for r in runs] for n in names}
rt = {n: [result(f"{out}/{n}-rate-{r}.txt") for r in runs] for n in names}
med = statistics.median
rps_rounds = {n: [float(m["rps"]) for m in mx[n]] for n in names}
p50_rounds = {n: [float(x["p50_ms"]) for x in rt[n]] for n in names}
p99_rounds = {n: [float(x["p99_ms"]) for x in rt[n]] for n in names}
rps = {n: med(rps_rounds[n]) for n in names}
p50 = {n: med(p50_rounds[n]) for n in names}
p99 = {n: med(p99_rounds[n]) for n in names}
# Paired within each round, then the median over rounds.
vs_d = {n: med(v / d for v, d in zip(rps_rounds[n], rps_rounds["d"])) for n in names}
add50 = {n: med(v - a for v, a in zip(p50_rounds[n], p50_rounds["a"])) for n in names}
add99 = {n: med(v - a for v, a in zip(p99_rounds[n], p99_rounds["a"])) for n in names}
print()
print(f"Gateway benchmark — GET /api/v1/users/me with a bearer token; release build, one machine, same run "
      f"(Kafka idle, consumers' fetch wait {os.environ.get('KAFKA_FETCH_WAIT_MAX_MS', '?')} ms; "
      f"gateway event loops: {os.environ.get('GATEWAY_LOOPS_LABEL', '?')}; nginx: 1 worker)")
print(f"max: wrk {threads} threads × {conns} connections, {seconds} s closed loop after a 3 s warm-up; "
      f"latency: open loop ({os.environ.get('GENERATOR_LABEL', '?')}) at {half} req/s (half of (b)'s median max), {rconns} connections, from the scheduled send time; "
      f"medians of {rounds} interleaved rounds (vs (d) and the added latencies: paired within each round, then the median)")
print(f"{'config':<38}{'max req/s':>11}{'vs (d)':>8}{'p50 ms':>9}{'p99 ms':>9}{'+p50 vs (a)':>13}{'+p99 vs (a)':>13}{'non-2xx/err':>13}")
notes = []
for n, label in zip(names, labels):
    bad_max = sum(int(m["non2xx"]) + int(m["socket_errors"]) for m in mx[n])
    bad_rate = sum(int(x["non2xx"]) + int(x["errors"]) for x in rt[n])
    added = "" if n == "a" else f"{add50[n]:>+13.3f}{add99[n]:>+13.3f}"
    print(f"{label:<38}{rps[n]:>11.0f}{vs_d[n]:>7.2f}x{p50[n]:>9.3f}{p99[n]:>9.3f}{added if added else '':>26}{str(bad_max + bad_rate):>13}")
    if bad_max or bad_rate:
        notes.append(f"{label}: {bad_max} non-2xx/socket errors at max rate, {bad_rate} non-2xx/errors at half rate — figures suspect")
    for r, x in zip(runs, rt[n]):
        if float(x["achieved"]) < 0.97 * float(x["rate"]):
            notes.append(f"{label}, round {r}: only {float(x['achieved']):.0f} of {half} req/s answered in the open-loop run")
        if float(x["send_lag_p99_ms"]) > 2.0:
            notes.append(f"{label}, round {r}: the load generator itself was {float(x['send_lag_p99_ms']):.1f} ms late at p99 (it, not the server, may be the bottleneck)")
print()
print("per round, max req/s:   " + "   ".join(f"({n}) " + " / ".join(f"{v:.0f}" for v in rps_rounds[n]) for n in names))
print("per round, (b)/(d):     " + " / ".join(f"{b / d:.2f}" for b, d in zip(rps_rounds["b"], rps_rounds["d"])))
print("per round, p99 ms:      " + "   ".join(f"({n}) " + " / ".join(f"{v:.1f}" for v in p99_rounds[n]) for n in names))
ratio = vs_d["b"]
added_p99 = add99["b"]
print()
print(f"(b)/(d) = {ratio:.3f} (median of the rounds' ratios; goal >= 0.8)  {'met' if ratio >= 0.8 else 'MISSED'}")
print(f"added p99 (b)-(a) = {added_p99:.3f} ms (median of the rounds' differences; goal <= 1 ms)  {'met' if added_p99 <= 1.0 else 'MISSED'}")
for note in notes:
    print("note:", note)
PY
