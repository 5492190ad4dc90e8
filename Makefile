# ucm-gateway. The first two targets are all a newcomer needs: `make run`, `make test`.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO      ?= go

.PHONY: run test build generate lint bench fuzz clean

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

## lint: go vet, gofmt, and a check that the committed generated code matches the spec
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) generate ./... && if ! git diff --quiet -- internal/api; then echo "generated code is stale: run make generate and commit"; git diff --stat -- internal/api; exit 1; fi

## bench: Go benchmarks of the hot paths (codec, pool, full request through the router)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: each fuzz target for FUZZTIME (10s); the corpus grows into testdata/fuzz (commit it)
FUZZTIME ?= 10s
FUZZ_TARGETS := ./internal/ucm:FuzzDecodeReply ./internal/ucm:FuzzCheckRaw ./internal/ucm:FuzzInt \
	./internal/handlers:FuzzRequestToAction
fuzz:
	@set -e; cache="$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m)"; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
		mkdir -p $$pkg/testdata/fuzz/$$name; \
		for f in "$$cache/$${pkg#./}/$$name"/*; do \
			[ -e "$$f" ] && [ ! -e "$$pkg/testdata/fuzz/$$name/$${f##*/}" ] && cp "$$f" "$$pkg/testdata/fuzz/$$name/" || true; \
		done; \
	done

clean:
	rm -rf bin
