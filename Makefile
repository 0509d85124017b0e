# eventwatch — see README.md. Every target works on a fresh checkout.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE     ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
BIN      := bin/eventwatch
PKGS     := ./...
FUZZTIME ?= 20s
SHELL    := /bin/bash
.DEFAULT_GOAL := build

.PHONY: help soak build test test-short e2e demo generate check-generated lint bench fuzz clean image kafka

## help: this list (every target with a '## target:' comment).
help:
	@sed -n 's/^## \([a-z0-9-]*\): \(.*\)/\1\t\2/p' $(MAKEFILE_LIST) | awk -F'\t' '{ printf "  %-16s %s\n", $$1, $$2 }'

## build: bin/eventwatch, static (CGO_ENABLED=0), version from git describe.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/eventwatch

## test: unit and component tests (kfake in-process, promtool, helm, ...), generated-file freshness; lists every skipped test (REQUIRE_TOOLS=1 or CI: a missing tool fails).
test: check-generated
	$(GO) vet $(PKGS)
	set -o pipefail; $(GO) test -count=1 -json $(PKGS) | $(GO) run ./scripts/testsum

## test-short: the edit loop: vet and the unit tests without the slow ones (-short: no binary builds, promtool suite, PostgreSQL, whole demo).
test-short:
	$(GO) vet $(PKGS)
	set -o pipefail; $(GO) test -short -count=1 -json $(PKGS) | $(GO) run ./scripts/testsum

## e2e: tests against a real Apache Kafka broker (and real Prometheus, Alertmanager, Chromium, PostgreSQL, Node), plus the Dockerfile build.
e2e:
	$(GO) test -count=1 -tags e2e -timeout 40m -p 1 ./e2e/... ./deploy/imagetest/

## soak: the daemon for SOAK (e.g. 1h) at SOAK_RATE records/s (default 500, every record audited) against a real broker (jars fetched when missing); RSS, heap, goroutines and trace state every 5 s into SOAK_OUT (CSV; heap profiles beside it) and the log; they must stay flat. SOAK_DEFAULTS=1: the default trace and duplicate windows.
SOAK ?= 10m
SOAK_RATE ?= 500
SOAK_OUT ?= $(CURDIR)/soak.csv
SOAK_DEFAULTS ?=
soak: kafka
	EVENTWATCH_SOAK=$(SOAK) EVENTWATCH_SOAK_RATE=$(SOAK_RATE) EVENTWATCH_SOAK_OUT=$(SOAK_OUT) EVENTWATCH_SOAK_DEFAULTS=$(SOAK_DEFAULTS) $(GO) test -count=1 -tags e2e -timeout 3h -run TestDaemonSoak -v ./e2e/

## demo: the daemon against an embedded 3-broker kfake cluster with simulated services, on 127.0.0.1 (flags: make demo ARGS='--seed 7'); Ctrl-C stops it cleanly.
ARGS ?=
demo:
	@echo "make demo: building $(BIN) (a cold build compiles ~300 packages and takes a few minutes; a warm one seconds)"
	@set -o pipefail; CGO_ENABLED=0 $(GO) build -v -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/eventwatch 2>&1 | \
	 awk '/^(#|[^ ]+\.go:)/ { print; next } { n++; if (n % 25 == 0) printf "make demo: compiled %d packages (now %s)\n", n, $$0 } \
	      END { if (n) printf "make demo: compiled %d packages\n", n }'
	@echo "make demo: starting $(BIN) demo (Ctrl-C stops it and exits 0)"
	@exec $(BIN) demo --http-addr 127.0.0.1:9779 --kafka-addr 127.0.0.1:9092 $(ARGS)

## generate: every generated file (the list: go run ./cmd/eventwatch generate list).
generate:
	$(GO) run ./cmd/eventwatch generate all --out .

## check-generated: fail when a committed generated file differs from a fresh 'generate all'.
check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	 $(GO) build -o $$tmp/eventwatch ./cmd/eventwatch || { echo "build failed"; exit 1; }; \
	 $$tmp/eventwatch generate all --out $$tmp/out >/dev/null || { echo "generate failed"; exit 1; }; \
	 paths=$$($$tmp/eventwatch generate list) || exit 1; \
	 for d in $$paths; do \
	   diff -r $$tmp/out/$$d $$d || { echo "generated file $$d is stale: run 'make generate'"; exit 1; }; \
	 done

## lint: golangci-lint over the tree (.golangci.yml).
lint:
	golangci-lint run ./...

## bench: every benchmark once (see docs/performance.md for the interleaved old/new method).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: each fuzz target for FUZZTIME.
fuzz:
	@$(GO) list -f '{{.ImportPath}} {{.Dir}}' ./internal/... | while read pkg dir; do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

## image: the container image (deploy/Dockerfile; needs Docker with BuildKit, not available on our dev machines).
IMAGE ?= ghcr.io/eventwatch/eventwatch:$(VERSION)
image:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t $(IMAGE) .

## kafka: fetch the real Apache Kafka broker jars make e2e runs (needs mvn; cached in .cache/).
kafka:
	scripts/kafka/fetch.sh

## clean: remove bin/.
clean:
	rm -rf bin
