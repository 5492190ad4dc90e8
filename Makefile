# ucm-gateway. The first two targets are all a newcomer needs: `make run`, `make test`.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go

.PHONY: run test build generate generate-ts lint bench fuzz clean postman

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

## generate: regenerate what is made from api/openapi.yaml: internal/api (the server) and
## pkg/client (the Go client) with oapi-codegen as a Go tool, and the TypeScript client's types
## (make generate-ts) when npx is installed
generate:
	$(GO) generate ./...
	@if command -v npx >/dev/null 2>&1; then $(MAKE) --no-print-directory generate-ts; \
	else echo "make generate: no npx here, so clients/ts was not regenerated (make generate-ts needs Node)"; fi

## generate-ts: regenerate clients/ts/src/schema.ts with openapi-typescript (pinned in clients/ts)
generate-ts:
	@[ -x clients/ts/node_modules/.bin/openapi-typescript ] || (cd clients/ts && npm ci --no-audit --no-fund --loglevel=error)
	cd clients/ts && npm run -s generate

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

## bench: measure what the gateway costs (hop, latency on loopback, load on a unit, many units,
## fan-out) and write the report to docs/benchmarks.md (a few minutes; loopback only). The Go
## benchmarks alone: go test -run '^$$' -bench . -benchmem ./internal/...
bench:
	@mkdir -p docs
	$(GO) run ./cmd/ucm-bench -out docs/benchmarks.md

## fuzz: each fuzz target for FUZZTIME (10s); the corpus grows into testdata/fuzz (commit it)
FUZZTIME ?= 10s
FUZZ_TARGETS := ./internal/ucm:FuzzDecodeReply ./internal/ucm:FuzzCheckRaw ./internal/ucm:FuzzInt \
	./internal/handlers:FuzzRequestToAction ./internal/handlers:FuzzExtensionTranscode
fuzz:
	@set -e; cache="$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m)"; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		out=$$(mktemp); \
		if ! $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg >$$out 2>&1; then \
			cat $$out; \
			if grep -q 'Failing input written' $$out || ! grep -q 'context deadline exceeded' $$out; then rm -f $$out; exit 1; fi; \
			echo "fuzz $$name: time ran out while a worker was busy (a known go test -fuzz ending, no failing input): ok"; \
		else cat $$out; fi; \
		rm -f $$out; \
		mkdir -p $$pkg/testdata/fuzz/$$name; \
		for f in "$$cache/$${pkg#./}/$$name"/*; do \
			[ -e "$$f" ] && [ ! -e "$$pkg/testdata/fuzz/$$name/$${f##*/}" ] && cp "$$f" "$$pkg/testdata/fuzz/$$name/" || true; \
		done; \
	done

clean:
	rm -rf bin
