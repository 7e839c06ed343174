package cluster_test

import (
	"strings"
	"testing"
	"time"

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
	leader := c.Leader(10 * time.Second)
	cn := dial(t, leader.ClientAddr())
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(20 * time.Second))
	cn.Write(resp.AppendCommand(nil, "BLPOP", "jobs", "0"))
	done := make(chan resp.Value, 1)
	go func() {
		v, _ := cn.rd.ReadValue()
		done <- v
	}()
	sub := dial(t, leader.ClientAddr())
	defer sub.Close()
	if v := sub.do(t, "SUBSCRIBE", "jobs"); v.String() != `["subscribe", "jobs", 1]` {
		t.Fatalf("SUBSCRIBE = %v", v)
	}
	f := c.Followers()[0]
	if r, ok := resp.ParseRedirect(do(t, f.ClientAddr(), "PUBLISH", "jobs", "x")); !ok || r.Leader != leader.ClientAddr() {
		t.Fatalf("follower PUBLISH did not redirect to %s", leader.ClientAddr())
	}
	// Wait until the request is being served, then move leadership away.
	testcluster.WaitFor(t, "the BLPOP to block", 5*time.Second, func() bool {
		return strings.Contains(do(t, leader.ClientAddr(), "INFO", "clients").Text(), "blocked_clients:1")
	})
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
	sub.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := sub.rd.ReadValue(); err == nil {
		t.Fatal("subscriber of a deposed leader still connected")
	}
}
