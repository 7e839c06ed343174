package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
)

// versionPkg is the package whose variable the linker stamps, as the
// Makefile and scripts/image.sh do.
const versionPkg = "github.com/kvorum/kvorum/internal/version"

// runBin runs bin with args and returns its stdout, stderr and exit code.
func runBin(t *testing.T, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %q: %v", bin, args, err)
	}
	return out.String(), errOut.String(), code
}

// Built as `make build` builds them, both binaries print the stamped
// version with --version and exit 0, and a node reports it in INFO server's
// kvorum_version (the door reads the same variable).
func TestVersion_Stamped(t *testing.T) {
	dir := t.TempDir()
	const stamp = "v0.0.0-test-1-gabcdef0-dirty"
	bins := map[string]string{"kvorum-server": ".", "kvorum-cli": "../kvorum-cli"}
	for name, pkg := range bins {
		build := exec.Command(goTool(), "build", "-ldflags", "-X "+versionPkg+".stamp="+stamp,
			"-o", filepath.Join(dir, name), pkg)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	for name := range bins {
		out, errOut, code := runBin(t, nil, filepath.Join(dir, name), "--version")
		if code != 0 || out != name+" "+stamp+"\n" || errOut != "" {
			t.Errorf("%s --version: exit %d, stdout %q, stderr %q; want exit 0 and %q",
				name, code, out, errOut, name+" "+stamp+"\n")
		}
	}

	// The stamped server reports the stamp in INFO server.
	lb := &logBuffer{serving: make(chan string, 1)}
	srv := exec.Command(filepath.Join(dir, "kvorum-server"), "--gossip-addr", "", "--listen", "127.0.0.1:0",
		"--raft-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--node-id", "v")
	srv.Stdout, srv.Stderr = lb, lb
	if err := srv.Start(); err != nil {
		t.Fatalf("start stamped kvorum-server: %v", err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	var addr string
	select {
	case addr = <-lb.serving:
	case <-time.After(startTimeout):
		t.Fatalf("stamped kvorum-server did not log msg=serving within %v:\n%s", startTimeout, lb)
	}
	if !strings.Contains(lb.String(), "version="+stamp) {
		t.Errorf("start-up log does not name version=%s:\n%s", stamp, lb)
	}
	v, err := resptest.Ask(addr, "INFO", "server")
	if err != nil || !strings.Contains(v.Text(), "\r\nkvorum_version:"+stamp+"\r\n") {
		t.Errorf("INFO server = %q, %v; want kvorum_version:%s", v.Text(), err, stamp)
	}
}

// An unstamped build (go build, go run) still answers --version, exit 0.
func TestVersion_Unstamped(t *testing.T) {
	out, errOut, code := runBin(t, nil, serverBin, "--version")
	ver, ok := strings.CutPrefix(strings.TrimSpace(out), "kvorum-server ")
	if code != 0 || !ok || ver == "" || strings.Contains(ver, " ") || errOut != "" {
		t.Fatalf("kvorum-server --version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// --version has no environment twin: KVORUM_VERSION does not stop a node.
	if _, errOut, code := runBin(t, []string{"KVORUM_VERSION=1"}, serverBin, "--bogus"); code != 2 || !strings.Contains(errOut, "-bogus") {
		t.Fatalf("KVORUM_VERSION=1 kvorum-server --bogus: exit %d, stderr %q; want exit 2 for the bad flag", code, errOut)
	}
}
