package cluster_test

import (
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// A Raft leadership transfer reaches the front door through Node.Leading:
// a blocked BLPOP ends with a redirect, never silently, and a subscriber's
// connection is closed so that its client subscribes again at the new
// leader; a follower redirects publishers to the leader. (cluster/door
// tests the door's side of each on a fake store that steps down.)
func TestBlocking_LeaderChangeRedirects(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	// The setup needs one leader to hold both pops: on a loaded machine the
	// first leader may step down before they block, so it starts again.
	var (
		leader          *testcluster.Node
		cn, plain, sub  *resptest.Conn
		done, plainDone <-chan resp.Value
	)
	for attempt := 1; ; attempt++ {
		leader = c.Leader(10 * time.Second)
		// cn follows redirects (READWRITE); plain is a plain Redis client's.
		cn = resptest.Dial(t, leader.ClientAddr())
		if v := cn.Do(t, "READWRITE"); v.Text() != "OK" {
			t.Fatalf("READWRITE = %v", v)
		}
		cn.SetDeadline(time.Now().Add(30 * time.Second))
		done = cn.Go("BLPOP", "jobs", "0")
		plain = resptest.Dial(t, leader.ClientAddr())
		plain.SetDeadline(time.Now().Add(30 * time.Second))
		plainDone = plain.Go("BLPOP", "jobs", "0")
		sub = resptest.Dial(t, leader.ClientAddr())
		if v := sub.Do(t, "SUBSCRIBE", "jobs"); v.String() != `["subscribe", "jobs", 1]` {
			t.Fatalf("SUBSCRIBE = %v", v)
		}
		// Wait until the requests are being served.
		deadline := time.Now().Add(10 * time.Second)
		for leader.IsLeader() && resptest.BlockedClients(t, leader.ClientAddr()) != "2" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if leader.IsLeader() && resptest.BlockedClients(t, leader.ClientAddr()) == "2" {
			break
		}
		cn.Close()
		plain.Close()
		sub.Close()
		if attempt == 3 {
			t.Fatalf("the pops never blocked on one leader in %d attempts", attempt)
		}
		t.Logf("attempt %d: leadership moved before both pops blocked; again", attempt)
	}
	defer cn.Close()
	defer plain.Close()
	defer sub.Close()
	f := c.Followers()[0]
	if r, ok := resp.ParseRedirect(resptest.Do(t, f.ClientAddr(), "PUBLISH", "jobs", "x")); !ok || r.Leader != leader.ClientAddr() {
		t.Fatalf("follower PUBLISH did not redirect to %s", leader.ClientAddr())
	}
	// Then move leadership away.
	if err := leader.Raft().LeadershipTransfer().Error(); err != nil {
		t.Fatalf("leadership transfer: %v", err)
	}
	select {
	case v := <-done:
		if _, ok := resp.ParseRedirect(v); !ok {
			t.Fatalf("blocked BLPOP after leadership change = %v, want a redirect", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked BLPOP was not ended by the leadership change")
	}
	// The plain client's connection is closed, as Sentinel's failover
	// closes a demoted master's clients: no reply is read.
	// (Its read deadline is 20s away, so an answer within 10s is the close.)
	select {
	case v := <-plainDone:
		if v.Kind() != 0 {
			t.Fatalf("plain client's blocked BLPOP after leadership change = %v, want its connection closed", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("plain client's connection still open after the leadership change")
	}
	sub.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := sub.ReadValue(); err == nil {
		t.Fatal("subscriber of a deposed leader still connected")
	}
}

// A consumer blocked in BLPOP on the leader of three disconnects; the next
// push must stay in the list, and blocked_clients must fall to 0 at once,
// with an infinite and a finite timeout. (cluster/door's test runs it on
// one node.)
func TestBlocking_DisconnectedWaiterTakesNothing(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	addr := c.Leader(10 * time.Second).ClientAddr()
	resptest.DisconnectedWaiters(t, addr)
}

// The same across a leader kill: a consumer leaves while blocked on the
// leader, the leader dies, and the push to the new leader stays queued.
func TestBlocking_DisconnectedWaiterAcrossLeaderKill(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	old := c.Leader(10 * time.Second)
	cn := resptest.Dial(t, old.ClientAddr())
	cn.Write(resp.AppendCommand(nil, "BLPOP", "q", "0"))
	resptest.WaitBlocked(t, old.ClientAddr(), "1")
	cn.Close()
	resptest.WaitBlocked(t, old.ClientAddr(), "0")
	c.Kill(old.Index)
	leader := c.Leader(10 * time.Second)
	resptest.Do(t, leader.ClientAddr(), "RPUSH", "q", "job-1")
	if v := resptest.Do(t, leader.ClientAddr(), "LLEN", "q"); v.Int() != 1 {
		t.Fatalf("LLEN q on the new leader = %v, want 1", v)
	}
	for _, n := range c.Followers() {
		if got := resptest.BlockedClients(t, n.ClientAddr()); got != "0" {
			t.Fatalf("blocked_clients on %s = %s, want 0", n.ClientAddr(), got)
		}
	}
}

// Fifty consumers block in BLPOP on the leader of three and leave at
// random (half-closing, so that any reply already decided still reaches
// them) while producers push 500 items: every item is received by a
// consumer or still in the list, exactly once. (cluster/door's test runs
// it on one node.)
//
// Leadership is not the subject here: the election timeouts are long, so
// that a loaded machine (-race, two cores) does not move it mid-run.
func TestBlocking_ConsumerChurnLosesNothing(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Configure: func(_ int, cfg *cluster.Config) {
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = time.Second, time.Second, 500*time.Millisecond
	}})
	resptest.ConsumerChurn(t, c.Leader(20*time.Second).ClientAddr(), 500) // 10,000 on one node: cluster/door
}

// Redis's "Linked LMOVEs": a push that wakes a chain of blocked BLMOVEs
// answers only once the chain has run, so a read right after it sees where
// the element ended up, never a state in between. On the leader of three,
// the wake is matched by the Raft log indexes of the push's batch, which
// cluster/door's test (on a fake store) cannot exercise.
func TestBlocking_LinkedMovesSettleBeforeThePushAnswers(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	addr := c.Leader(10 * time.Second).ClientAddr()
	resptest.LinkedMoves(t, addr)
}
