# eventwatch — see README.md. Every target works on a fresh checkout.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/eventwatch
PKGS     := ./...
FUZZTIME ?= 20s

.PHONY: soak build test e2e demo generate check-generated lint bench fuzz clean image kafka

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/eventwatch

## test: unit and component tests (kfake in-process, promtool, helm when installed), plus generated-file freshness.
test: check-generated
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)

## e2e: tests against a real Apache Kafka broker (and real Prometheus, Alertmanager, Chromium, PostgreSQL, Node).
e2e:
	$(GO) test -count=1 -tags e2e -timeout 40m -p 1 ./e2e/...

## soak: the daemon for SOAK (default 10m) at steady load against a real broker; RSS and goroutines must stay flat.
SOAK ?= 10m
soak:
	EVENTWATCH_SOAK=$(SOAK) $(GO) test -count=1 -tags e2e -timeout 30m -run TestDaemonSoak -v ./e2e/

## demo: the daemon against an embedded 3-broker kfake cluster with simulated services.
demo:
	$(GO) run ./cmd/eventwatch demo

## generate: dashboards/, alerts/, docs/rules.md, docs/metrics.md, docs/dashboards.md.
generate:
	$(GO) run ./cmd/eventwatch generate all --out .

## check-generated: fail when a committed generated file differs from a fresh 'generate all'.
check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	 $(GO) run ./cmd/eventwatch generate all --out $$tmp >/dev/null || { echo "generate failed"; exit 1; }; \
	 for d in dashboards alerts docs/rules.md docs/metrics.md docs/dashboards.md; do \
	   diff -r $$tmp/$$d $$d || { echo "generated file $$d is stale: run 'make generate'"; exit 1; }; \
	 done

lint:
	golangci-lint run ./...

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
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) -t $(IMAGE) .

## kafka: fetch the real Apache Kafka broker jars make e2e runs (needs mvn; cached in .cache/).
kafka:
	scripts/kafka/fetch.sh

clean:
	rm -rf bin
