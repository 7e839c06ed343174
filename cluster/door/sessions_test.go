package door_test

import (
	"strings"
	"testing"
	"time"

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

// pipeline writes the requests in one write on cn and reads want replies,
// failing t if they do not come within 10s.
func pipeline(t *testing.T, cn *resptest.Conn, want int, reqs ...[]string) []resp.Value {
	t.Helper()
	var buf []byte
	for _, r := range reqs {
		buf = resp.AppendCommand(buf, r...)
	}
	cn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cn.Write(buf); err != nil {
		t.Fatalf("write: %v", err)
	}
	out := make([]resp.Value, want)
	for i := range out {
		v, err := cn.ReadValue()
		if err != nil {
			t.Fatalf("reply %d of %d: %v", i+1, want, err)
		}
		out[i] = v
	}
	return out
}

// A KVORUM.SEQS frame stamps the requests after it with consecutive seqs:
// each answers as its wrapped twin would (the header answers nothing), a
// resent frame applies nothing again, and the request after the frame is
// bare again. A refused header closes the connection before the writes it
// announced can be served bare; a frame cannot stamp a stamp.
func TestSessions_FramedWritesApplyOnce(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	id := resptest.Do(t, addr, "KVORUM.SESSION", "OPEN").Text()
	incr := []string{"INCR", "n"}
	// The GET is served bare, so the resend reads the value as it is now.
	for send, want := range []string{`[1, 2, 2, 3, "PONG"]`, `[1, 2, 3, 3, "PONG"]`} {
		cn := resptest.Dial(t, addr)
		got := pipeline(t, cn, 5, []string{"KVORUM.SEQS", id, "1", "1", "4"}, incr, incr, []string{"GET", "n"}, incr, []string{"PING"})
		cn.Close()
		if s := resp.Array(got...).String(); s != want {
			t.Fatalf("send %d of the frame: %s; want %s", send+1, s, want)
		}
	}
	if v := resptest.Do(t, addr, "KVORUM.SEQ", id, "2", "1", "INCR", "n"); v.Int() != 2 {
		t.Fatalf("seq 2 wrapped after the frame = %v; want the frame's reply 2", v)
	}
	if v := resptest.Do(t, addr, "GET", "n"); v.Text() != "3" {
		t.Fatalf("GET n = %v; want 3: the frame applied once", v)
	}

	cn := resptest.Dial(t, addr)
	defer cn.Close()
	got := pipeline(t, cn, 2, []string{"KVORUM.SEQS", id, "5", "5", "1"}, []string{"KVORUM.SEQ", id, "6", "5", "INCR", "n"}, incr)
	if !got[0].IsError() || !strings.Contains(got[0].Text(), "cannot be stamped") || got[1].Int() != 4 {
		t.Fatalf("a stamp in a frame, then a bare INCR: %v; want the nesting error, then 4", got)
	}
	for _, bad := range [][]string{
		{"KVORUM.SEQS", id, "7", "7", "0"},
		{"KVORUM.SEQS", id, "7", "7", "65537"},
		{"KVORUM.SEQS", id, "x", "7", "1"},
		{"KVORUM.SEQS", id, "7", "7"},
	} {
		cn := resptest.Dial(t, addr)
		got := pipeline(t, cn, 1, bad, incr, incr)
		if !got[0].IsError() {
			t.Fatalf("%v = %v; want an error", bad, got[0])
		}
		if v, err := cn.ReadValue(); err == nil {
			t.Fatalf("after the refused %v the connection answered %v; want it closed", bad, v)
		}
		cn.Close()
	}
	// A header inside a frame, and one in RESP2's subscribe mode, are
	// refused the same way.
	for _, c := range []struct {
		name string
		pre  [][]string
		want int // replies before the refusal
	}{
		{"a header framed by another", [][]string{{"KVORUM.SEQS", id, "7", "7", "1"}}, 0},
		{"a header in subscribe mode", [][]string{{"HELLO", "2"}, {"SUBSCRIBE", "ch"}}, 2},
	} {
		cn := resptest.Dial(t, addr)
		reqs := append(c.pre, []string{"KVORUM.SEQS", id, "8", "8", "1"}, incr, incr)
		got := pipeline(t, cn, c.want+1, reqs...)
		if !got[c.want].IsError() {
			t.Fatalf("%s: %v; want an error after %d replies", c.name, got, c.want)
		}
		if v, err := cn.ReadValue(); err == nil {
			t.Fatalf("after %s the connection answered %v; want it closed", c.name, v)
		}
		cn.Close()
	}
	if v := resptest.Do(t, addr, "GET", "n"); v.Text() != "4" {
		t.Fatalf("GET n = %v; want 4: no write after a refused header was served", v)
	}
}
