#!/usr/bin/env bash
# Writes deploy/k8s/secrets.env (mode 600, never committed) with random passwords and a fresh
# token-signing key, unless it exists. kustomization.yaml turns it into Secret orderflow-secrets.
#
#   make-secrets.sh [FILE]   (default: secrets.env beside this script)
set -euo pipefail
file="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets.env}"
if [ -s "$file" ]; then echo "$file exists; kept"; exit 0; fi
secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
umask 077
{
  echo "POSTGRES_PASSWORD=$(secret)"
  for service in USERS ORDERS PAYMENTS NOTIFICATIONS; do echo "${service}_DB_PASSWORD=$(secret)"; done
  echo "USERS_ADMIN_EMAIL=admin@orderflow.test"
  echo "USERS_ADMIN_PASSWORD=$(secret)"
  echo "JWT_SIGNING_KEYS=k8s-$(date +%s)=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
} > "$file"
echo "wrote $file"
