#!/usr/bin/env bash
# Static checks of docker-compose.yml, deploy/docker/Dockerfile, deploy/k8s/, the Prometheus and
# Grafana files (`make manifests`; `make test` runs them too): no Docker engine or cluster needed.
# Reads the programs in ORDERFLOW_BIN_DIR (default .build/debug) for the linked-libraries check,
# which is skipped when they are not built.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

# Published schemas, from PyPI into .deps: Kubernetes' (kubernetes-validate, with PyYAML and
# jsonschema) and the compose specification's (the JSON file inside docker-compose 1.29.2; the
# program itself is not used and not installed with its dependencies).
MANIFEST_TOOLS="$DEPS_DIR/python-manifests"
if [ ! -f "$MANIFEST_TOOLS/.complete" ]; then
  rm -rf "$MANIFEST_TOOLS"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --target "$MANIFEST_TOOLS" \
    kubernetes-validate==1.37.0 2>&1 | grep -v -E 'Running pip as the|WARNING: Target directory' || true
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --no-deps --target "$MANIFEST_TOOLS" \
    docker-compose==1.29.2 2>&1 | grep -v -E 'Running pip as the|WARNING: Target directory' || true
  PYTHONPATH="$MANIFEST_TOOLS" python3 -c 'import importlib.util as u, kubernetes_validate; assert u.find_spec("compose")' 2>/dev/null \
    && touch "$MANIFEST_TOOLS/.complete" || warn "could not install the manifest schemas from PyPI; their checks will fail"
fi
PYTHONPATH="$MANIFEST_TOOLS${PYTHONPATH:+:$PYTHONPATH}" ORDERFLOW_REQUIRE_SCHEMAS=1 \
  python3 -m unittest discover -s "$ORDERFLOW_ROOT/deploy/docker" -p 'test_*.py'
