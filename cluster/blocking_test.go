package cluster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// A blocked BLPOP is woken by a push from another client, and each pushed
// element goes to exactly one of several blocked consumers.
func TestBlocking_BLPOPWokenByPush(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	const consumers = 4
	got := make(chan string, consumers)
	for i := 0; i < consumers; i++ {
		go func() {
			cn := dial(t, leader.ClientAddr())
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(20 * time.Second))
			cn.Write(resp.AppendCommand(nil, "BLPOP", "jobs", "other", "0"))
			v, err := cn.rd.ReadValue()
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- v.String()
		}()
	}
	testcluster.WaitFor(t, "the consumers to block", 5*time.Second, func() bool {
		return strings.Contains(do(t, leader.ClientAddr(), "INFO", "clients").Text(), "blocked_clients:4")
	})
	for _, job := range []string{"j1", "j2", "j3", "j4"} {
		if v := do(t, leader.ClientAddr(), "RPUSH", "jobs", job); v.IsError() {
			t.Fatalf("RPUSH = %v", v)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < consumers; i++ {
		select {
		case s := <-got:
			if !strings.HasPrefix(s, `["jobs", "j`) || seen[s] {
				t.Fatalf("consumer got %s (seen %v)", s, seen)
			}
			seen[s] = true
		case <-time.After(15 * time.Second):
			t.Fatalf("only %d of %d consumers were woken", i, consumers)
		}
	}
	if v := do(t, leader.ClientAddr(), "LLEN", "jobs"); v.Int() != 0 {
		t.Fatalf("LLEN after pops = %v", v)
	}
}

// A timeout answers a null array; BLMOVE moves an element between lists.
func TestBlocking_TimeoutAndMove(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	start := time.Now()
	if v := do(t, leader.ClientAddr(), "BLPOP", "empty", "0.2"); !v.IsNull() || v.Kind() != resp.KindArray {
		t.Fatalf("BLPOP timeout = %v, want a null array", v)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("BLPOP returned after %v, before its timeout", d)
	}
	do(t, leader.ClientAddr(), "RPUSH", "pending", "task")
	if v := do(t, leader.ClientAddr(), "BLMOVE", "pending", "processing", "LEFT", "RIGHT", "1"); v.Text() != "task" {
		t.Fatalf("BLMOVE = %v", v)
	}
	if v := do(t, leader.ClientAddr(), "LRANGE", "processing", "0", "-1"); v.Len() != 1 {
		t.Fatalf("processing = %v", v)
	}
	if v := do(t, leader.ClientAddr(), "BRPOPLPUSH", "pending", "processing", "0.1"); !v.IsNull() || v.Kind() != resp.KindBulk {
		t.Fatalf("BRPOPLPUSH timeout = %v, want a null bulk", v)
	}
}

// A leadership change ends a blocked wait with a redirect, never silently.
func TestBlocking_LeaderChangeRedirects(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
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
}
