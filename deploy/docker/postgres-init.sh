#!/usr/bin/env bash
# First start of the compose Postgres (docker-entrypoint-initdb.d): the same bootstrap as the
# local stack (deploy/postgres/bootstrap.sql), with the service passwords from the environment.
set -euo pipefail
for var in USERS_DB_PASSWORD ORDERS_DB_PASSWORD PAYMENTS_DB_PASSWORD NOTIFICATIONS_DB_PASSWORD; do
  [ -n "${!var:-}" ] || { echo "postgres-init: $var is not set" >&2; exit 1; }
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v users_password="$USERS_DB_PASSWORD" -v orders_password="$ORDERS_DB_PASSWORD" \
  -v payments_password="$PAYMENTS_DB_PASSWORD" -v notifications_password="$NOTIFICATIONS_DB_PASSWORD" \
  -f /orderflow/bootstrap.sql
