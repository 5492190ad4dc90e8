#!/usr/bin/env bash
# deploy/ without a cluster: render the kustomize base, decode every object strictly (client-go
# scheme; Prometheus Operator types for ServiceMonitor/PrometheusRule), check selectors, the
# embedded configuration and the shutdown budget, and check every alert and dashboard query
# against the metric names a real gateway exports. See deploy/*_test.go (build tag "deploy").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"
if ! command -v kustomize >/dev/null || ! kustomize version 2>/dev/null | grep -q 'v5.8.2'; then
  go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
kustomize build deploy/kubernetes >"$out"
echo "rendered $(grep -c '^kind:' "$out") objects"
go vet -tags deploy ./deploy/
DEPLOY_RENDERED="$out" go test -count=1 -tags deploy ./deploy/
