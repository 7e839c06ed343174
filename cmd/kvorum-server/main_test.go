package main

// Process-level tests: TestMain builds kvorum-server once into a temporary
// directory; each test starts it as a child process on port-0 addresses with
// a t.TempDir() data directory, reads the bound client address from its
// "msg=serving" log line, and kills it in t.Cleanup. Waits poll with a
// deadline and say what they waited for.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// serverBin is the kvorum-server binary TestMain built.
var serverBin string

// Deadlines for the waits below: generous, for a loaded CI machine; a
// healthy run takes a fraction of them.
const (
	startTimeout = 30 * time.Second // process start to "serving" and to a ready leader
	exitTimeout  = 15 * time.Second // signal to process exit
	ioTimeout    = 30 * time.Second // one request/reply exchange or pipeline
)

func TestMain(m *testing.M) {
	var flags []string
	if raceEnabled && os.Getenv("KVORUM_RACE_SERVER") == "1" {
		// Opt-in: a race-enabled server is ~6x slower, too slow for the
		// 50,000-write test on a loaded 2-core CI machine. The cluster
		// package's in-process tests race-check the same code.
		flags = append(flags, "-race")
	}
	os.Exit(buildtest.Run(m, &serverBin, "./cmd/kvorum-server", flags...))
}

// goTool finds the go command for the tests that build other variants
// (the CLI, a version-stamped server).
func goTool() string { return buildtest.GoTool() }

// proc is one kvorum-server child process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	dir  string // --data-dir
	addr string // bound client address, set by waitServing

	log     *logBuffer
	exited  chan struct{} // closed when the process has exited
	waitErr error         // cmd.Wait's result, valid once exited is closed
}

// logBuffer collects the child's stderr and picks out the bound client address.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	line    []byte
	serving chan string // receives the client address once
}

var servingRE = regexp.MustCompile(`msg=serving .*client=(\S+)`)

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for _, c := range p {
		if c != '\n' {
			l.line = append(l.line, c)
			continue
		}
		if m := servingRE.FindSubmatch(l.line); m != nil {
			select {
			case l.serving <- string(m[1]):
			default:
			}
		}
		l.line = l.line[:0]
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// launch starts kvorum-server on dataDir with port-0 addresses, gossip off,
// and extra flags, without waiting for anything. The process is killed in
// t.Cleanup; its log is printed if the test failed.
func launch(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"--gossip-addr", "", "--listen", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0",
		"--data-dir", dataDir, "--node-id", "test-node"}, extra...)
	p := &proc{t: t, dir: dataDir, log: &logBuffer{serving: make(chan string, 1)}, exited: make(chan struct{})}
	p.cmd = exec.Command(serverBin, args...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start kvorum-server: %v", err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("kvorum-server %s log:\n%s", strings.Join(args, " "), p.log)
		}
	})
	return p
}

// start launches a server and waits until it serves and is a ready leader.
func start(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	p := launch(t, dataDir, extra...)
	p.waitServing()
	p.waitLeader()
	return p
}

// waitServing waits for the "msg=serving" line and records the address.
func (p *proc) waitServing() {
	p.t.Helper()
	select {
	case p.addr = <-p.log.serving:
	case <-p.exited:
		p.t.Fatalf("kvorum-server exited before serving: %v", p.waitErr)
	case <-time.After(startTimeout):
		p.t.Fatalf("kvorum-server did not log msg=serving within %v", startTimeout)
	}
}

// waitLeader polls until a read succeeds: the node is leader and has applied
// its term's barrier (before that, reads answer CLUSTERDOWN or TRYAGAIN).
func (p *proc) waitLeader() {
	p.t.Helper()
	deadline := time.Now().Add(startTimeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			p.t.Fatalf("kvorum-server exited while waiting for leadership: %v", p.waitErr)
		default:
		}
		v, err := resptest.Ask(p.addr, "EXISTS", "readiness-probe")
		if err == nil && !v.IsError() {
			return
		}
		last = fmt.Sprint(v, err)
		time.Sleep(20 * time.Millisecond) // poll interval, not a wait for state
	}
	p.t.Fatalf("node at %s not a ready leader within %v (last reply: %s)", p.addr, startTimeout, last)
}

// signal sends sig and waits for the process to exit, returning its exit code.
func (p *proc) signal(sig syscall.Signal) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
	return p.waitExit(exitTimeout)
}

// waitExit waits for the process to exit on its own and returns its exit
// code (-1 if a signal killed it).
func (p *proc) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.t.Fatalf("kvorum-server still running %v later", timeout)
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.ExitCode()
	}
	if p.waitErr != nil {
		p.t.Fatalf("wait: %v", p.waitErr)
	}
	return 0
}

// infoField returns one "name:value" field of INFO's raft section.
func (p *proc) infoField(name string) string {
	p.t.Helper()
	v, err := resptest.Ask(p.addr, "INFO", "raft")
	if err != nil || v.IsError() {
		p.t.Fatalf("INFO raft: %v %v", v, err)
	}
	for _, line := range strings.Split(v.Text(), "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && k == name {
			return val
		}
	}
	p.t.Fatalf("INFO raft has no %s field:\n%s", name, v.Text())
	return ""
}

// client is a test connection that speaks through the resp codec.
type client struct {
	t    *testing.T
	conn net.Conn
	rd   *resp.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, rd: resp.NewReader(conn, resp.Limits{})}
}

// do sends one command and returns its reply; a transport error fails the test.
func (c *client) do(args ...string) resp.Value {
	c.t.Helper()
	return c.doValue(strArgs(args...)...)
}

// doValue sends a request whose arguments may be any value (nested arrays,
// dicts, integers), as the tutorial's client does.
func (c *client) doValue(args ...resp.Value) resp.Value {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.conn.Write(resp.AppendValue(nil, resp.Array(args...))); err != nil {
		c.t.Fatalf("write %v: %v", args, err)
	}
	v, err := c.rd.ReadValue()
	if err != nil {
		c.t.Fatalf("reply to %v: %v", args, err)
	}
	return v
}

// pipeline sends every request in one write and reads the replies in order.
func (c *client) pipeline(reqs [][]resp.Value) []resp.Value {
	c.t.Helper()
	var buf []byte
	for _, r := range reqs {
		buf = resp.AppendValue(buf, resp.Array(r...))
	}
	c.conn.SetDeadline(time.Now().Add(ioTimeout))
	werr := make(chan error, 1)
	go func() { // write while reading, so neither side's buffers can fill up
		_, err := c.conn.Write(buf)
		werr <- err
	}()
	out := make([]resp.Value, len(reqs))
	for i := range reqs {
		v, err := c.rd.ReadValue()
		if err != nil {
			c.t.Fatalf("pipeline reply %d of %d: %v", i, len(reqs), err)
		}
		out[i] = v
	}
	if err := <-werr; err != nil {
		c.t.Fatalf("pipeline write: %v", err)
	}
	return out
}

func strArgs(args ...string) []resp.Value {
	vs := make([]resp.Value, len(args))
	for i, a := range args {
		vs[i] = resp.BulkString(a)
	}
	return vs
}

// readFrame reads the raw bytes of one RESP value, so replies can be
// compared byte for byte.
func readFrame(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return line, fmt.Errorf("malformed line %q", line)
	}
	var n int
	switch line[0] {
	case '$', '=', '!':
		if _, err := fmt.Sscan(string(line[1:len(line)-2]), &n); err != nil || n < 0 {
			return line, err
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return append(line, body...), err
		}
		return append(line, body...), nil
	case '*', '%', '~', '>', '|':
		if _, err := fmt.Sscan(string(line[1:len(line)-2]), &n); err != nil || n < 0 {
			return line, err
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			elem, err := readFrame(br)
			line = append(line, elem...)
			if err != nil {
				return line, err
			}
		}
	}
	return line, nil
}
