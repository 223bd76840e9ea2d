#!/usr/bin/env bash
# `make fuzz`: property-based fuzzing of the public API through the gateway with Schemathesis,
# driven by the gateway's own /openapi.yaml. Fails on any 5xx, on a status code the document does
# not list, on a body that does not match its schema, and on undocumented content types or
# missing documented headers.
#
# Uses a throwaway stack (Postgres, Redis, Tansu) on free ports and the debug build; stops them
# afterwards (logs kept in .run/fuzz-<pid>/logs when the run fails). The JUnit reports go to
# .run/fuzz-report/customer/ and .run/fuzz-report/admin/.
#
# Knobs: FUZZ_EXAMPLES (200 test cases per operation), FUZZ_SEED (reproduce a run),
#        FUZZ_MAX_TIME (seconds, unset = no budget), FUZZ_ARGS (more schemathesis flags),
#        FUZZ_SCHEMATHESIS (the pip requirement; the flags below are those of Schemathesis 4).
# Two passes. First as a customer: every operation but the SSE stream (streamNotifications never
# ends), logout (it would revoke the fuzzing token and leave every later case a 401) and the
# admin-only ones. Then, once no order is in flight, as the admin: the admin-only operations
# (payments' faults, suspending a user) and the reads an admin sees more of (users, every
# customer's orders with their sagas). The admin pass places no order, so a crash point it arms
# never fires during the run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

EXAMPLES="${FUZZ_EXAMPLES:-200}"
SCHEMATHESIS_REQ="${FUZZ_SCHEMATHESIS:-schemathesis==4.32.5}"
VENV="$DEPS_DIR/fuzz-venv"
REPORT_DIR="$ORDERFLOW_ROOT/.run/fuzz-report"

# Schemathesis in its own virtual environment under .deps (git-ignored), installed when missing
# or when FUZZ_SCHEMATHESIS asks for another version.
ensure_schemathesis() {
  local wanted="${SCHEMATHESIS_REQ#*==}"
  if [ -x "$VENV/bin/schemathesis" ]; then
    case "$SCHEMATHESIS_REQ" in
      *==*) "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "version $wanted\$" && return 0 ;;
      *) return 0 ;;
    esac
  fi
  log "installing $SCHEMATHESIS_REQ into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS_REQ" \
    || die "pip could not install $SCHEMATHESIS_REQ"
}
mkdir -p "$DEPS_DIR"
ensure_schemathesis

# The fuzzer sends thousands of requests as one user: limits it never reaches (the limiter still
# runs). services.sh passes this environment to every service.
export RATE_LIMIT_READ_BURST=1000000000 RATE_LIMIT_READ_PER_SECOND=1000000000
export RATE_LIMIT_WRITE_BURST=1000000000 RATE_LIMIT_WRITE_PER_SECOND=1000000000
export JWT_ACCESS_TTL_SECONDS=86400 LOG_LEVEL="${LOG_LEVEL:-warning}"
throwaway_system fuzz debug

log "registering the fuzzing customer through $GATEWAY_URL"
TOKEN="$(python3 "$ORDERFLOW_ROOT/deploy/loadtest/customer.py" "$GATEWAY_URL" --deposit-minor 100000000 --prefix fuzz)" \
  || die "could not register the fuzzing customer"

ADMIN_ONLY=(getPaymentFaults replacePaymentFaults suspendUser)
ADMIN_READS=(getUser listOrders getOrder getOrderSaga)

# One schemathesis run: $1 names the pass (and its report directory), $2 is the bearer token, the
# rest selects operations.
fuzz_pass() {
  local pass="$1" token="$2"; shift 2
  mkdir -p "$REPORT_DIR/$pass"
  # shellcheck disable=SC2054  # the checks are one comma-separated argument
  local args=(run "$GATEWAY_URL/openapi.yaml" --url "$GATEWAY_URL" --wait-for-schema 30
      -H "Authorization: Bearer $token"
      --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance
      --max-examples "$EXAMPLES"
      --request-timeout 30 --no-color
      --report junit --report-dir "$REPORT_DIR/$pass" "$@")
  [ -n "${FUZZ_SEED:-}" ] && args+=(--seed "$FUZZ_SEED")
  [ -n "${FUZZ_MAX_TIME:-}" ] && args+=(--max-time "$FUZZ_MAX_TIME")
  # shellcheck disable=SC2206  # FUZZ_ARGS is split on purpose
  [ -n "${FUZZ_ARGS:-}" ] && args+=($FUZZ_ARGS)
  log "schemathesis, $pass pass: $GATEWAY_URL/openapi.yaml, $EXAMPLES examples per operation"
  "$VENV/bin/schemathesis" "${args[@]}"
}

rm -rf "$REPORT_DIR"
customer_args=(--exclude-operation-id streamNotifications --exclude-operation-id logout)
for id in "${ADMIN_ONLY[@]}"; do customer_args+=(--exclude-operation-id "$id"); done
status=0
fuzz_pass customer "$TOKEN" "${customer_args[@]}" || status=$?

log "waiting for the customer pass's orders to settle, then logging in as the admin"
if ADMIN_TOKEN="$(python3 "$ORDERFLOW_ROOT/deploy/loadtest/admin_token.py" "$GATEWAY_URL" --settle-seconds 180)"; then
  admin_args=()
  for id in "${ADMIN_ONLY[@]}" "${ADMIN_READS[@]}"; do admin_args+=(--include-operation-id "$id"); done
  admin_status=0
  fuzz_pass admin "$ADMIN_TOKEN" "${admin_args[@]}" || admin_status=$?
  [ $status -ne 0 ] || status=$admin_status
else
  warn "no admin pass: the admin token or the orders' settling failed (above)"
  [ $status -ne 0 ] || status=1
fi
if [ $status -ne 0 ]; then
  warn "schemathesis found problems (exit $status); reports in $REPORT_DIR/{customer,admin}, service logs in $STACK_DIR/logs"
else
  log "no server errors and every response conformed, as a customer and as the admin; reports in $REPORT_DIR"
fi
exit $status
