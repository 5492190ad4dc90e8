#!/usr/bin/env bash
# Spec quality: redocly's recommended rules (redocly.yaml and .redocly.lint-ignore.yaml hold the
# deliberate exceptions). Errors fail CI; warnings are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/js-tools.sh
redocly lint --format=stylish api/openapi.yaml
