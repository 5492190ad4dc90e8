#!/usr/bin/env bash
# Clients check: what a newcomer runs against `make run`, run against one demo gateway started
# as the other checks start it (.ci/demo-gateway.sh):
#   - the Postman collection with newman (.ci/newman.sh, which also checks postman/ is current);
#   - the Go client's tour (go run ./pkg/client/tour) and the TypeScript client's tour
#     (clients/ts: npm run tour);
#   - the README's ```go and ```ts blocks, as written: only http://localhost:8080 becomes this
#     gateway's address. The Go block is the body of a main() that has ctx and imports context,
#     fmt, os and pkg/client; the TypeScript block is an ES module inside clients/ts.
# First, the TypeScript client's generated types must match api/openapi.yaml (make lint checks
# the Go client's).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/js-tools.sh
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

echo "--- clients/ts: install (builds the client) and check the generated types"
(cd clients/ts && npm ci --no-audit --no-fund --loglevel=error)
make -s generate-ts
if ! git diff --quiet -- clients/ts || [ -n "$(git ls-files --others --exclude-standard -- clients/ts)" ]; then
  echo "clients/ts is stale: run make generate and commit"
  git status --short -- clients/ts
  exit 1
fi
echo "clients/ts/src/schema.ts matches api/openapi.yaml"

. .ci/demo-gateway.sh
export UCM_GATEWAY_URL="$BASE_URL" UCM_GATEWAY_KEY="$UCM_GATEWAY_DEMO_KEY"
scratch_go=$(mktemp -d "$PWD/.readme-go.XXXXXX")     # inside the module, ignored by ./...
scratch_ts=$(mktemp -d "$PWD/clients/ts/.readme.XXXXXX") # inside the package: it imports itself
trap 'rm -rf "$scratch_go" "$scratch_ts"; stop_demo' EXIT

echo "--- Postman collection (newman)"
bash .ci/newman.sh

echo "--- Go client: go run ./pkg/client/tour"
go run ./pkg/client/tour

echo "--- TypeScript client: npm run tour"
(cd clients/ts && npm run -s tour)

# readme_blocks LANG prints the README's fenced blocks of that language, with the address of
# `make run` replaced by this gateway's.
readme_blocks() {
  awk -v lang="$1" '/^```/ { if (inside) { inside = 0; next } if ($0 == "```" lang) { inside = 1; n++; next } } inside' README.md \
    | sed "s#http://localhost:8080#$BASE_URL#g"
}
# expect_call checks a snippet's output: it placed a call, which is ringing.
expect_call() {
  echo "$1"
  grep -Eq '^call [A-Za-z0-9_-]{4,} ringing' <<<"$1" || { echo "the snippet did not print a ringing call"; exit 1; }
}

echo "--- README: the Go snippet"
go_snippet=$(readme_blocks go)
[ -n "$go_snippet" ] || { echo "README.md has no \`\`\`go block"; exit 1; }
{
  printf 'package main\n\nimport (\n\t"context"\n\t"fmt"\n\t"os"\n\n\t"github.com/ucm-gateway/ucm-gateway/pkg/client"\n)\n\n'
  printf 'func main() {\n\tctx := context.Background()\n'
  printf '%s\n' "$go_snippet"
  printf '}\n'
} >"$scratch_go/main.go"
expect_call "$(go run "./$(basename "$scratch_go")")"

echo "--- README: the TypeScript snippet"
ts_snippet=$(readme_blocks ts)
[ -n "$ts_snippet" ] || { echo "README.md has no \`\`\`ts block"; exit 1; }
printf '%s\n' "$ts_snippet" >"$scratch_ts/readme.ts"
printf '{"extends": "../examples/tsconfig.json", "compilerOptions": {"rootDir": ".", "outDir": "out"}, "include": ["readme.ts"]}\n' >"$scratch_ts/tsconfig.json"
(cd clients/ts && npx tsc -p "$scratch_ts")
expect_call "$(node "$scratch_ts/out/readme.js")"

echo "clients check passed"
