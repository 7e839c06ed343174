package buildtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"testing"
)

// GoTool returns the go command: the one on PATH, else the one in the
// GOROOT that built the running test.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// Build runs `go build <flags> -o <dir>/<name> <pkg>` from the module root,
// where dir is a new temporary directory and name is pkg's last element. pkg
// is relative to the module root, such as "./cmd/kvorum-server"; flags are
// go build's own, such as "-race". The go command's output goes to
// os.Stderr.
//
// It returns the binary's path and a cleanup that removes dir; the caller
// calls cleanup once the binary is no longer needed. On an error nothing is
// left behind and cleanup is nil.
func Build(pkg string, flags ...string) (bin string, cleanup func(), err error) {
	root, err := moduleRoot()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "kvorum-buildtest-")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, path.Base(pkg))
	args := append(append([]string{"build"}, flags...), "-o", bin, pkg)
	build := exec.Command(GoTool(), args...)
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// Run is the body of a TestMain that needs one binary: it builds pkg with
// Build, sets *bin to the binary's path, runs the tests, removes the binary
// and returns m.Run's exit code for os.Exit. On a failed build it prints the
// error to os.Stderr and returns 1 without running any test.
func Run(m *testing.M, bin *string, pkg string, flags ...string) int {
	path, cleanup, err := Build(pkg, flags...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	*bin = path
	return m.Run()
}

// moduleRoot is the nearest directory at or above the working directory
// (a test's package directory) that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("buildtest: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// FreePorts returns n distinct TCP ports free on 127.0.0.1 at the time of
// the call (the listeners are held until all are chosen), for child
// processes that must be told their ports before they start: a cluster
// whose nodes join each other by address. Another process may take one
// before the child binds it; the tests that use it retry or fail clearly.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("pick a free port: %v", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
