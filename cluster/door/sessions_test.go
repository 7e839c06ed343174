package door_test

import (
	"testing"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// A session's write resent on another connection applies once; reads,
// local commands and MULTI/EXEC work wrapped too.
func TestSessions_WrappedCommandsApplyOnce(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	cn.Do(t, "HELLO", "2")
	id := cn.Do(t, "KVORUM.SESSION", "OPEN").Text()
	for i := 0; i < 3; i++ {
		if v := resptest.Do(t, addr, "KVORUM.SEQ", id, "1", "1", "INCR", "n"); v.Int() != 1 {
			t.Fatalf("send %d of INCR seq 1 = %v, want 1", i+1, v)
		}
	}
	if v := cn.Do(t, "KVORUM.SEQ", id, "2", "2", "GET", "n"); v.Text() != "1" {
		t.Fatalf("wrapped GET = %v", v)
	}
	if v := cn.Do(t, "KVORUM.SEQ", id, "3", "2", "PING"); v.Text() != "PONG" {
		t.Fatalf("wrapped PING = %v", v)
	}
	for i := 0; i < 2; i++ {
		cn.Do(t, "MULTI")
		cn.Do(t, "INCR", "n")
		cn.Do(t, "INCR", "n")
		if v := cn.Do(t, "KVORUM.SEQ", id, "4", "4", "EXEC"); v.String() != "[2, 3]" {
			t.Fatalf("EXEC seq 4, send %d = %v, want [2, 3]", i+1, v)
		}
	}
	if v := cn.Do(t, "GET", "n"); v.Text() != "3" {
		t.Fatalf("GET n = %v after the resends, want 3", v)
	}
	if v := cn.Do(t, "KVORUM.SEQ", id, "x", "1", "INCR", "n"); !v.IsError() {
		t.Fatalf("a bad stamp = %v", v)
	}
	if v := cn.Do(t, "KVORUM.SEQ", "12345", "1", "1", "INCR", "n"); v.Code() != "NOSESSION" {
		t.Fatalf("an unknown session = %v", v)
	}
}

// A consumer in a session whose connection is cut while its BLPOP's pop is
// being applied does not get the item given back: its resend of the same
// seq on a new connection gets the same item.
func TestSessions_BlockingPopResend(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	id := resptest.Do(t, addr, "KVORUM.SESSION", "OPEN").Text()
	cn := resptest.Dial(t, addr)
	cn.Write(resp.AppendCommand(nil, "KVORUM.SEQ", id, "1", "1", "BLPOP", "q", "0"))
	resptest.WaitBlocked(t, addr, "1")
	resptest.Do(t, addr, "RPUSH", "q", "job")
	first, err := cn.ReadValue()
	cn.Close()
	if err != nil || first.Len() != 2 {
		t.Fatalf("BLPOP = %v, %v", first, err)
	}
	again := resptest.Do(t, addr, "KVORUM.SEQ", id, "1", "1", "BLPOP", "q", "0")
	if again.String() != first.String() {
		t.Fatalf("resent BLPOP = %v, want the first reply %v", again, first)
	}
	if v := resptest.Do(t, addr, "LLEN", "q"); v.Int() != 0 {
		t.Fatalf("LLEN q = %v: the item was given back or pushed twice", v)
	}
	if v := resptest.Do(t, addr, "KVORUM.SEQ", id, "2", "2", "BLPOP", "q", "0.05"); !v.IsNull() {
		t.Fatalf("the next seq on an empty list = %v, want a timeout", v)
	}
}
