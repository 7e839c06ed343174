package cluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// A leader cut off with writes in its log that no one else has stored
// becomes a follower when healed: the new leader overwrites that tail, so
// the old leader deletes a suffix of its log (raft-wal v0.4.0 wrote such a
// log so that a restart could not read it back) and, restarted, must catch
// up and serve every acknowledged key. Run on both log stores.
func TestCluster_TruncatedTailSurvivesRestart(t *testing.T) {
	for _, store := range []string{cluster.LogStoreBolt, cluster.LogStoreWAL} {
		t.Run(store, func(t *testing.T) {
			c := testcluster.Start(t, testcluster.Options{Configure: func(_ int, cfg *cluster.Config) { cfg.LogStore = store }})
			leader := c.Leader(10 * time.Second)
			for i := 0; i < 20; i++ {
				if v := resptest.Do(t, leader.ClientAddr(), "SET", fmt.Sprint("k", i), "before"); v.Int() != 1 {
					t.Fatalf("SET k%d = %v", i, v)
				}
			}
			old := leader.Index
			committed := leader.Raft().LastIndex()
			c.Partition(old)
			cut := resptest.Dial(t, leader.ClientAddr())
			cut.SetDeadline(time.Now().Add(5 * time.Second))
			var lost []byte
			for i := 0; i < 10; i++ {
				lost = resp.AppendCommand(lost, "SET", fmt.Sprint("lost", i), "never acknowledged")
			}
			cut.Write(lost) // replies, if any, are errors: no quorum
			testcluster.WaitFor(t, "the cut-off leader to log writes nobody else has", 5*time.Second, func() bool {
				return leader.Raft().LastIndex() > committed
			})
			cut.Close()

			var next *testcluster.Node
			for i := 0; i < 20; i++ {
				next = setOnNewLeader(t, c, old, fmt.Sprint("k", i), "after")
			}
			c.Heal(old)
			testcluster.WaitFor(t, "the old leader to take the new leader's log", 10*time.Second, func() bool {
				return leader.Raft().AppliedIndex() >= next.Raft().LastIndex()
			})
			c.Stop(old)
			n := c.StartNode(old)
			cn := resptest.Dial(t, n.ClientAddr())
			defer cn.Close()
			cn.Do(t, "READONLY")
			testcluster.WaitFor(t, "the restarted node to catch up", 10*time.Second, func() bool {
				return cn.Do(t, "GET", "k19").Text() == "after"
			})
			for i := 0; i < 20; i++ {
				if v := cn.Do(t, "GET", fmt.Sprint("k", i)); v.Text() != "after" {
					t.Errorf("restarted node: GET k%d = %v, want after", i, v)
				}
			}
			if v := cn.Do(t, "EXISTS", "lost0"); v.Int() != 0 {
				t.Errorf("restarted node kept a write that was never committed: EXISTS lost0 = %v", v)
			}
		})
	}
}

// setOnNewLeader sets key to val through a leader other than node old,
// retrying (the survivors may still be electing) until it is acknowledged,
// and returns that leader.
func setOnNewLeader(t *testing.T, c *testcluster.Cluster, old int, key, val string) *testcluster.Node {
	t.Helper()
	var next *testcluster.Node
	var last string
	testcluster.WaitFor(t, "SET "+key+" acknowledged by a new leader", 10*time.Second, func() bool {
		for _, n := range c.Nodes {
			if n.Index == old || !c.Running(n.Index) || !n.IsLeader() || !n.Ready() {
				continue
			}
			v, err := resptest.Ask(n.ClientAddr(), "SET", key, val)
			if err == nil && v.Int() == 1 {
				next = n
				return true
			}
			last = fmt.Sprint(v, err)
		}
		return false
	})
	if next == nil {
		t.Fatalf("SET %s: last reply %s", key, last)
	}
	return next
}
