# ucm-gateway. The first two targets are all a newcomer needs: `make run`, `make test`.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go

.PHONY: run test build generate lint bench clean postman

## run: the gateway with its built-in UCM simulator on http://127.0.0.1:8080 (unit "demo")
run:
	$(GO) run ./cmd/ucm-gateway --demo

## test: every test, with the race detector
test:
	$(GO) test -race -count=1 ./...

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ucm-gateway ./cmd/ucm-gateway

## generate: regenerate internal/api from api/openapi.yaml (oapi-codegen runs as a Go tool)
generate:
	$(GO) generate ./...

## lint: go vet, gofmt, and a check that the committed generated Go code matches the spec
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) generate ./... && if ! git diff --quiet -- internal/api pkg/client; then echo "generated code is stale: run make generate and commit"; git diff --stat -- internal/api pkg/client; exit 1; fi

## postman: regenerate postman/ (the Postman collection and the make-run environment) from the
## spec with portman; needs npm (the Node tools are pinned in .ci/js)
postman:
	@[ -x .ci/js/node_modules/.bin/portman ] || (cd .ci/js && npm ci --no-audit --no-fund --loglevel=error)
	node .ci/js/postman-generate.js

## bench: Go benchmarks of the hot paths (codec, pool, full request through the router)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
