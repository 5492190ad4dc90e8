#!/usr/bin/env bash
# Postman check: the committed collection (postman/, generated from api/openapi.yaml by
# `make postman`) must match the spec, and it must pass with newman against the demo gateway
# exactly as a Postman user runs it against `make run`: the committed environment, with only
# baseUrl and bearerToken set for this run.
# Uses the gateway at $BASE_URL when the caller started one (.ci/clients.sh); else starts its own.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/js-tools.sh
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

make -s postman
if ! git diff --quiet -- postman || [ -n "$(git ls-files --others --exclude-standard -- postman)" ]; then
  echo "postman/ is stale: run make postman and commit"
  git status --short -- postman
  exit 1
fi
echo "postman/ matches api/openapi.yaml"

if [ -z "${BASE_URL:-}" ]; then
  . .ci/demo-gateway.sh
fi
newman run postman/ucm-gateway.postman_collection.json -e postman/demo.postman_environment.json \
  --env-var "baseUrl=$BASE_URL" --env-var "bearerToken=$UCM_GATEWAY_DEMO_KEY" \
  --color off --disable-unicode --reporter-cli-no-console "$@"
