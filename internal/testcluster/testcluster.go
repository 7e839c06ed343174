// Package testcluster runs N in-process kvorum nodes on 127.0.0.1 port 0
// under t.TempDir(), with helpers to find the leader, stop, kill, restart
// and partition nodes, and to wait for a condition with a deadline.
//
// It is for tests only: every node logs through t.Log and is closed by
// t.Cleanup.
package testcluster

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/internal/resptest"
)

// Options tune a test cluster. Zero fields take fast test defaults.
type Options struct {
	Nodes     int           // default 3
	ReapAfter time.Duration // default: never
	// Configure, if set, edits each node's config before it starts.
	Configure func(i int, cfg *cluster.Config)
}

// Cluster is a set of in-process nodes.
type Cluster struct {
	t     testing.TB
	mu    sync.Mutex
	Nodes []*Node
	opts  Options
	logs  logGate
}

// Node is one member: the running cluster.Node (nil while stopped), its
// configuration (addresses pinned after the first start so a restart keeps
// them), and its network switch.
type Node struct {
	*cluster.Node
	Door  *door.Door // the node's front door, wired as cmd/kvorum-server wires it
	Index int
	Cfg   cluster.Config
	net   *Partition
}

// Start starts opts.Nodes nodes that discover each other by gossip and
// bootstrap with bootstrap-expect = Nodes, in the order given by order (a
// permutation of node indexes; nil means 0..N-1). The first node started is
// the gossip seed of the others.
func Start(t testing.TB, opts Options, order ...int) *Cluster {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	c := &Cluster{t: t, opts: opts}
	if order == nil {
		for i := 0; i < opts.Nodes; i++ {
			order = append(order, i)
		}
	}
	base := t.TempDir()
	c.Nodes = make([]*Node, opts.Nodes)
	for i := range c.Nodes {
		c.Nodes[i] = &Node{Index: i, Cfg: c.config(i, base, opts.Nodes), net: &Partition{}}
	}
	t.Cleanup(c.Close)
	var seed string
	for _, i := range order {
		n := c.Nodes[i]
		if seed != "" {
			n.Cfg.Join = []string{seed}
		}
		c.StartNode(i)
		if seed == "" {
			seed = n.GossipAddr()
		}
	}
	return c
}

func (c *Cluster) config(i int, base string, expect int) cluster.Config {
	cfg := cluster.DefaultConfig()
	cfg.NodeID = fmt.Sprintf("node%d", i)
	cfg.DataDir = filepath.Join(base, cfg.NodeID)
	cfg.ClientAddr = "127.0.0.1:0"
	cfg.RaftAddr = "127.0.0.1:0"
	cfg.GossipAddr = "127.0.0.1:0"
	cfg.BootstrapExpect = expect
	cfg.ReapAfter = -1
	if c.opts.ReapAfter > 0 {
		cfg.ReapAfter = c.opts.ReapAfter
	}
	cfg.ReconcileInterval = 200 * time.Millisecond
	cfg.HeartbeatTimeout = 200 * time.Millisecond
	cfg.ElectionTimeout = 200 * time.Millisecond
	cfg.LeaderLeaseTimeout = 100 * time.Millisecond
	cfg.ApplyTimeout = 2 * time.Second
	cfg.ReadTimeout = 2 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t: c.t, gate: &c.logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if c.opts.Configure != nil {
		c.opts.Configure(i, &cfg)
	}
	return cfg
}

// StartNode starts (or restarts) node i with its pinned addresses and data.
func (c *Cluster) StartNode(i int) *Node {
	c.t.Helper()
	n := c.Nodes[i]
	cfg := n.Cfg
	p := n.net
	cfg.WrapRaftLayer = func(l raft.StreamLayer) raft.StreamLayer { return p.wrap(l) }
	var node *cluster.Node
	var err error
	// A restarted node rebinds the ports it had; the OS may hold them for a
	// moment after the old listener closed.
	WaitFor(c.t, "node"+fmt.Sprint(i)+" binds its ports", 5*time.Second, func() bool {
		node, err = cluster.New(cfg)
		return err == nil || !strings.Contains(err.Error(), "address already in use")
	})
	if err != nil {
		c.t.Fatalf("start node %d: %v", i, err)
	}
	front := door.New(door.Config{Store: node, WakeTimeout: cfg.ApplyTimeout, Logger: cfg.Logger})
	if err := node.Start(front); err != nil {
		node.Close()
		front.Close()
		c.t.Fatalf("start node %d: %v", i, err)
	}
	// Pin the bound addresses so a restart keeps the identity raft knows.
	n.Cfg.ClientAddr = node.ClientAddr()
	n.Cfg.RaftAddr = node.RaftAddr()
	n.Cfg.GossipAddr = node.GossipAddr()
	c.mu.Lock()
	n.Node, n.Door = node, front
	c.mu.Unlock()
	return n
}

// Stop closes node i gracefully (leadership transfer, no gossip leave).
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	n, front := c.take(i)
	if n != nil {
		if err := n.Close(); err != nil {
			c.t.Logf("stop node %d: %v", i, err)
		}
		front.Close()
	}
}

// Leave closes node i after leaving gossip: the cluster removes it.
func (c *Cluster) Leave(i int) {
	c.t.Helper()
	if n, front := c.take(i); n != nil {
		if err := n.Leave(); err != nil {
			c.t.Logf("leave node %d: %v", i, err)
		}
		front.Close()
	}
}

// Kill stops node i abruptly: no leadership transfer, no gossip leave, no
// snapshot, as if the process died.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	if n, front := c.take(i); n != nil {
		n.Kill()
		front.Close()
	}
}

func (c *Cluster) take(i int) (*cluster.Node, *door.Door) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, front := c.Nodes[i].Node, c.Nodes[i].Door
	c.Nodes[i].Node, c.Nodes[i].Door = nil, nil
	return n, front
}

// Running reports whether node i is started.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Nodes[i].Node != nil
}

// Partition cuts node i's Raft traffic (both directions) until Heal.
func (c *Cluster) Partition(i int) { c.Nodes[i].net.Cut() }

// Heal restores node i's Raft traffic.
func (c *Cluster) Heal(i int) { c.Nodes[i].net.Heal() }

// Close stops every running node.
func (c *Cluster) Close() {
	for i := range c.Nodes {
		if n, front := c.take(i); n != nil {
			n.Close()
			front.Close()
		}
	}
	c.logs.mu.Lock()
	c.logs.closed = true
	c.logs.mu.Unlock()
}

// Leader waits up to timeout for exactly one running node to be a leader
// whose reads are ready, and returns it.
func (c *Cluster) Leader(timeout time.Duration) *Node {
	c.t.Helper()
	var leader *Node
	WaitFor(c.t, "one leader", timeout, func() bool {
		leader = nil
		count := 0
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, n := range c.Nodes {
			if n.Node != nil && n.IsLeader() && n.Ready() {
				leader = n
				count++
			}
		}
		return count == 1
	})
	return leader
}

// Followers returns the running nodes that are not the leader.
func (c *Cluster) Followers() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Node
	for _, n := range c.Nodes {
		if n.Node != nil && !n.IsLeader() {
			out = append(out, n)
		}
	}
	return out
}

// AddNode starts one more node that joins by gossip (no bootstrap-expect).
func (c *Cluster) AddNode() *Node {
	c.t.Helper()
	i := len(c.Nodes)
	n := &Node{Index: i, Cfg: c.config(i, filepath.Dir(c.Nodes[0].Cfg.DataDir), 0), net: &Partition{}}
	n.Cfg.Join = []string{c.anyGossip()}
	c.mu.Lock()
	c.Nodes = append(c.Nodes, n)
	c.mu.Unlock()
	return c.StartNode(i)
}

func (c *Cluster) anyGossip() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.Nodes {
		if n.Node != nil {
			return n.GossipAddr()
		}
	}
	c.t.Fatal("no running node to join")
	return ""
}

// WaitFor polls cond every 10ms until it holds, failing the test with what
// was awaited if timeout passes first.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	resptest.WaitFor(t, what, timeout, cond)
}

// testWriter sends node logs to t.Log until the cluster is closed: some
// memberlist goroutines outlive Shutdown, and t.Log after a test completes
// panics.
type testWriter struct {
	t    testing.TB
	gate *logGate
}

type logGate struct {
	mu     sync.RWMutex
	closed bool
}

func (w testWriter) Write(p []byte) (int, error) {
	w.gate.mu.RLock()
	defer w.gate.mu.RUnlock()
	if !w.gate.closed {
		line := strings.TrimRight(string(p), "\n")
		if strings.Contains(line, fsm.CommandPanicked) {
			// The FSM answered a panicking command with an error and went
			// on; for a test that is a bug to report.
			w.t.Error(line)
		} else {
			w.t.Log(line)
		}
	}
	return len(p), nil
}

// Partition is a switch on a node's Raft stream layer: while cut, dials fail
// and every connection through the layer is closed.
type Partition struct {
	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

// Cut drops all traffic and closes open connections.
func (p *Partition) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Heal lets traffic through again.
func (p *Partition) Heal() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func (p *Partition) track(c net.Conn) (net.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		c.Close()
		return nil, errPartitioned
	}
	if p.conns == nil {
		p.conns = make(map[net.Conn]struct{})
	}
	p.conns[c] = struct{}{}
	return c, nil
}

var errPartitioned = &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("partitioned by test")}

func (p *Partition) wrap(l raft.StreamLayer) raft.StreamLayer {
	return &partLayer{StreamLayer: l, p: p}
}

type partLayer struct {
	raft.StreamLayer
	p *Partition
}

func (l *partLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	l.p.mu.Lock()
	cut := l.p.cut
	l.p.mu.Unlock()
	if cut {
		return nil, errPartitioned
	}
	c, err := l.StreamLayer.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	return l.p.track(c)
}

func (l *partLayer) Accept() (net.Conn, error) {
	for {
		c, err := l.StreamLayer.Accept()
		if err != nil {
			return nil, err
		}
		if tc, err := l.p.track(c); err == nil {
			return tc, nil
		}
	}
}

// ClientAddrs returns every node's client address (pinned across
// restarts), to seed a client with the whole cluster.
func (c *Cluster) ClientAddrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		out = append(out, n.Cfg.ClientAddr)
	}
	return out
}
