# Convenience targets; CI runs `bash .ci/run`, which does not need make.
.PHONY: all build test generate completions docs check-generated release-check snapshot clean

all: build test

build:
	go build -o ccx ./cmd/ccx

test:
	go test ./...

# completions/, man/ and docs/reference/ all come from the command tree in one go.
generate:
	go generate ./...

completions docs: generate

# Fails when the committed generated files are stale (the same check as the test).
check-generated:
	go run ./tools/gen -dir . -check

# goreleaser check only / the full offline snapshot build into dist/.
release-check:
	bash .ci/goreleaser.sh --check-only

snapshot:
	bash .ci/goreleaser.sh

clean:
	rm -rf dist ccx
