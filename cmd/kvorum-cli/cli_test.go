package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/internal/buildtest"
)

// binary is the kvorum-cli built once for the tests of this package.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildtest.Run(m, &binary, "./cmd/kvorum-cli"))
}

// cluster is a fake leader and a follower redirecting to it.
type cluster struct {
	leader, follower *clienttest.Node
}

func startCluster(t *testing.T) cluster {
	t.Helper()
	leader, err := clienttest.Start(clienttest.NewStore())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leader.Close() })
	follower, err := clienttest.Start(clienttest.Follower(leader.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follower.Close() })
	return cluster{leader, follower}
}

// hostPort returns the -h and -p flags for addr.
func hostPort(t *testing.T, addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"-h", host, "-p", port}
}

// runCLI runs kvorum-cli with args and stdin, and returns its output and
// exit code.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running kvorum-cli %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// seed stores the tutorial's nested values through the Go client.
func seed(t *testing.T, addr string) {
	c, err := client.New(client.Options{Addrs: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.MSet(t.Context(), map[string]any{
		"k2": []any{"v2-0", 1, "v2-2"},
		"kx": map[string]any{"vx": map[string]any{"vy": 0, "vz": []any{1, 2, 3}}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCLI_OneShot(t *testing.T) {
	cl := startCluster(t)
	seed(t, cl.leader.Addr)
	flags := hostPort(t, cl.follower.Addr)

	out, errOut, code := runCLI(t, "", append(flags, "--no-raw", "GET", "kx")...)
	want := "1# \"vx\" => 1# \"vy\" => (integer) 0\n" +
		"   2# \"vz\" => 1) (integer) 1\n" +
		"      2) (integer) 2\n" +
		"      3) (integer) 3\n"
	if code != 0 || out != want {
		t.Fatalf("GET kx: exit %d, stdout\n%s\nwant\n%s", code, out, want)
	}
	if wantErr := "-> Redirected to leader " + cl.leader.Addr + "\n"; errOut != wantErr {
		t.Fatalf("stderr %q; want %q", errOut, wantErr)
	}

	// Piped stdout prints raw by default, as redis-cli does.
	out, _, code = runCLI(t, "", append(flags, "GET", "k2")...)
	if code != 0 || out != "v2-0\n1\nv2-2\n" {
		t.Fatalf("GET k2 (raw): exit %d, stdout %q", code, out)
	}

	out, _, code = runCLI(t, "", append(flags, "--no-raw", "NOSUCH", "x")...)
	if code != 1 || out != "(error) ERR unknown command 'NOSUCH'\n" {
		t.Fatalf("NOSUCH: exit %d, stdout %q; want exit 1 and the error", code, out)
	}
}

func TestCLI_NoServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, errOut, code := runCLI(t, "", append(hostPort(t, addr), "PING")...)
	if code != 1 || !strings.Contains(errOut, "connection refused") {
		t.Fatalf("PING to nothing: exit %d, stderr %q; want exit 1 and connection refused", code, errOut)
	}
}

// tutorialSession is the tutorial's session as typed lines and the replies
// kvorum-cli prints for them.
var tutorialSession = []struct{ line, reply string }{
	{`MSET k1 v1 k2 ['v2-0', 1, 'v2-2'] k3 v3`, "(integer) 3\n"},
	{`GET k2`, "1) \"v2-0\"\n2) (integer) 1\n3) \"v2-2\"\n"},
	{`MGET k3 k1`, "1) \"v3\"\n2) \"v1\"\n"},
	{`DELETE k1`, "(integer) 1\n"},
	{`GET k1`, "(nil)\n"},
	{`DELETE k1`, "(integer) 0\n"},
	{`SET kx {'vx': {'vy': 0, 'vz': [1, 2, 3]}}`, "(integer) 1\n"},
	{`GET kx`, "1# \"vx\" => 1# \"vy\" => (integer) 0\n" +
		"   2# \"vz\" => 1) (integer) 1\n" +
		"      2) (integer) 2\n" +
		"      3) (integer) 3\n"},
	{`FLUSH`, "(integer) 3\n"},
}

func TestCLI_Stdin(t *testing.T) {
	cl := startCluster(t)
	var in, want strings.Builder
	for _, s := range tutorialSession {
		in.WriteString(s.line + "\n")
		want.WriteString(s.reply)
	}
	out, errOut, code := runCLI(t, in.String(), append(hostPort(t, cl.follower.Addr), "--no-raw")...)
	if code != 0 || out != want.String() {
		t.Fatalf("exit %d, stdout\n%s\nwant\n%s\nstderr: %s", code, out, want.String(), errOut)
	}
	// One redirect: the client remembers the leader.
	if wantErr := "-> Redirected to leader " + cl.leader.Addr + "\n"; errOut != wantErr {
		t.Fatalf("stderr %q; want %q", errOut, wantErr)
	}

	// A failing line makes the exit code 1; the other lines still run.
	out, errOut, code = runCLI(t, "NOSUCH\nSET k [1, 2\nPING\n", hostPort(t, cl.leader.Addr)...)
	if code != 1 || out != "ERR unknown command 'NOSUCH'\nPONG\n" || !strings.Contains(errOut, "literal") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
