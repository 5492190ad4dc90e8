#!/usr/bin/env bash
# Postman check: convert api/openapi.yaml into a Postman collection exactly as a user importing
# the spec would (openapi-to-postmanv2), add assertions (.ci/js/postman-prepare.js) and run it
# with newman against the demo gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/js-tools.sh
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
. .ci/demo-gateway.sh

work=$(mktemp -d)
trap 'rm -rf "$work"; stop_demo' EXIT
openapi2postmanv2 -s api/openapi.yaml -o "$work/converted.json" -p \
  -O folderStrategy=Tags,parametersResolution=Example >/dev/null
AUTH_HEADER="$AUTH_HEADER" node .ci/js/postman-prepare.js "$work/converted.json" "$work/collection.json"
newman run "$work/collection.json" --bail failure --color off --disable-unicode \
  --env-var "baseUrl=$BASE_URL" --env-var "authHeader=${AUTH_HEADER#Authorization: }" "$@"
