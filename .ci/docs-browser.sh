#!/usr/bin/env bash
# Browser check: /docs in headless Chromium (Debian's, driven by playwright-core) against the
# demo gateway, with every other origin blocked: operations render, "try it out" succeeds.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
. .ci/js-tools.sh
. .ci/demo-gateway.sh
node .ci/js/docs-browser.js
