package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	kvclient "github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/test/e2e/exactlyonce"
)

// TestExactlyOnce_KillLeader runs the exactly-once queue workload (package
// test/e2e/exactlyonce: four producers x 500 client.Push, four consumers
// Reserve/Ack) on three local kvorum-server processes formed with
// --bootstrap-expect 3 and --join, as the README's "Three local nodes"
// does, and kills the leader with SIGKILL twice, restarting it on its data
// directory and awaiting its catch-up before the next kill. No call ends
// with client.ErrUnknownOutcome, and every job is pushed, reserved and
// acked exactly once, none left in pending or processing. It logs the
// counts, both clients' Stats and the time from each kill to the first
// acknowledged write. KVORUM_EO_KILLS=n kills n times instead of 2.
// TestExactlyOnce_WithPassword runs it with --requirepass.
func TestExactlyOnce_KillLeader(t *testing.T) {
	exactlyOnceKillLeader(t, "")
}

// exactlyOnceKillLeader is TestExactlyOnce_KillLeader's scenario; with a
// password, every node runs with --requirepass password (the restarted
// ones too) and both clients authenticate with Options.Password. It
// returns the nodes, all running again.
func exactlyOnceKillLeader(t *testing.T, password string) []*localNode {
	if os.Getenv("KVORUM_FAULTS") != "1" {
		t.Skip("set KVORUM_FAULTS=1 to run the three-process kill -9 test (about 15 s; .ci/run does)")
	}
	kills := 2
	if s := os.Getenv("KVORUM_EO_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("KVORUM_EO_KILLS=%q: want a count", s)
		}
		kills = n
	}
	nodes := startLocalClusterWith(t, 3, password)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.client
	}
	producer, err := kvclient.New(kvclient.Options{Addrs: addrs, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { producer.Close() })
	consumer, err := kvclient.New(kvclient.Options{Addrs: addrs, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { consumer.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second+time.Duration(max(kills-2, 0))*10*time.Second)
	defer cancel()
	var killed *localNode
	res, err := exactlyonce.Run(ctx, exactlyonce.Config{
		Producer: producer, Consumer: consumer, Kills: cmp.Or(kills, -1),
		Logf: t.Logf,
		Kill: func(ctx context.Context, n int) (exactlyonce.Killed, error) {
			leader, err := waitLocalLeader(ctx, nodes, nil)
			if err != nil {
				return exactlyonce.Killed{}, err
			}
			issued := time.Now()
			if err := leader.p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				return exactlyonce.Killed{}, err
			}
			if code := leader.p.waitExit(exitTimeout); code != -1 {
				return exactlyonce.Killed{}, fmt.Errorf("%s: exit code %d after SIGKILL, want -1", leader.id, code)
			}
			killed = leader
			return exactlyonce.Killed{Node: leader.id, Issued: issued, Dead: time.Now()}, nil
		},
		Restart: func(ctx context.Context, n int) error {
			// The survivors elect a leader first: restarted at once, the
			// killed node could win the election again, and the kill
			// would test no failover.
			if _, err := waitLocalLeader(ctx, nodes, killed); err != nil {
				return fmt.Errorf("after killing %s: %w", killed.id, err)
			}
			killed.start(t)
			leader, err := waitLocalLeader(ctx, nodes, nil)
			if err != nil {
				return err
			}
			if leader == killed {
				return nil // it won an election since: nothing to catch up with
			}
			return waitLocalCaughtUp(ctx, killed, leader)
		},
	})
	if res != nil {
		res.Log(t.Logf)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems() {
		t.Error(p)
	}
	if len(res.Kills) != kills {
		t.Errorf("%d kills done, want %d", len(res.Kills), kills)
	}
	return nodes
}

// localNode is one member of a local cluster: fixed addresses (picked
// free once, kept across restarts, as a real node's are) and a data
// directory; p is its current process.
type localNode struct {
	id, dir              string
	client, raft, gossip string
	seeds                string // every node's gossip address, for --join
	expect               int
	args                 []string // further flags, given at every start
	password             string   // the default user's, for the helpers' own probes ("" none)
	p                    *proc
}

// startLocalCluster starts n kvorum-server processes that form one cluster
// by gossip (--bootstrap-expect n, --join every node), and waits for a
// leader that serves.
func startLocalCluster(t *testing.T, n int) []*localNode {
	t.Helper()
	return startLocalClusterWith(t, n, "")
}

// startLocalClusterWith is startLocalCluster with further flags for every
// node, at every start: args, and --requirepass password unless password
// is "". The helpers below authenticate their own probes (INFO raft, the
// readiness read) with it.
func startLocalClusterWith(t *testing.T, n int, password string, args ...string) []*localNode {
	t.Helper()
	if password != "" {
		args = append([]string{"--requirepass", password}, args...)
	}
	ports := buildtest.FreePorts(t, 3*n)
	nodes := make([]*localNode, n)
	var seeds []string
	for i := range nodes {
		addr := func(j int) string { return fmt.Sprintf("127.0.0.1:%d", ports[3*i+j]) }
		nodes[i] = &localNode{id: fmt.Sprintf("n%d", i+1), dir: t.TempDir(),
			client: addr(0), raft: addr(1), gossip: addr(2), expect: n, args: args, password: password}
		seeds = append(seeds, nodes[i].gossip)
	}
	for _, nd := range nodes {
		nd.seeds = strings.Join(seeds, ",")
		nd.start(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := waitLocalLeader(ctx, nodes, nil); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// start launches the node's process (again, after a kill) on its data
// directory and addresses, and waits until it serves clients.
func (nd *localNode) start(t *testing.T) {
	t.Helper()
	nd.p = launch(t, nd.dir, append([]string{"--node-id", nd.id, "--listen", nd.client, "--raft-addr", nd.raft,
		"--gossip-addr", nd.gossip, "--join", nd.seeds, "--bootstrap-expect", strconv.Itoa(nd.expect),
		"--leave-on-terminate=false"}, nd.args...)...)
	nd.p.waitServing()
	if nd.p.addr != nd.client {
		t.Fatalf("%s serves on %s, want %s", nd.id, nd.p.addr, nd.client)
	}
}

// raftField returns one field of the INFO raft of the node at addr, which
// asks no password.
func raftField(addr, name string) (string, error) { return raftFieldAs(addr, "", name) }

// raftField returns one field of nd's INFO raft.
func (nd *localNode) raftField(name string) (string, error) {
	return raftFieldAs(nd.client, nd.password, name)
}

// raftFieldAs returns one field of the INFO raft of the node at addr,
// asked after AUTH password unless password is "".
func raftFieldAs(addr, password, name string) (string, error) {
	v, err := askAs(addr, password, "INFO", "raft")
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

// waitLocalLeader polls the nodes other than skip until exactly one says
// it leads and serves a read, and returns it.
func waitLocalLeader(ctx context.Context, nodes []*localNode, skip *localNode) (*localNode, error) {
	var last []string
	for {
		var leaders []*localNode
		last = last[:0]
		for _, nd := range nodes {
			if nd == skip {
				continue
			}
			state, err := nd.raftField("raft_state")
			last = append(last, fmt.Sprintf("%s=%s%v", nd.id, state, errText(err)))
			if state == "leader" {
				leaders = append(leaders, nd)
			}
		}
		if len(leaders) == 1 {
			if v, err := askAs(leaders[0].client, leaders[0].password, "EXISTS", "readiness-probe"); err == nil && !v.IsError() {
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

// waitLocalCaughtUp waits until nd follows and has applied everything
// leader had committed when the wait began.
func waitLocalCaughtUp(ctx context.Context, nd, leader *localNode) error {
	s, err := leader.raftField("raft_commit_index")
	if err != nil {
		return fmt.Errorf("leader %s: %w", leader.id, err)
	}
	commit, _ := strconv.ParseUint(s, 10, 64)
	var last string
	for {
		state, err1 := nd.raftField("raft_state")
		applied, err2 := nd.raftField("raft_applied_index")
		n, _ := strconv.ParseUint(applied, 10, 64)
		if err1 == nil && err2 == nil && state == "follower" && n >= commit {
			return nil
		}
		last = fmt.Sprintf("state %s, applied %s%v%v", state, applied, errText(err1), errText(err2))
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to follow and apply the leader's commit index %d: %w (last: %s)", nd.id, commit, ctx.Err(), last)
		case <-time.After(20 * time.Millisecond): // poll interval
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}
