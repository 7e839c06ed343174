package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// repoRoot returns the repository root (where docker-compose.yml is).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docker-compose.yml")); err != nil {
		t.Fatalf("no docker-compose.yml at the repository root: %v", err)
	}
	return root
}

// randomHex returns n random bytes in hex.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// run runs a command with a timeout and returns its trimmed stdout; on
// failure the error carries stderr.
func run(dir string, env []string, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// compose is one docker-compose project started from the repository's
// docker-compose.yml.
type compose struct {
	t       *testing.T
	root    string
	project string
	env     []string
}

func (c *compose) run(timeout time.Duration, args ...string) (string, error) {
	args = append([]string{"-f", filepath.Join(c.root, "docker-compose.yml"), "-p", c.project}, args...)
	return run(c.root, c.env, timeout, "docker-compose", args...)
}

// must runs docker-compose and fails the test on error.
func (c *compose) must(timeout time.Duration, args ...string) string {
	c.t.Helper()
	out, err := c.run(timeout, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// container returns the id of service's container.
func (c *compose) container(service string) string {
	c.t.Helper()
	id := c.must(30*time.Second, "ps", "-q", service)
	if id == "" {
		c.t.Fatalf("service %s has no container", service)
	}
	return id
}

// down removes the project's containers, network and volumes, then checks
// that Docker lists none of them. It reports problems with t.Errorf: it
// runs in t.Cleanup.
func (c *compose) down() {
	c.t.Helper()
	if c.t.Failed() {
		if logs, err := c.run(time.Minute, "logs", "--no-color", "--tail", "300"); err == nil {
			c.t.Logf("container logs:\n%s", logs)
		}
	}
	if _, err := c.run(2*time.Minute, "down", "-v", "--remove-orphans", "--timeout", "5"); err != nil {
		c.t.Errorf("cleanup: %v", err)
	}
	label := "label=com.docker.compose.project=" + c.project
	for _, list := range [][]string{
		{"ps", "-aq", "--filter", label},
		{"network", "ls", "-q", "--filter", label},
		{"volume", "ls", "-q", "--filter", label},
	} {
		out, err := run(c.root, nil, 30*time.Second, "docker", list...)
		if err != nil {
			c.t.Errorf("cleanup check: %v", err)
		} else if out != "" {
			c.t.Errorf("cleanup left behind (docker %s): %s", strings.Join(list[:2], " "), out)
		}
	}
}

// health returns the Docker health status of each container, in order.
func health(root string, ids ...string) ([]string, error) {
	args := append([]string{"inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"}, ids...)
	out, err := run(root, nil, 30*time.Second, "docker", args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// waitFor polls cond every 100ms until it holds or the deadline passes,
// then fails the test naming what was awaited and cond's last word.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for {
		ok, detail := cond()
		if ok {
			return time.Since(start)
		}
		if detail != "" {
			last = detail
		}
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s (last: %s)", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// nodeConn is one plain RESP connection to one node: no redirects followed,
// so it sees exactly what that node answers (its role, its own data after
// READONLY).
type nodeConn struct {
	nc net.Conn
	r  *resp.Reader
}

func dialNode(addr string) (*nodeConn, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	return &nodeConn{nc: nc, r: resp.NewReader(nc, resp.Limits{})}, nil
}

// do sends one command and reads its reply; an error reply is returned as
// a value, not an error.
func (c *nodeConn) do(args ...string) (resp.Value, error) {
	c.nc.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.nc.Write(resp.AppendCommand(nil, args...)); err != nil {
		return resp.Value{}, err
	}
	return c.r.ReadValue()
}

func (c *nodeConn) close() { c.nc.Close() }

// ask dials addr, sends one command and closes.
func ask(addr string, args ...string) (resp.Value, error) {
	c, err := dialNode(addr)
	if err != nil {
		return resp.Value{}, err
	}
	defer c.close()
	return c.do(args...)
}

// role returns "master" or "slave" from the node's INFO replication, and
// the whole section.
func role(addr string) (string, string, error) {
	v, err := ask(addr, "INFO", "replication")
	if err != nil {
		return "", "", err
	}
	if v.IsError() {
		return "", v.Text(), fmt.Errorf("INFO: %s", v.Text())
	}
	for _, line := range strings.Split(v.Text(), "\r\n") {
		if r, ok := strings.CutPrefix(line, "role:"); ok {
			return r, v.Text(), nil
		}
	}
	return "", v.Text(), fmt.Errorf("INFO replication has no role line: %q", v.Text())
}
