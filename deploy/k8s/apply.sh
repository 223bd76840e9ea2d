#!/usr/bin/env bash
# Deploys OrderFlow into namespace `orderflow` of the current kubectl context. The image
# orderflow:dev must be available to the cluster (for kind: `kind load docker-image orderflow:dev`).
#
#   deploy/k8s/apply.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/make-secrets.sh"
kubectl apply -f "$here/namespace.yaml"
# Postgres's first start runs the same bootstrap as the local stack and compose.
kubectl -n orderflow create configmap postgres-bootstrap \
  --from-file=bootstrap.sql="$root/deploy/postgres/bootstrap.sql" \
  --from-file=10-orderflow.sh="$root/deploy/docker/postgres-init.sh" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -k "$here"
# On a fresh cluster the services may restart a few times (crash-loop backoff) until Postgres and
# Kafka answer: give them time.
for deployment in users orders payments notifications gateway; do
  kubectl -n orderflow rollout status "deployment/$deployment" --timeout=600s
done
