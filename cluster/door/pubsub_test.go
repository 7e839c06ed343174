package door_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

func TestPubsub_PublishSubscribe(t *testing.T) {
	t.Parallel()
	s, addr := startDoor(t)
	sub := resptest.Dial(t, addr)
	defer sub.Close()
	sub.SetDeadline(time.Now().Add(10 * time.Second))
	sub.Write(resp.AppendCommand(nil, "SUBSCRIBE", "jobs", "done"))
	for _, want := range []string{`["subscribe", "jobs", 1]`, `["subscribe", "done", 2]`} {
		v, err := sub.ReadValue()
		if err != nil || v.String() != want {
			t.Fatalf("subscribe reply = %v, %v; want %s", v, err, want)
		}
	}
	if v := sub.Do(t, "PSUBSCRIBE", "j*"); v.String() != `["psubscribe", "j*", 3]` {
		t.Fatalf("psubscribe = %v", v)
	}
	if v := sub.Do(t, "GET", "x"); !strings.Contains(v.Text(), "only (P)SUBSCRIBE") {
		t.Fatalf("GET in subscribe mode = %v", v)
	}
	if v := resptest.Do(t, addr, "PUBLISH", "jobs", "j1"); v.Int() != 2 {
		t.Fatalf("PUBLISH = %v, want 2 receivers", v)
	}
	for _, want := range []string{`["message", "jobs", "j1"]`, `["pmessage", "j*", "jobs", "j1"]`} {
		v, err := sub.ReadValue()
		if err != nil || v.String() != want {
			t.Fatalf("message = %v, %v; want %s", v, err, want)
		}
	}
	// A lost leadership closes the subscriber's connection.
	const next = "127.0.0.1:7001"
	s.stepDown(next)
	wantClosed(t, sub, "subscriber of a deposed leader")
	// A follower redirects publishers and subscribers to the leader.
	for _, args := range [][]string{{"PUBLISH", "jobs", "x"}, {"SUBSCRIBE", "jobs"}, {"PSUBSCRIBE", "j*"}} {
		if r, ok := resp.ParseRedirect(resptest.Do(t, addr, args...)); !ok || r.Leader != next {
			t.Fatalf("follower %v did not redirect to %s", args, next)
		}
	}
	// Leading again, under a new leadership, the door serves subscribers
	// again, and closes them when that leadership ends too.
	s.lead()
	sub2 := resptest.Dial(t, addr)
	defer sub2.Close()
	if v := sub2.Do(t, "SUBSCRIBE", "jobs"); v.String() != `["subscribe", "jobs", 1]` {
		t.Fatalf("subscribe after leading again = %v", v)
	}
	if v := resptest.Do(t, addr, "PUBLISH", "jobs", "j2"); v.Int() != 1 {
		t.Fatalf("PUBLISH after leading again = %v, want 1 receiver", v)
	}
	if v, err := sub2.ReadValue(); err != nil || v.String() != `["message", "jobs", "j2"]` {
		t.Fatalf("message = %v, %v", v, err)
	}
	s.stepDown("")
	wantClosed(t, sub2, "subscriber of the second, deposed leadership")
	if v := resptest.Do(t, addr, "PUBLISH", "jobs", "x"); v.String() != resp.ErrNoLeader.Value().String() {
		t.Fatalf("PUBLISH with no leader known = %v, want CLUSTERDOWN", v)
	}
}

// UNSUBSCRIBE is answered on any node: a client may leave subscribe mode
// on a follower.
func TestPubsub_UnsubscribeOnFollower(t *testing.T) {
	t.Parallel()
	s, addr := startDoor(t)
	s.stepDown("127.0.0.1:7001")
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	cn.Do(t, "HELLO", "2")
	if v := cn.Do(t, "UNSUBSCRIBE"); v.String() != `["unsubscribe", nil, 0]` {
		t.Fatalf("UNSUBSCRIBE on a follower = %v", v)
	}
}
