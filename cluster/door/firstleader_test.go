package door_test

import (
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// Before the node has known a leader, a request that needs one waits for
// it (the requests behind it in order), and gets -CLUSTERDOWN only when
// the wait runs out; once a leader has been known, no request waits.
func TestFirstLeader_RequestsWaitForIt(t *testing.T) {
	s := newFakeStore()
	s.stepDown("") // a fresh node: no leader known yet
	addr := serve(t, s, door.New(door.Config{Store: s, FirstLeaderWait: 10 * time.Minute}))
	c := resptest.Dial(t, addr)
	c.Do(t, "READWRITE") // follows redirects: not closed when a leadership ends
	if v := c.Do(t, "PING"); v.Text() != "PONG" {
		t.Fatalf("PING = %v: a local command does not wait", v)
	}
	c.Write(append(resp.AppendCommand(nil, "SET", "k", "v"), resp.AppendCommand(nil, "GET", "k")...))
	replies := make(chan resp.Value, 2)
	go func() {
		for range 2 {
			v, _ := c.ReadValue()
			replies <- v
		}
	}()
	select {
	case v := <-replies:
		t.Fatalf("SET answered %v before any leader", v)
	case <-time.After(50 * time.Millisecond): // no reply yet: it waits (a leader may not come sooner)
	}
	s.lead()
	for _, name := range []string{"SET", "GET"} {
		select {
		case v := <-replies:
			if v.IsError() || v.IsNull() || (name == "GET" && v.Text() != "v") {
				t.Fatalf("%s once a leader is known = %v", name, v)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s not answered 10 s after the leader came", name)
		}
	}
	// Known once: a later election answers at once, however long the wait.
	s.stepDown("")
	select {
	case v := <-c.Go("SET", "k", "w"):
		if v.Code() != "CLUSTERDOWN" {
			t.Fatalf("SET with no leader after one was known = %v", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SET waited for a leader although one had been known")
	}
}

// A wait that runs out answers -CLUSTERDOWN.
func TestFirstLeader_WaitRunsOut(t *testing.T) {
	s := newFakeStore()
	s.stepDown("")
	addr := serve(t, s, door.New(door.Config{Store: s, FirstLeaderWait: 100 * time.Millisecond}))
	if v := resptest.Do(t, addr, "SET", "k", "v"); v.Code() != "CLUSTERDOWN" {
		t.Fatalf("SET with no leader ever = %v, want CLUSTERDOWN", v)
	}
}
