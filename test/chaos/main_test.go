package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// serverBin is the kvorum-server binary TestMain built.
var serverBin string

// TestMain builds kvorum-server once into a temporary directory, as
// cmd/kvorum-server's TestMain does (never with -race: a race-enabled
// server is several times slower on a loaded 2-core machine).
// KVORUM_CHAOS_SERVER=path runs a binary built elsewhere instead (another
// revision, or a build with a fault planted on purpose).
func TestMain(m *testing.M) {
	if serverBin = os.Getenv("KVORUM_CHAOS_SERVER"); serverBin != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "kvorum-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "kvorum-server")
	build := exec.Command(goTool(), "build", "-o", serverBin, "github.com/kvorum/kvorum/cmd/kvorum-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build kvorum-server:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool finds the go command: on PATH, else the one that built this test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
