# certctl — see README.md. Every target works on a fresh machine: hack/setup.sh installs what is missing.
SHELL := /bin/bash
GO ?= go
KUBE_VERSION ?= v1.37.1
OUTPUT := $(CURDIR)/_output
CERTCTL := $(OUTPUT)/certctl
KUBE_BIN_DIR := $(OUTPUT)/bin/$(KUBE_VERSION)
export KUBE_BIN_DIR
export CERTCTL_BIN := $(CERTCTL)

# Unit tests: every package but test/, whose tests run the real kube binaries.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/test/')

.PHONY: all setup build demo test test-unit test-promrules fuzz-short test-e2e bench lint fuzz docs kube-binaries cluster-up cluster-down clean

all: build

setup:
	@hack/setup.sh

# The version `certctl version` prints (hack/version.sh: `git describe`, or "dev").
VERSION ?= $(shell hack/version.sh)
LDFLAGS := -X github.com/certctl/certctl/cmd.version=$(VERSION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(CERTCTL) ./cmd/certctl

demo: setup build
	@hack/demo.sh $(CERTCTL) $(CURDIR)/_demo

test: setup lint test-unit test-promrules fuzz-short test-e2e

test-unit: build
	$(GO) test -count=1 $(UNIT_PKGS)

# docs/monitoring.md's Prometheus alert rules, parsed and evaluated by Prometheus's own packages over
# certctl's metrics (promtool check rules + test rules). A module of its own, test/promrules, so that
# certctl's go.mod does not carry Prometheus's dependencies: `go vet ./...` and `go test ./...` from
# the root do not enter it. Its modules come from the Go module proxy on the first run (~150 MB).
test-promrules: build
	cd test/promrules && $(GO) vet ./... && $(GO) test -count=1 ./...

# Every fuzz target for 10000 inputs (make fuzz: a minute each). A count, not
# a duration: Go 1.26's fuzz coordinator can fail a run at the end of a
# -fuzztime duration with a bare "context deadline exceeded" and no failing
# input (golang/go#75804, fixed in Go 1.27); a count has no deadline.
fuzz-short:
	@hack/fuzz.sh 10000x

# ---- end-to-end: a real kube-apiserver, etcd and kube-controller-manager (see docs/testing.md) ----
kube-binaries:
	@hack/build-kube-binaries.sh $(KUBE_VERSION) $(KUBE_BIN_DIR)

# setup: the tests run `openssl verify`.
test-e2e: setup build kube-binaries
	$(GO) test -count=1 -timeout 70m ./test/...

# NODES=3: three control-plane nodes cp-1..cp-3 on 127.0.0.1..3 (docs/testing.md).
NODES ?= 1
cluster-up: build kube-binaries
	$(GO) run ./test/cmd/testcluster up -nodes $(NODES)

cluster-down:
	$(GO) run ./test/cmd/testcluster down

.PHONY: cluster-status
cluster-status:
	$(GO) run ./test/cmd/testcluster status
# ---- end of end-to-end section ----

bench: build
	@hack/bench.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' ; git ls-files -o --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

fuzz:
	@hack/fuzz.sh 60s

docs:
	$(GO) run ./hack/gendocs docs/reference

clean:
	rm -rf $(OUTPUT) _demo
