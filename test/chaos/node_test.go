package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/resp"
)

// Deadlines for the waits below: generous, for a loaded 2-core machine.
const (
	startTimeout = 30 * time.Second // process start to serving, and to a ready leader
	exitTimeout  = 15 * time.Second // signal to process exit
	probeTimeout = time.Second      // one INFO or PING probe (a paused node never answers)
)

// node is one member of the cluster: fixed addresses, picked free once and
// kept across restarts as a real node's are, and a data directory. p is
// its current process, nil while it is down. Only the test goroutine (the
// nemesis) touches a node.
type node struct {
	id, dir              string
	client, raft, gossip string
	advertiseRaft        string // the Raft address peers dial: raft, or a proxy in front of it
	seeds                string // every node's gossip address, for --join
	logPath              string // the process's stdout and stderr, appended across restarts
	proxy                *proxy // in front of raft, at advertiseRaft (loopback clusters)
	netns                string // the network namespace the process runs in ("" for none)
	p                    *proc
}

// proc is one kvorum-server process, in a process group of its own.
type proc struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited
	waitErr error         // valid once exited is closed
}

// cluster is three (or n) nodes formed by --bootstrap-expect and --join.
type cluster struct {
	t     *testing.T
	bin   string // the kvorum-server binary
	nodes []*node
	net   network  // how links between nodes are cut and slowed
	extra []string // flags every node gets
	// shutdownDeadlines lists the SIGTERMs a node answered by running out
	// of its --shutdown-timeout (its log holds every goroutine's stack).
	shutdownDeadlines []string
}

// nodeShutdownTimeout is each node's --shutdown-timeout: below
// exitTimeout, so a stop that hangs ends by the server's own deadline,
// with the stacks logged, and is reported rather than killed.
const nodeShutdownTimeout = "10s"

// startCluster starts n processes of bin (a kvorum-server) that form one
// cluster by gossip, each behind a Raft proxy, logs under logDir, and
// waits for a leader that serves.
func startCluster(t *testing.T, bin string, n int, logDir string, extra ...string) *cluster {
	t.Helper()
	ports := buildtest.FreePorts(t, 4*n)
	var nodes []*node
	for i := range n {
		addr := func(j int) string { return fmt.Sprintf("127.0.0.1:%d", ports[4*i+j]) }
		nd := &node{id: fmt.Sprintf("n%d", i+1), dir: t.TempDir(), client: addr(0), raft: addr(1), gossip: addr(2)}
		nd.advertiseRaft = addr(3)
		nd.proxy = startProxy(t, nd.advertiseRaft, nd.raft, nd.id)
		nodes = append(nodes, nd)
	}
	return launchCluster(t, bin, nodes, proxyNet{}, logDir, extra...)
}

// launchCluster starts nodes (their addresses set) with --join of every
// gossip address, logs under logDir, and waits for a leader that serves.
func launchCluster(t *testing.T, bin string, nodes []*node, net network, logDir string, extra ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, bin: bin, nodes: nodes, net: net, extra: extra}
	var seeds []string
	for _, nd := range nodes {
		nd.logPath = filepath.Join(logDir, nd.id+".log")
		seeds = append(seeds, nd.gossip)
	}
	for _, nd := range c.nodes {
		nd.seeds = strings.Join(seeds, ",")
		c.launch(nd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := c.leader(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// launch starts nd's process on its data directory and addresses and
// waits until it answers PING. The process group is killed in t.Cleanup.
func (c *cluster) launch(nd *node) {
	t := c.t
	t.Helper()
	args := append([]string{"--node-id", nd.id, "--data-dir", nd.dir, "--listen", nd.client,
		"--raft-addr", nd.raft, "--advertise-raft", nd.advertiseRaft, "--gossip-addr", nd.gossip,
		"--join", nd.seeds, "--bootstrap-expect", strconv.Itoa(len(c.nodes)), "--protocol", "resp2",
		"--shutdown-timeout", nodeShutdownTimeout}, c.extra...)
	logf, err := os.OpenFile(nd.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logf, "---- %s start: %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	cmd := exec.Command(c.bin, args...)
	if nd.netns != "" {
		// ip netns exec enters the namespace and execs the server (no fork),
		// so the process and its group are the server's own.
		cmd = exec.Command("ip", append([]string{"netns", "exec", nd.netns, c.bin}, args...)...)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", nd.id, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	})
	nd.p = p
	if err := c.waitServing(nd); err != nil {
		t.Fatal(err)
	}
}

// waitServing polls nd's client port until it answers PING.
func (c *cluster) waitServing(nd *node) error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-nd.p.exited:
			return fmt.Errorf("%s exited before serving: %v (log %s)", nd.id, nd.p.waitErr, nd.logPath)
		default:
		}
		v, err := oneShot(nd.client, "PING")
		if err == nil && !v.IsError() {
			return nil
		}
		last = errors.Join(err, resp.AsError(v))
		time.Sleep(20 * time.Millisecond) // poll interval
	}
	return fmt.Errorf("%s did not answer PING within %v: %v (log %s)", nd.id, startTimeout, last, nd.logPath)
}

// signal sends sig to nd's process group.
func (c *cluster) signal(nd *node, sig syscall.Signal) {
	c.t.Helper()
	if err := syscall.Kill(-nd.p.cmd.Process.Pid, sig); err != nil {
		c.t.Fatalf("%v to %s: %v", sig, nd.id, err)
	}
}

// stop sends sig (SIGKILL or SIGTERM) and waits for the process to exit. A
// process still running exitTimeout after a SIGTERM fails the test: it gets
// SIGQUIT (the Go runtime writes every goroutine's stack to its log), then
// SIGKILL.
func (c *cluster) stop(nd *node, sig syscall.Signal) {
	c.t.Helper()
	c.signal(nd, sig)
	select {
	case <-nd.p.exited:
	case <-time.After(exitTimeout):
		c.signal(nd, syscall.SIGQUIT)
		select {
		case <-nd.p.exited:
		case <-time.After(5 * time.Second):
		}
		c.signal(nd, syscall.SIGKILL)
		<-nd.p.exited
		c.t.Errorf("%s still running %v after %v; goroutine dump (SIGQUIT) in %s", nd.id, exitTimeout, sig, nd.logPath)
	}
	if sig == syscall.SIGTERM && nd.p.waitErr != nil {
		// Not a safety matter (Raft's state is on disk; the node restarts
		// as after a kill), but a stop that hung: reported with its stacks.
		if b, err := os.ReadFile(nd.logPath); err == nil && bytes.Contains(b, []byte("shutdown did not finish")) {
			c.shutdownDeadlines = append(c.shutdownDeadlines, fmt.Sprintf("%s at %s (stacks in %s)", nd.id, time.Now().Format(time.RFC3339), nd.logPath))
			c.t.Logf("%s ran out of its %s shutdown deadline after SIGTERM; goroutine stacks in %s", nd.id, nodeShutdownTimeout, nd.logPath)
		}
	}
	nd.p = nil
}

// wipe empties nd's data directory; nd must be down.
func (c *cluster) wipe(nd *node) {
	c.t.Helper()
	if err := os.RemoveAll(nd.dir); err != nil {
		c.t.Fatal(err)
	}
	if err := os.MkdirAll(nd.dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
}

// network is how the nemesis cuts and slows the links between nodes:
// the test's own Raft proxies on loopback (proxyNet), or iptables in the
// network namespaces the test made (netnsNet, netns_test.go).
type network interface {
	// isolate cuts nd's links to and from others.
	isolate(nd *node, others []*node)
	// cutOutbound cuts the links from nd to others.
	cutOutbound(nd *node, others []*node)
	// cut cuts the links between a and b, both ways.
	cut(a, b *node)
	// slow delays nd's traffic to and from others by d, or returns
	// errCannotSlow.
	slow(nd *node, others []*node, d time.Duration) error
	// heal restores every link between nodes.
	heal(nodes []*node)
}

// errCannotSlow is a network's answer to slow when it has no means to.
var errCannotSlow = errors.New("this network cannot slow a link")

// proxyNet cuts and slows Raft links at the proxies in front of each
// node's Raft port; gossip is not proxied.
type proxyNet struct{}

func (proxyNet) isolate(nd *node, others []*node) {
	nd.proxy.block("*")
	for _, o := range others {
		o.proxy.block(nd.id)
	}
}

func (proxyNet) cutOutbound(nd *node, others []*node) {
	for _, o := range others {
		o.proxy.block(nd.id)
	}
}

func (proxyNet) cut(a, b *node) {
	a.proxy.block(b.id)
	b.proxy.block(a.id)
}

func (proxyNet) slow(nd *node, others []*node, d time.Duration) error {
	nd.proxy.slow(d, "*")
	for _, o := range others {
		o.proxy.slow(d, nd.id)
	}
	return nil
}

func (proxyNet) heal(nodes []*node) {
	for _, nd := range nodes {
		nd.proxy.heal()
	}
}

// isolate cuts nd's links in both directions.
func (c *cluster) isolate(nd *node) { c.net.isolate(nd, c.others(nd)) }

// cutOutbound cuts the links from nd to every other node; nd still
// receives their requests (through the proxies, it also answers them).
func (c *cluster) cutOutbound(nd *node) { c.net.cutOutbound(nd, c.others(nd)) }

// cut cuts the links between a and b, both ways; every other link stays.
func (c *cluster) cut(a, b *node) { c.net.cut(a, b) }

// slow delays every chunk of nd's traffic, both ways on every link to or
// from it, by d.
func (c *cluster) slow(nd *node, d time.Duration) error { return c.net.slow(nd, c.others(nd), d) }

// heal restores every link.
func (c *cluster) heal() { c.net.heal(c.nodes) }

// addrs returns every node's client address.
func (c *cluster) addrs() []string {
	var out []string
	for _, nd := range c.nodes {
		out = append(out, nd.client)
	}
	return out
}

// others returns the nodes other than nd.
func (c *cluster) others(nd *node) []*node {
	var out []*node
	for _, o := range c.nodes {
		if o != nd {
			out = append(out, o)
		}
	}
	return out
}

// leader polls the running nodes other than skip until exactly one says it
// leads and serves a read, and returns it.
func (c *cluster) leader(ctx context.Context, skip *node) (*node, error) {
	var last []string
	for {
		var leaders []*node
		last = last[:0]
		for _, nd := range c.nodes {
			if nd == skip || nd.p == nil {
				continue
			}
			state, err := raftField(nd.client, "raft_state")
			last = append(last, fmt.Sprintf("%s=%s%s", nd.id, state, errText(err)))
			if state == "leader" {
				leaders = append(leaders, nd)
			}
		}
		if len(leaders) == 1 {
			if v, err := oneShot(leaders[0].client, "EXISTS", "readiness-probe"); err == nil && !v.IsError() {
				return leaders[0], nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for one leader that serves: %w (last: %s)", ctx.Err(), strings.Join(last, " "))
		case <-time.After(20 * time.Millisecond): // poll interval
		}
	}
}

// caughtUp waits until nd follows and has applied everything the leader
// had committed when the wait began.
func (c *cluster) caughtUp(ctx context.Context, nd, leader *node) error {
	s, err := raftField(leader.client, "raft_commit_index")
	if err != nil {
		return fmt.Errorf("leader %s: %w", leader.id, err)
	}
	commit, _ := strconv.ParseUint(s, 10, 64)
	var last string
	for {
		state, err1 := raftField(nd.client, "raft_state")
		applied, err2 := raftField(nd.client, "raft_applied_index")
		n, _ := strconv.ParseUint(applied, 10, 64)
		if err1 == nil && err2 == nil && state == "follower" && n >= commit {
			return nil
		}
		last = fmt.Sprintf("state %s, applied %s%s%s", state, applied, errText(err1), errText(err2))
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to follow and apply commit index %d: %w (last: %s)", nd.id, commit, ctx.Err(), last)
		case <-time.After(20 * time.Millisecond): // poll interval
		}
	}
}

// raftField returns one field of a node's INFO raft.
func raftField(addr, name string) (string, error) {
	v, err := oneShot(addr, "INFO", "raft")
	if err != nil {
		return "", err
	}
	if v.IsError() {
		return "", fmt.Errorf("INFO raft: %s", v.Text())
	}
	for _, line := range strings.Split(v.Text(), "\r\n") {
		if val, ok := strings.CutPrefix(line, name+":"); ok {
			return val, nil
		}
	}
	return "", fmt.Errorf("INFO raft has no %s field", name)
}

// oneShot sends one command on a fresh connection, within probeTimeout.
func oneShot(addr string, args ...string) (resp.Value, error) {
	conn, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err != nil {
		return resp.Value{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(probeTimeout))
	if _, err := conn.Write(resp.AppendCommand(nil, args...)); err != nil {
		return resp.Value{}, err
	}
	return resp.NewReader(conn, resp.Limits{}).ReadValue()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// panicked names each node whose log says a command panicked: the server
// answers such a command with an error and goes on (fsm/guard.go), so no
// checker would see the bug, but it is one.
func (c *cluster) panicked() []string {
	var out []string
	for _, nd := range c.nodes {
		b, err := os.ReadFile(nd.logPath)
		if err == nil && bytes.Contains(b, []byte(fsm.CommandPanicked)) {
			out = append(out, fmt.Sprintf("%s: a command panicked (a server bug); its stack is in %s", nd.id, nd.logPath))
		}
	}
	return out
}
