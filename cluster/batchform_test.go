package cluster

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// startSoleNode starts a one-node cluster without gossip, on loopback,
// and waits until it leads; it is closed in t's cleanup.
func startSoleNode(t *testing.T) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.NodeID, cfg.DataDir = "n1", t.TempDir()
	cfg.ClientAddr, cfg.RaftAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", ""
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 200*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.Start(nil); err != nil {
		t.Fatal(err)
	}
	resptest.WaitFor(t, "leadership", 10*time.Second, func() bool { return n.lead.current() != nil })
	return n
}

// A leader writes fsm.EntryItems batches only while every server in its
// configuration announces that it applies them; with a server that does
// not (an older version, mid rolling upgrade), or that gossip has not
// described, it writes the older fsm.EntryBatch, which every version
// applies. The run form of session writes inside EntryItems is gated the
// same way, and needs both flags.
func TestProposer_BatchFormFollowsTheServers(t *testing.T) {
	n := startSoleNode(t)
	tenure := n.lead.current()
	lastKind := func(args ...string) fsm.EntryKind {
		t.Helper()
		vals := make([]resp.Value, len(args))
		for i, a := range args {
			vals[i] = resp.BulkString(a)
		}
		if _, _, err := n.Propose(0, resp.RESP2, vals).Wait(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		last, _ := n.logs.LastIndex()
		var l raft.Log
		if err := n.logs.GetLog(last, &l); err != nil {
			t.Fatal(err)
		}
		return fsm.EntryKind(l.Data[1])
	}
	if !tenure.items.Load() || lastKind("SET", "a", "1") != fsm.EntryItems {
		t.Fatal("alone, the leader does not write EntryItems")
	}
	// A nonvoter (no quorum change) that gossip has not described.
	if err := n.raft.AddNonvoter("old", "127.0.0.1:1", 0, 5*time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		member *Member
		want   fsm.EntryKind
		runs   bool // the run form of session writes (fsm.ItemWriter)
	}{
		{nil, fsm.EntryBatch, false},
		{&Member{ID: "old", RaftAddr: "127.0.0.1:1", ClientAddr: "127.0.0.1:2", Status: StatusAlive}, fsm.EntryBatch, false},
		{&Member{ID: "old", RaftAddr: "127.0.0.1:1", ClientAddr: "127.0.0.1:2", Status: StatusAlive, Runs: true}, fsm.EntryBatch, false},
		{&Member{ID: "old", RaftAddr: "127.0.0.1:1", ClientAddr: "127.0.0.1:2", Status: StatusAlive, Items: true}, fsm.EntryItems, false},
		{&Member{ID: "old", RaftAddr: "127.0.0.1:1", ClientAddr: "127.0.0.1:2", Status: StatusAlive, Items: true, Runs: true}, fsm.EntryItems, true},
	} {
		if step.member != nil {
			// As gossip delivers it: through the metadata's encoding.
			m, err := decodeMeta("old", encodeMeta(*step.member))
			if err != nil {
				t.Fatal(err)
			}
			m.Status = StatusAlive
			n.members.upsert(m)
		}
		tenure.setFlags(n) // what every reconcile pass does
		if got := lastKind("INCR", "c"); got != step.want {
			t.Fatalf("with member %+v the leader wrote entry kind %d, want %d", step.member, got, step.want)
		}
		if tenure.runs.Load() != step.runs {
			t.Fatalf("with member %+v the leader's run form is %v, want %v", step.member, tenure.runs.Load(), step.runs)
		}
	}
	if v, _, err := n.Propose(0, resp.RESP2, []resp.Value{resp.BulkString("GET"), resp.BulkString("c")}).Wait(); err != nil || v.Text() != "5" {
		t.Fatalf("GET c after batches of both forms = %v, %v; want 5", v, err)
	}
}
