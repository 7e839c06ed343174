package cluster_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// sequentially runs clients connections to addr at once, each sending each
// commands one after another, waiting for every reply before the next:
// command(i, j) gives client i's j-th command and the check of its reply.
func sequentially(t *testing.T, addr string, clients, each int, command func(i, j int) ([]string, func(resp.Value) bool)) {
	t.Helper()
	errs := make(chan string, clients)
	for i := range clients {
		cn := resptest.Dial(t, addr)
		defer cn.Close()
		cn.SetDeadline(time.Now().Add(60 * time.Second))
		go func() {
			for j := range each {
				args, ok := command(i, j)
				if v := <-cn.Go(args...); !ok(v) {
					errs <- fmt.Sprintf("%v = %v", args, v)
					return
				}
			}
			errs <- ""
		}()
	}
	for range clients {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
}

// raftInt returns an integer field of addr's INFO raft.
func raftInt(t testing.TB, addr, name string) int {
	t.Helper()
	v := resptest.InfoField(t, addr, "raft", name)
	x, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("INFO raft %s:%s: %v", name, v, err)
	}
	return x
}

func voters(t testing.TB, n *testcluster.Node) []string {
	f := n.Raft().GetConfiguration()
	if err := f.Error(); err != nil {
		return nil
	}
	var ids []string
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			ids = append(ids, string(s.ID))
		}
	}
	return ids
}

func TestCluster_FormsInEveryStartOrder(t *testing.T) {
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, order := range orders {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			c := testcluster.Start(t, testcluster.Options{}, order...)
			leader := c.Leader(10 * time.Second)
			testcluster.WaitFor(t, "three voters", 5*time.Second, func() bool { return len(voters(t, leader)) == 3 })
			for _, n := range c.Nodes {
				if got := len(voters(t, n)); got != 3 {
					// followers learn the configuration from the log
					testcluster.WaitFor(t, n.ID()+" sees three voters", 5*time.Second, func() bool { return len(voters(t, n)) == 3 })
				}
			}
			if v := resptest.Do(t, leader.ClientAddr(), "SET", "k", "v"); v.Int() != 1 {
				t.Fatalf("SET on leader = %v", v)
			}
		})
	}
}

func TestCluster_FollowerRedirectsAndReadonly(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	if v := resptest.Do(t, leader.ClientAddr(), "SET", "color", "blue"); v.Int() != 1 {
		t.Fatalf("SET = %v", v)
	}
	if v := resptest.Do(t, leader.ClientAddr(), "GET", "color"); v.Text() != "blue" {
		t.Fatalf("GET on leader = %v", v)
	}
	for _, f := range c.Followers() {
		v := resptest.Do(t, f.ClientAddr(), "GET", "color")
		r, ok := resp.ParseRedirect(v)
		if !ok || r.Leader != leader.ClientAddr() {
			t.Fatalf("follower %s GET = %v, want MOVED 0 %s", f.ID(), v, leader.ClientAddr())
		}
		if want := "MOVED 0 " + leader.ClientAddr(); string(v.Bytes()) != want {
			t.Fatalf("redirect text = %q, want %q", v.Bytes(), want)
		}
		if v := resptest.Do(t, f.ClientAddr(), "SET", "x", "1"); !strings.HasPrefix(string(v.Bytes()), "MOVED 0 ") {
			t.Fatalf("follower SET = %v", v)
		}
		// Admin commands are answered locally.
		if v := resptest.Do(t, f.ClientAddr(), "PING"); v.Text() != "PONG" {
			t.Fatalf("follower PING = %v", v)
		}
		cn := resptest.Dial(t, f.ClientAddr())
		if v := cn.Do(t, "READONLY"); v.Text() != "OK" {
			t.Fatalf("READONLY = %v", v)
		}
		testcluster.WaitFor(t, "follower "+f.ID()+" serves the write after READONLY", 5*time.Second, func() bool {
			return cn.Do(t, "GET", "color").Text() == "blue"
		})
		if v := cn.Do(t, "SET", "x", "1"); !strings.HasPrefix(string(v.Bytes()), "MOVED") {
			t.Fatalf("READONLY follower must still redirect writes, got %v", v)
		}
		cn.Close()
	}
}

func TestCluster_LeaderFailoverAndRejoin(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	for i := 0; i < 100; i++ {
		if v := resptest.Do(t, leader.ClientAddr(), "SET", fmt.Sprint("k", i), fmt.Sprint(i)); v.Int() != 1 {
			t.Fatalf("SET = %v", v)
		}
	}
	old := leader.Index
	stopped := time.Now()
	c.Kill(old)
	next := c.Leader(3 * time.Second)
	if v := resptest.Do(t, next.ClientAddr(), "SET", "after", "failover"); v.Int() != 1 {
		t.Fatalf("SET on new leader = %v", v)
	}
	t.Logf("failover: first write acknowledged %v after the leader was killed", time.Since(stopped))
	if d := time.Since(stopped); d > 3*time.Second {
		t.Fatalf("new leader served a write only after %v", d)
	}
	c.StartNode(old)
	n := c.Nodes[old]
	cn := resptest.Dial(t, n.ClientAddr())
	defer cn.Close()
	cn.Do(t, "READONLY")
	testcluster.WaitFor(t, "restarted node catches up", 10*time.Second, func() bool {
		return cn.Do(t, "GET", "after").Text() == "failover"
	})
	for i := 0; i < 100; i++ {
		if v := cn.Do(t, "GET", fmt.Sprint("k", i)); v.Text() != fmt.Sprint(i) {
			t.Fatalf("restarted node has k%d = %v", i, v)
		}
	}
	if n.IsLeader() {
		t.Log("restarted node became leader again (allowed)")
	}
	if v := resptest.Do(t, next.ClientAddr(), "INFO", "replication"); !strings.Contains(v.Text(), "role:") {
		t.Fatalf("INFO replication = %q", v.Text())
	}
}

func TestCluster_FourthNodeAddedByReconcile(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	testcluster.WaitFor(t, "three voters", 5*time.Second, func() bool { return len(voters(t, leader)) == 3 })
	n := c.AddNode()
	testcluster.WaitFor(t, "fourth node becomes a voter", 10*time.Second, func() bool {
		for _, id := range voters(t, leader) {
			if id == n.ID() {
				return true
			}
		}
		return false
	})
	// On whichever node leads now: an election may have moved it.
	testcluster.WaitFor(t, "SET four on the leader", 10*time.Second, func() bool {
		return !resptest.Do(t, c.Leader(10*time.Second).ClientAddr(), "SET", "four", "4").IsError()
	})
	cn := resptest.Dial(t, n.ClientAddr())
	defer cn.Close()
	cn.Do(t, "READONLY")
	testcluster.WaitFor(t, "fourth node replicates", 15*time.Second, func() bool { return cn.Do(t, "GET", "four").Text() == "4" })
}

func TestCluster_GracefulLeaveRemovesServer(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	testcluster.WaitFor(t, "three voters", 5*time.Second, func() bool { return len(voters(t, leader)) == 3 })
	f := c.Followers()[0]
	id := f.ID()
	c.Leave(f.Index)
	testcluster.WaitFor(t, id+" removed from the raft configuration", 10*time.Second, func() bool {
		for _, v := range voters(t, leader) {
			if v == id {
				return false
			}
		}
		return true
	})
	if v := resptest.Do(t, leader.ClientAddr(), "SET", "still", "ok"); v.Int() != 1 {
		t.Fatalf("SET after leave = %v", v)
	}
}

func TestCluster_PartitionedLeaderServesNothing(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	resptest.Do(t, leader.ClientAddr(), "SET", "k", "before")
	old := leader
	c.Partition(old.Index)
	// The majority elects a new leader.
	var next *testcluster.Node
	testcluster.WaitFor(t, "majority elects a new leader", 10*time.Second, func() bool {
		for _, n := range c.Nodes {
			if n != old && n.Node != nil && n.Ready() {
				next = n
				return true
			}
		}
		return false
	})
	if v := resptest.Do(t, next.ClientAddr(), "SET", "k", "after"); v.Int() != 1 {
		t.Fatalf("SET on new leader = %v", v)
	}
	// The old leader must not serve the stale read nor ack a write.
	for i := 0; i < 20; i++ {
		if v := resptest.Do(t, old.ClientAddr(), "GET", "k"); !v.IsError() {
			t.Fatalf("partitioned old leader served a read: %v", v)
		}
		v := resptest.Do(t, old.ClientAddr(), "SET", "lost", fmt.Sprint(i))
		if !v.IsError() {
			t.Fatalf("partitioned old leader acknowledged a write: %v", v)
		}
	}
	c.Heal(old.Index)
	testcluster.WaitFor(t, "old leader rejoins as follower", 10*time.Second, func() bool { return !old.IsLeader() || old == c.Leader(5*time.Second) })
	l := c.Leader(10 * time.Second)
	if v := resptest.Do(t, l.ClientAddr(), "GET", "lost"); !v.IsNull() {
		t.Fatalf("an unacknowledged write from the partitioned leader survived: %v", v)
	}
	if v := resptest.Do(t, l.ClientAddr(), "GET", "k"); v.Text() != "after" {
		t.Fatalf("GET k = %v, want after", v)
	}
}

// Expired keys are deleted through the log on every replica, not only
// hidden from reads.
func TestCluster_ExpiredKeysReaped(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Configure: func(i int, cfg *cluster.Config) {
		cfg.ExpiryInterval = 50 * time.Millisecond
	}})
	leader := c.Leader(10 * time.Second)
	if v := resptest.Do(t, leader.ClientAddr(), "SET", "short", "lived", "PX", "100"); v.Int() != 1 {
		t.Fatalf("SET PX = %v", v)
	}
	resptest.Do(t, leader.ClientAddr(), "SET", "long", "lived")
	for _, n := range c.Nodes {
		n := n
		testcluster.WaitFor(t, n.ID()+" deletes the expired key", 10*time.Second, func() bool { return n.FSM().Keys() == 1 })
	}
}

// INFO keyspace counts live keys and those with a deadline.
func TestCluster_InfoKeyspace(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1, Configure: func(i int, cfg *cluster.Config) { cfg.BootstrapExpect = 1 }})
	leader := c.Leader(10 * time.Second)
	resptest.Do(t, leader.ClientAddr(), "SET", "a", "1")
	resptest.Do(t, leader.ClientAddr(), "SET", "b", "1", "EX", "100")
	info := resptest.Do(t, leader.ClientAddr(), "INFO", "keyspace").Text()
	if !strings.Contains(info, "db0:keys=2,expires=1,avg_ttl=") {
		t.Fatalf("INFO keyspace = %q", info)
	}
}

// With SentinelAddr a node serves a second listener (Sentinel's own port,
// 26379, for clients configured with it) through the same front door: its
// SENTINEL answers name the leader's client address.
func TestCluster_SentinelListener(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1, Configure: func(i int, cfg *cluster.Config) {
		cfg.SentinelAddr = "127.0.0.1:0"
	}})
	leader := c.Leader(10 * time.Second)
	if leader.SentinelAddr() == "" || leader.SentinelAddr() == leader.ClientAddr() {
		t.Fatalf("sentinel listener %q, client %q", leader.SentinelAddr(), leader.ClientAddr())
	}
	want := strings.Replace(leader.ClientAddr(), ":", `", "`, 1)
	testcluster.WaitFor(t, "the sentinel listener to name the leader", 10*time.Second, func() bool {
		v := resptest.Do(t, leader.SentinelAddr(), "SENTINEL", "get-master-addr-by-name", "mymaster")
		return v.String() == `["`+want+`"]`
	})
	if v := resptest.Do(t, leader.SentinelAddr(), "SET", "k", "v"); v.IsError() {
		t.Fatalf("SET on the sentinel listener = %v", v)
	}
}

// With a gossip key the cluster forms as before; a node with another key,
// or none, never becomes a member, so the reconcile loop never makes it a
// Raft voter.
func TestCluster_GossipKeyKeepsStrangersOut(t *testing.T) {
	key, other := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210")
	c := testcluster.Start(t, testcluster.Options{Configure: func(i int, cfg *cluster.Config) {
		switch i {
		case 3:
			cfg.GossipKeys = [][]byte{other}
		case 4:
			cfg.GossipKeys = nil
		case 2:
			cfg.GossipKeys = [][]byte{key, other} // mid rotation: encrypts with key, accepts both
		default:
			cfg.GossipKeys = [][]byte{key}
		}
	}})
	leader := c.Leader(10 * time.Second)
	testcluster.WaitFor(t, "three voters", 10*time.Second, func() bool { return len(voters(t, leader)) == 3 })
	c.AddNode() // node3: another key
	c.AddNode() // node4: no key
	// A negative: for two seconds (ten reconcile intervals) the strangers
	// must stay out of gossip and out of Raft.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		members := resptest.Do(t, leader.ClientAddr(), "KVORUM.MEMBERS").String()
		if strings.Contains(members, "node3") || strings.Contains(members, "node4") || len(voters(t, leader)) != 3 {
			t.Fatalf("a node without the gossip key got in: members %s, voters %v", members, voters(t, leader))
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
	if err := (cluster.Config{NodeID: "x", ClientAddr: ":1", RaftAddr: ":2", GossipKeys: [][]byte{[]byte("short")}}).Validate(); err == nil {
		t.Fatal("a 5-byte gossip key was accepted")
	}
}

// Two clients that each wait for a write's reply before sending the next
// share log entries: after an entry commits, the proposer lingers for the
// writer it just answered instead of sending the other's write alone.
// Without the linger the two take turns, one write per entry.
func TestCluster_SequentialWritersShareEntries(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	resptest.Do(t, leader.ClientAddr(), "SET", "k", "v")
	field := func(name string) int { return raftInt(t, leader.ClientAddr(), name) }
	batches0, commands0, joined0 := field("raft_proposed_batches"), field("raft_proposed_commands"), field("raft_batch_linger_joined")
	const clients, each = 2, 150
	sequentially(t, leader.ClientAddr(), clients, each, func(i, j int) ([]string, func(resp.Value) bool) {
		return []string{"SET", fmt.Sprintf("k%d", i), strconv.Itoa(j)}, func(v resp.Value) bool { return v.Kind() == resp.KindInt }
	})
	batches, commands := field("raft_proposed_batches")-batches0, field("raft_proposed_commands")-commands0
	joined := field("raft_batch_linger_joined") - joined0
	perBatch := float64(commands) / float64(batches)
	t.Logf("%d writes in %d entries (%.2f per entry), %d joined a lingering entry", commands, batches, perBatch, joined)
	if commands != clients*each {
		t.Errorf("raft_proposed_commands grew by %d for %d writes", commands, clients*each)
	}
	if perBatch < 1.5 {
		t.Errorf("%.2f writes per entry for %d sequential writers: they took turns", perBatch, clients)
	}
	if joined <= 0 {
		t.Errorf("raft_batch_linger_joined grew by %d", joined)
	}
}

// Raft reads back each entry it stores, the leader to replicate it and a
// follower to apply it; the log cache in front of the store serves those
// reads, so under a steady write load raft_log_reads stays far below the
// entries each node wrote (without the cache it is at least as many).
func TestCluster_RecentEntriesAreReadFromTheCache(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	cn := resptest.Dial(t, leader.ClientAddr())
	defer cn.Close()
	for i := range 300 {
		if v := cn.Do(t, "SET", fmt.Sprint("k", i), "v"); v.IsError() {
			t.Fatalf("SET: %v", v)
		}
	}
	for _, n := range c.Nodes {
		entries, reads := raftInt(t, n.ClientAddr(), "raft_log_entries"), raftInt(t, n.ClientAddr(), "raft_log_reads")
		t.Logf("%s: %d entries written, %d read back from the store", n.Cfg.NodeID, entries, reads)
		if entries < 300 || reads > entries/4 {
			t.Errorf("%s read %d entries back from its log store after writing %d; want at most a quarter", n.Cfg.NodeID, reads, entries)
		}
	}
}

// Concurrent reads on the leader share leadership confirmations: INFO
// raft's read accounting counts every read once, in fewer rounds than
// reads, and nothing stays in flight once they are answered.
func TestCluster_ReadRoundsServeConcurrentReads(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	resptest.Do(t, leader.ClientAddr(), "SET", "k", "v")
	field := func(name string) int { return raftInt(t, leader.ClientAddr(), name) }
	reads0, rounds0 := field("raft_reads_confirmed"), field("raft_read_rounds")
	const clients, each = 20, 50
	sequentially(t, leader.ClientAddr(), clients, each, func(int, int) ([]string, func(resp.Value) bool) {
		return []string{"GET", "k"}, func(v resp.Value) bool { return v.Text() == "v" }
	})
	reads, rounds := field("raft_reads_confirmed")-reads0, field("raft_read_rounds")-rounds0
	t.Logf("%d reads in %d rounds", reads, rounds)
	if reads != clients*each {
		t.Errorf("raft_reads_confirmed grew by %d for %d reads", reads, clients*each)
	}
	if rounds <= 0 || rounds >= reads {
		t.Errorf("%d reads took %d rounds; want at least one and fewer than the reads", reads, rounds)
	}
	if v := field("raft_read_rounds_in_flight"); v != 0 {
		t.Errorf("raft_read_rounds_in_flight %d with every read answered", v)
	}
}

// Reads that a cut-off leader cannot confirm time out together: each read
// of a batch gets TRYAGAIN once Config.ReadTimeout has passed, well before
// the leader's lease runs out and it steps down.
func TestCluster_UnconfirmedReadsTimeOutTogether(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Configure: func(_ int, cfg *cluster.Config) {
		cfg.HeartbeatTimeout = 600 * time.Millisecond
		cfg.ElectionTimeout = 600 * time.Millisecond
		cfg.LeaderLeaseTimeout = 600 * time.Millisecond
		cfg.ReadTimeout = 30 * time.Millisecond
	}})
	leader := c.Leader(10 * time.Second)
	resptest.Do(t, leader.ClientAddr(), "SET", "k", "v")
	const readers = 8
	conns := make([]*resptest.Conn, readers)
	for i := range conns {
		conns[i] = resptest.Dial(t, leader.ClientAddr())
		defer conns[i].Close()
		conns[i].SetDeadline(time.Now().Add(10 * time.Second))
	}
	c.Partition(leader.Index)
	defer c.Heal(leader.Index)
	replies := make([]<-chan resp.Value, readers)
	for i, cn := range conns {
		replies[i] = cn.Go("GET", "k")
	}
	for i, ch := range replies {
		if v := <-ch; !v.IsError() || !strings.Contains(v.Text(), "TRYAGAIN read timed out") {
			t.Errorf("read %d on the cut-off leader = %q; want TRYAGAIN read timed out", i, v.Text())
		}
	}
}
