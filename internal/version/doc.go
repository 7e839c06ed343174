// Package version is kvorum's own version, in one place: both binaries'
// --version and the front door's INFO server (kvorum_version) read it.
//
// Release builds stamp it at link time from `git describe --tags --always
// --dirty` (the Makefile and scripts/image.sh):
//
//	go build -ldflags "-X github.com/kvorum/kvorum/internal/version.stamp=$(git describe --tags --always --dirty)" ./cmd/kvorum-server
//
// An unstamped build (go run, go build, go test) falls back to what the Go
// toolchain recorded: the module version, else the VCS revision (with
// "-dirty" for uncommitted changes), else "dev".
//
// It imports only the standard library, so any package may read it.
package version
