.PHONY: build bench image version

# kvorum's version, stamped into both binaries (see internal/version):
# `git describe` of the work tree, "dev" outside a git checkout.
# VERSION=x make build overrides it.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/kvorum/kvorum/internal/version.stamp=$(VERSION)

# kvorum-server and kvorum-cli in bin/, stamped with $(VERSION).
build:
	go build -ldflags '$(LDFLAGS)' -o bin/kvorum-server ./cmd/kvorum-server
	go build -ldflags '$(LDFLAGS)' -o bin/kvorum-cli ./cmd/kvorum-cli

version:
	@echo $(VERSION)

# One kvorum node against redis-server AOF always: see bench/compare.sh.
bench:
	bash bench/compare.sh

# Static binaries in build/ and the FROM-scratch image kvorum:dev (IMAGE=name:tag
# to change it), stamped with $(VERSION): see docs/docker.md.
image:
	VERSION='$(VERSION)' scripts/image.sh
