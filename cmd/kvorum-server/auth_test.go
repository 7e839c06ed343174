package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kvclient "github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/resptest"
)

// With --requirepass-file and --users-file a node answers -NOAUTH until a
// client authenticates, and every kind of client carries credentials:
// redis-cli -a and --user, redis-py's password=, the Go client's
// Options.Password and kvorum-cli -a (or REDISCLI_AUTH).
func TestAuth_Clients(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	passFile, usersFile := filepath.Join(dir, "pass"), filepath.Join(dir, "users")
	os.WriteFile(passFile, []byte("s3cret\n"), 0o600)
	os.WriteFile(usersFile, []byte("user worker on >wpw ~jobs:* +@read\n"), 0o600)
	p := launch(t, t.TempDir(), "--protocol", "resp2", "--requirepass-file", passFile, "--users-file", usersFile)
	p.waitServing()
	c, err := kvclient.New(kvclient.Options{Addrs: []string{p.addr}, Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if v, err := c.Do(ctx, "SET", "jobs:1", "j"); err != nil || v.Text() != "OK" {
		t.Fatalf("Go client with Options.Password: SET = %v, %v", v, err)
	}
	if v, err := resptest.Ask(p.addr, "GET", "jobs:1"); err != nil || v.Text() != "NOAUTH Authentication required." {
		t.Fatalf("GET without AUTH = %v, %v", v, err)
	}
	if code := healthcheck([]string{"--addr", p.addr}, io.Discard); code != 0 {
		t.Fatalf("healthcheck of a node with a password: exit %d, want 0 (it answers -NOAUTH)", code)
	}
	bad, _ := kvclient.New(kvclient.Options{Addrs: []string{p.addr}, Password: "nope", MaxRetries: -1})
	defer bad.Close()
	if _, err := bad.Do(ctx, "GET", "jobs:1"); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("Go client with a wrong password: %v, want WRONGPASS", err)
	}
	host, port, _ := strings.Cut(p.addr, ":")
	if cli, err := exec.LookPath("redis-cli"); err == nil {
		for _, tc := range []struct{ args, want string }{
			{"-a s3cret --no-auth-warning GET jobs:1", "j"},
			{"--user worker --pass wpw --no-auth-warning GET jobs:1", "j"},
			{"--user worker --pass wpw --no-auth-warning SET jobs:1 x", "NOPERM this user has no permissions to run the 'set' command"},
			{"--user worker --pass wpw --no-auth-warning GET other", "NOPERM this user has no permissions to access one of the keys used as arguments"},
			{"GET jobs:1", "NOAUTH Authentication required."},
		} {
			out, _ := exec.Command(cli, append([]string{"-h", host, "-p", port}, strings.Fields(tc.args)...)...).CombinedOutput()
			if got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "(error) ")); got != tc.want {
				t.Errorf("redis-cli %s: %q, want %q", tc.args, got, tc.want)
			}
		}
	}
	const python = "/usr/bin/python3"
	if exec.Command(python, "-c", "import redis").Run() == nil {
		script := `import sys, redis
r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), password="s3cret")
assert r.get("jobs:1") == b"j", r.get("jobs:1")
try:
    redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), password="nope").get("jobs:1")
    print("wrong password accepted")
except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError) as e:
    print("OK" if "WRONGPASS" in str(e) else e)`
		out, err := exec.Command(python, "-c", script, host, port).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "OK" {
			t.Errorf("redis-py password=: %v\n%s", err, out)
		}
	}
	cliBin := filepath.Join(t.TempDir(), "kvorum-cli")
	if out, err := exec.Command(goTool(), "build", "-o", cliBin, "../kvorum-cli").CombinedOutput(); err != nil {
		t.Fatalf("build kvorum-cli: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"-a", "s3cret"}},
		{[]string{"REDISCLI_AUTH=s3cret"}, nil},
		{nil, []string{"-a", "wpw", "--user", "worker"}},
	} {
		args := append(append([]string{"-h", host, "-p", port}, tc.args...), "GET", "jobs:1")
		out, errOut, code := runBin(t, tc.env, cliBin, args...)
		if code != 0 || strings.TrimSpace(out) != "j" {
			t.Errorf("kvorum-cli %v (env %v): exit %d, %q %q", tc.args, tc.env, code, out, errOut)
		}
	}
}

// --max-clients-per-ip and --timeout reach the client listener: a second
// connection from 127.0.0.1 is refused, and an idle one is closed.
func TestLimits_Flags(t *testing.T) {
	t.Parallel()
	p := start(t, t.TempDir(), "--max-clients-per-ip", "2", "--timeout", "1")
	first := dial(t, p.addr)
	first.do("PING")
	second := dial(t, p.addr)
	second.do("PING")
	if v, err := resptest.Ask(p.addr, "PING"); err != nil || v.Text() != "ERR max number of clients from 127.0.0.1 reached" {
		t.Fatalf("third connection: %v, %v", v, err)
	}
	first.conn.SetReadDeadline(time.Now().Add(startTimeout))
	v, err := first.rd.ReadValue()
	var ne net.Error
	switch {
	case err == nil:
		t.Fatalf("an idle connection read %v instead of being closed", v)
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("an idle connection still open after %v (--timeout 1)", startTimeout)
	}
}
