# ucm-gateway. The first two targets are all a newcomer needs: `make run`, `make test`.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go

.PHONY: run test build generate lint bench clean

## run: the gateway with its built-in UCM simulator on http://127.0.0.1:8080 (unit "demo");
## more flags with ARGS, e.g. make run ARGS="--listen 127.0.0.1:8081"
run:
	$(GO) run ./cmd/ucm-gateway --demo $(ARGS)

## test: every test, with the race detector when this machine can build it: it needs cgo, so a
## C compiler (apt-get install gcc). Without one the tests run without -race, and say so.
test:
	@if [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC | cut -d' ' -f1)" >/dev/null 2>&1; then \
		echo "$(GO) test -race -count=1 ./..."; $(GO) test -race -count=1 ./...; \
	else \
		echo "make test: running the tests WITHOUT the race detector, which needs cgo and a C compiler (here CGO_ENABLED=$$($(GO) env CGO_ENABLED), CC=$$($(GO) env CC) not usable); apt-get install gcc adds one"; \
		echo "$(GO) test -count=1 ./..."; $(GO) test -count=1 ./...; \
	fi

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ucm-gateway ./cmd/ucm-gateway

## generate: regenerate internal/api from api/openapi.yaml (oapi-codegen runs as a Go tool)
generate:
	$(GO) generate ./...

## lint: go vet, gofmt, and a check that the committed generated code matches the spec
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) generate ./... && if ! git diff --quiet -- internal/api; then echo "generated code is stale: run make generate and commit"; git diff --stat -- internal/api; exit 1; fi

## bench: Go benchmarks of the hot paths (codec, pool, full request through the router)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
