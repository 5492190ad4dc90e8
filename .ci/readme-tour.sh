#!/usr/bin/env bash
# README check: runs the call-center tour (the first ```sh block under "## A call-center tour")
# as written against the demo gateway, with only the address changed to the CI port and the key
# exported as the tour expects. Every curl must succeed: curl is wrapped with --fail-with-body,
# so a 4xx or 5xx, a refused connection or a shell error stops the check.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${UCM_GATEWAY_DEMO_KEY:?set UCM_GATEWAY_DEMO_KEY (the demo needs a bearer key)}"
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
. .ci/demo-gateway.sh

tour=$(awk '
  /^## A call-center tour/ { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```sh$/ { in_block = 1; next }
  in_block && /^```$/ { exit }
  in_block { print }
' README.md)
[ -n "$tour" ] || { echo "readme-tour: no call-center tour found in README.md"; exit 1; }
tour=${tour//localhost:8080/127.0.0.1:$PORT}

UCM_GATEWAY_KEY="$UCM_GATEWAY_DEMO_KEY" bash -euo pipefail -c '
  curl() { command curl --fail-with-body --max-time 20 "$@"; }

  '"$tour"'
'
echo
echo "readme-tour: the call-center tour ran as written"
