#!/usr/bin/env bash
# `make bench-saga`: PlaceOrder sagas per second at saturation, completion p50/p99 at half that
# rate, and write transactions per saga — beside pgbench running a domain-insert +
# outbox-insert transaction on the same Postgres in the same run.
#   goal: sagas/s ≥ 0.5 × (pgbench tps / commits per saga)
# Uses a throwaway stack (Postgres, Redis, Tansu) and the release build; stops them afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

SATURATE_SECONDS="${BENCH_SECONDS:-20}"
CONCURRENCY="${BENCH_CONCURRENCY:-16}"

# BENCH_PG_STATS=on: also print the statements per saga and Postgres's planning and execution
# time per saga (pg_stat_statements; it costs some throughput, so compare such runs only
# with each other).
PG_STATS="${BENCH_PG_STATS:-off}"
[ "$PG_STATS" = on ] && export ORDERFLOW_PG_EXTRA_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"

# Saturation builds a backlog (orders are accepted faster than sagas finish), so a saga placed
# late may wait longer than the default 10 s step timeout: its command would be re-sent and its
# duplicate handled, work the benchmark would count against the sagas. The bench measures the
# pipeline, not timeouts (the end-to-end tests cover those): a long timeout, and the count of
# timed-out steps printed to prove it.
export SAGA_STEP_TIMEOUT_MS="${SAGA_STEP_TIMEOUT_MS:-300000}"
export PAYMENTS_STARTING_BALANCE_MINOR=100000000 PAYMENTS_ORDER_LIMIT_MINOR=100000000 LOG_LEVEL=warning
throwaway_system bench-saga release
PSQL() { psql "$ORDERFLOW_ADMIN_DATABASE_URL" -qtAX -c "$1"; }
[ "$PG_STATS" = on ] && PSQL "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
PSQL "UPDATE orders.products SET stock = stock + 10000000, stock_added = stock_added + 10000000"
xids() { PSQL "SELECT txid_snapshot_xmax(txid_current_snapshot())"; }

NOW() { PSQL "SELECT clock_timestamp()"; }
# The bench's sagas are those created in a phase's time window (nothing else runs meanwhile).
wait_settled() {  # until every saga created since $1 finished
  local since="$1" deadline=$((SECONDS + 300))
  while :; do
    local open; open="$(PSQL "SELECT count(*) FROM orders.saga_instances WHERE created_at >= '$since' AND finished_at IS NULL")"
    [ "$open" = 0 ] && return 0
    [ $SECONDS -lt $deadline ] || die "sagas still open after 300 s: $open"
    sleep 0.5
  done
}

CPU() { python3 "$ORDERFLOW_ROOT/deploy/loadtest/cpu_by_process.py" "$@"; }
log "saturation: $CONCURRENCY closed-loop clients for ${SATURATE_SECONDS}s"
X0="$(xids)"; T0="$(NOW)"
[ "$PG_STATS" = on ] && PSQL "SELECT pg_stat_statements_reset()" >/dev/null
SAGA_LOAD_READY_FILE="$STACK_DIR/load-ready" python3 "$ORDERFLOW_ROOT/deploy/loadtest/saga_load.py" \
  "$USERS_URL" "$PAYMENTS_URL" "$ORDERS_URL" saturate "$SATURATE_SECONDS" "$CONCURRENCY" >"$STACK_DIR/saturate.json" &
LOADER=$!
until [ -e "$STACK_DIR/load-ready" ]; do  # customers registered (password hashing is not a saga's cost)
  kill -0 "$LOADER" 2>/dev/null || { wait "$LOADER" || true; die "the load generator failed before the load started"; }
  sleep 0.05
done
CPU0="$(CPU snapshot "$STACK_DIR")"
wait "$LOADER" || die "the load generator failed"
SAT="$(cat "$STACK_DIR/saturate.json")"
wait_settled "$T0"
CPU1="$(CPU snapshot "$STACK_DIR")"
if [ "$PG_STATS" = on ]; then
  STATEMENT_TOTALS="$(PSQL "SELECT coalesce(sum(calls), 0), coalesce(sum(total_plan_time), 0), coalesce(sum(total_exec_time), 0)
                            FROM pg_stat_statements WHERE toplevel")"
  STATEMENT_TOP="$(PSQL "SELECT calls, total_plan_time, total_exec_time, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                         FROM pg_stat_statements WHERE toplevel ORDER BY total_plan_time + total_exec_time DESC LIMIT 12")"
fi
X1="$(xids)"
read -r SAT_N SAT_SPAN APPROVED <<<"$(PSQL "SELECT count(*), extract(epoch FROM max(s.finished_at) - min(s.created_at)), count(*) FILTER (WHERE o.status = 'approved')
  FROM orders.saga_instances s JOIN orders.orders o ON o.id = s.order_id WHERE s.created_at >= '$T0'" | tr '|' ' ')"
SAT_RATE="$(python3 -c "print($SAT_N / $SAT_SPAN)")"
TIMED_OUT="$(PSQL "SELECT count(*) FROM orders.saga_steps st JOIN orders.saga_instances s ON s.id = st.saga_id
  WHERE s.created_at >= '$T0' AND st.kind = 'timed_out'")"

HALF="$(python3 -c "print(max(1.0, $SAT_RATE / 2))")"
log "latency: open loop at $HALF sagas/s (half of saturation) for 20s"
T2="$(NOW)"
LAT="$(python3 "$ORDERFLOW_ROOT/deploy/loadtest/saga_load.py" "$USERS_URL" "$PAYMENTS_URL" "$ORDERS_URL" rate 20 "$HALF")"
wait_settled "$T2"
read -r P50 P99 <<<"$(PSQL "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)),
  percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)) FROM orders.saga_instances WHERE created_at >= '$T2'" | tr '|' ' ')"

log "services stopped; pgbench: domain insert + outbox insert per transaction, $CONCURRENCY clients, 20s"
"$ORDERFLOW_ROOT/deploy/local/services.sh" stop "$STACK_DIR" >/dev/null
PGBENCH="$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n1 || true)"
[ -n "$PGBENCH" ] || PGBENCH="$(command -v pgbench || true)"
[ -n "$PGBENCH" ] || die "pgbench not found"
PSQL "CREATE SCHEMA IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS bench.orders (id uuid PRIMARY KEY, customer_id uuid, total_minor bigint, status text, created_at timestamptz DEFAULT now());
      CREATE TABLE IF NOT EXISTS bench.outbox (id bigserial PRIMARY KEY, message_id uuid UNIQUE, topic text, message_key text, headers jsonb, payload bytea, created_at timestamptz DEFAULT clock_timestamp(), published_at timestamptz)"
cat > "$STACK_DIR/tx.sql" <<'SQL'
BEGIN;
INSERT INTO bench.orders (id, customer_id, total_minor, status) VALUES (gen_random_uuid(), gen_random_uuid(), 1499, 'pending');
INSERT INTO bench.outbox (message_id, topic, message_key, headers, payload) VALUES (gen_random_uuid(), 'orderflow.orders.events', 'k', '[{"name":"ce_type","value":"x"}]', '\x7b7d');
COMMIT;
SQL
CPU2="$(CPU snapshot "$STACK_DIR")"
PGOUT="$("$PGBENCH" -n -f "$STACK_DIR/tx.sql" -c "$CONCURRENCY" -j 2 -T 20 "$ORDERFLOW_ADMIN_DATABASE_URL" 2>/dev/null)"
CPU3="$(CPU snapshot "$STACK_DIR")"
TPS="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$PGOUT" | head -n1)"
PGTX="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$PGOUT" | head -n1)"

python3 - "$SAT_N" "$SAT_SPAN" "$APPROVED" "$X0" "$X1" "$P50" "$P99" "$TPS" "$HALF" "$CONCURRENCY" "$SAT" "$LAT" "$TIMED_OUT" <<'PY'
import json, sys
n, span, approved, x0, x1, p50, p99, tps, half, conc = (float(a) for a in sys.argv[1:11])
sat, lat, timed_out = json.loads(sys.argv[11]), json.loads(sys.argv[12]), int(sys.argv[13])
failed = sat["failed"] + lat["failed"]
failures = {k: sat.get("failures", {}).get(k, 0) + lat.get("failures", {}).get(k, 0) for k in set(sat.get("failures", {})) | set(lat.get("failures", {}))}
commits = (x1 - x0) / n
rate = n / span
bound = tps / commits
print()
print(f"PlaceOrder saga benchmark — release build, 4 services + Postgres + Redis + Tansu on one machine, same run")
print(f"{'saturation ({} clients)'.format(int(conc)):<42}{rate:>10.1f} sagas/s   ({int(n)} sagas, {int(approved)} approved, {failed} failed requests{' ' + str(failures) if failures else ''})")
print(f"{'write transactions per saga':<42}{commits:>10.1f}   (xids assigned during the saturation run / sagas)")
print(f"{'steps timed out during saturation':<42}{timed_out:>10}   (SAGA_STEP_TIMEOUT_MS; a timeout re-sends a command)")
print(f"{'completion at {:.1f} sagas/s: p50 / p99'.format(half):<42}{p50 * 1000:>10.0f} / {p99 * 1000:.0f} ms")
print(f"{'pgbench: domain + outbox insert tx':<42}{tps:>10.0f} tps ({int(conc)} clients)")
print(f"{'pgbench tps / commits per saga':<42}{bound:>10.1f} sagas/s (Postgres-bound ceiling)")
print(f"{'ratio sagas/s ÷ ceiling':<42}{rate / bound:>10.2f}x   goal ≥ 0.50x")
PY
echo
CPU report "$CPU0" "$CPU1" "$SAT_N" saga "load generator=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cpu_seconds"])' "$SAT")"
echo "  (the saturation run and the drain after it)"
echo
CPU report "$CPU2" "$CPU3" "$PGTX" "pgbench transaction"
echo "  (services stopped; \"everything else\" is mostly pgbench itself)"
if [ "$PG_STATS" = on ]; then
  echo
  python3 - "$SAT_N" "$STATEMENT_TOTALS" "$STATEMENT_TOP" <<'PY'
import sys
sagas = float(sys.argv[1])
calls, plan, execute = (float(v) for v in sys.argv[2].split("|"))
print(f"Postgres statements per saga (pg_stat_statements, top level): {calls / sagas:.1f}; "
      f"planning {plan / sagas:.2f} ms, execution {execute / sagas:.2f} ms per saga (execution includes lock waits;"
      f" parsing is in neither)")
print(f"  {'calls/saga':>10} {'plan ms':>8} {'exec ms':>8}  statement")
for line in sys.argv[3].splitlines():
    c, p, e, q = line.split("|", 3)
    print(f"  {float(c) / sagas:>10.2f} {float(p):>8.0f} {float(e):>8.0f}  {q}")
PY
fi
