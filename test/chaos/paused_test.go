package chaos

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// TestPausedLeader_NeverServesStaleOrAcksLostWrite is the stale-leader
// trap: the leader is stopped (SIGSTOP) with a GET and a SET waiting in its
// sockets, a new leader takes a write of the same key, and the old leader
// is continued. It must not answer the GET with the value it had, and if
// it acknowledges the SET, the new majority must have it.
func TestPausedLeader_NeverServesStaleOrAcksLostWrite(t *testing.T) {
	c := startCluster(t, serverBin, 3, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	old, err := c.leader(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := newPlain(c.addrs(), 1)
	defer cl.Close()
	mustSet(ctx, t, cl, "k", "before-pause")
	getConn, setConn := rawDial(t, old.client), rawDial(t, old.client)

	c.signal(old, syscall.SIGSTOP)
	paused := true
	defer func() {
		if paused {
			c.signal(old, syscall.SIGCONT)
		}
	}()
	successor, err := c.leader(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	cl = newPlain([]string{successor.client}, 2) // not the paused node
	defer cl.Close()
	mustSet(ctx, t, cl, "k", "new-leader")
	getConn.Write(resp.AppendCommand(nil, "GET", "k"))
	setConn.Write(resp.AppendCommand(nil, "SET", "k", "old-leader"))
	c.signal(old, syscall.SIGCONT)
	paused = false

	got, getErr := readReply(getConn)
	setReply, setErr := readReply(setConn)
	t.Logf("old leader %s answered GET with %v (%v), SET with %v (%v)", old.id, got, getErr, setReply, setErr)
	if getErr == nil && got.Text() == "before-pause" {
		t.Errorf("the resumed old leader served its stale value %q after the new leader took a write", got.Text())
	}
	final, o := cl.do(ctx, 3*time.Second, "GET", "k")
	if o != ok {
		t.Fatalf("final GET: %v %v", o, final)
	}
	acked := setErr == nil && !setReply.IsError()
	switch {
	case acked && final.Text() != "old-leader":
		t.Errorf("the old leader acknowledged SET k old-leader, but the cluster reads %q", final.Text())
	case !acked && final.Text() != "new-leader" && final.Text() != "old-leader":
		t.Errorf("the cluster reads %q, want new-leader (or old-leader, if the unanswered SET was applied)", final.Text())
	}
	leader, err := c.leader(ctx, nil)
	if err == nil && leader != old {
		err = c.caughtUp(ctx, old, leader)
	}
	if err != nil {
		t.Errorf("after SIGCONT: %v", err)
	}
}

func mustSet(ctx context.Context, t *testing.T, cl *plain, key, val string) {
	t.Helper()
	if v, o := cl.do(ctx, 3*time.Second, "SET", key, val); o != ok || v.IsError() {
		t.Fatalf("SET %s %s: %v %v", key, val, o, v)
	}
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readReply reads one reply within 10 s (a redirect, an error or a closed
// connection are all fine answers from a deposed leader).
func readReply(conn net.Conn) (resp.Value, error) {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	return resp.NewReader(conn, resp.Limits{}).ReadValue()
}
