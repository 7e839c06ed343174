package cluster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

func TestPubsub_PublishSubscribe(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	sub := dial(t, leader.ClientAddr())
	defer sub.Close()
	sub.SetDeadline(time.Now().Add(10 * time.Second))
	sub.Write(resp.AppendCommand(nil, "SUBSCRIBE", "jobs", "done"))
	for _, want := range []string{`["subscribe", "jobs", 1]`, `["subscribe", "done", 2]`} {
		v, err := sub.rd.ReadValue()
		if err != nil || v.String() != want {
			t.Fatalf("subscribe reply = %v, %v; want %s", v, err, want)
		}
	}
	if v := sub.do(t, "PSUBSCRIBE", "j*"); v.String() != `["psubscribe", "j*", 3]` {
		t.Fatalf("psubscribe = %v", v)
	}
	if v := sub.do(t, "GET", "x"); !strings.Contains(v.Text(), "only (P)SUBSCRIBE") {
		t.Fatalf("GET in subscribe mode = %v", v)
	}
	if v := do(t, leader.ClientAddr(), "PUBLISH", "jobs", "j1"); v.Int() != 2 {
		t.Fatalf("PUBLISH = %v, want 2 receivers", v)
	}
	for _, want := range []string{`["message", "jobs", "j1"]`, `["pmessage", "j*", "jobs", "j1"]`} {
		v, err := sub.rd.ReadValue()
		if err != nil || v.String() != want {
			t.Fatalf("message = %v, %v; want %s", v, err, want)
		}
	}
	// A follower redirects publishers and subscribers to the leader.
	f := c.Followers()[0]
	if _, ok := resp.ParseRedirect(do(t, f.ClientAddr(), "PUBLISH", "jobs", "x")); !ok {
		t.Fatal("follower PUBLISH did not redirect")
	}
	// A lost leadership closes the subscriber's connection.
	if err := leader.Raft().LeadershipTransfer().Error(); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.rd.ReadValue(); err == nil {
		t.Fatal("subscriber of a deposed leader still connected")
	}
}
