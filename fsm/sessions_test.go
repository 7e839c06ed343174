package fsm_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// openSession opens a session on n and returns its id.
func openSession(t *testing.T, n *node, idle ...any) int64 {
	t.Helper()
	v := n.apply(append([]any{"KVORUM.SESSION", "OPEN"}, idle...)...)
	if v.Kind() != resp.KindInt || v.Int() <= 0 {
		t.Fatalf("KVORUM.SESSION OPEN = %v", v)
	}
	return v.Int()
}

func seq(id, s, floor int64, cmd ...any) []any {
	return append([]any{"KVORUM.SEQ", id, s, floor}, cmd...)
}

// The same (session, seq) applied twice writes once and answers the first
// reply both times; a new seq applies again.
func TestSessions_WriteAppliedOnce(t *testing.T) {
	n := newNode(t, resp.RESP2)
	id := openSession(t, n)
	if id != int64(n.index)<<16 {
		t.Fatalf("session id %d, want the index of the entry that opened it times 65536 (%d)", id, n.index<<16)
	}
	for i := 0; i < 2; i++ {
		if v := n.apply(seq(id, 1, 1, "INCR", "c")...); v.Int() != 1 {
			t.Fatalf("INCR seq 1, send %d = %v, want 1", i+1, v)
		}
	}
	if v := n.apply(seq(id, 2, 1, "INCR", "c")...); v.Int() != 2 {
		t.Fatalf("INCR seq 2 = %v, want 2", v)
	}
	if v := n.read("GET", "c"); v.Text() != "2" {
		t.Fatalf("GET c = %v after three sends of two writes, want 2", v)
	}
	// Acknowledged: the floor moves past 1, and a resend of 1 is refused.
	if v := n.apply(seq(id, 3, 3, "INCR", "c")...); v.Int() != 3 {
		t.Fatalf("INCR seq 3 = %v", v)
	}
	if v := n.apply(seq(id, 1, 3, "INCR", "c")...); v.Text() != "ERR seq below the acknowledged floor" {
		t.Fatalf("resend below the floor = %v", v)
	}
	if v := n.apply(seq(999, 1, 1, "INCR", "c")...); v.Code() != "NOSESSION" {
		t.Fatalf("unknown session = %v", v)
	}
}

// A pop resent after its reply was lost gets the same item back, not a
// second one and not nothing; a blocking attempt that found nothing is not
// cached, so the next attempt of the same seq still pops.
func TestSessions_PopResendGetsTheSameItem(t *testing.T) {
	n := newNode(t, resp.RESP2)
	id := openSession(t, n)
	n.apply("RPUSH", "q", "a", "b", "c")
	first := n.apply(seq(id, 1, 1, "LPOP", "q")...)
	again := n.apply(seq(id, 1, 1, "LPOP", "q")...)
	if first.Text() != "a" || !resp.Equal(first, again) {
		t.Fatalf("LPOP then its resend = %v, %v; want a twice", first, again)
	}
	if v := n.apply(seq(id, 2, 1, "BLPOP", "empty", 0)...); !v.IsNull() {
		t.Fatalf("BLPOP on nothing = %v", v)
	}
	n.apply("RPUSH", "empty", "x")
	for i := 0; i < 2; i++ {
		if v := n.apply(seq(id, 2, 1, "BLPOP", "empty", 0)...); v.Len() != 2 || v.Elems()[1].Text() != "x" {
			t.Fatalf("BLPOP attempt %d of seq 2 = %v, want [empty x]", i+1, v)
		}
	}
	moved := n.apply(seq(id, 3, 1, "BLMOVE", "q", "processing", "LEFT", "RIGHT", 0)...)
	if again := n.apply(seq(id, 3, 1, "BLMOVE", "q", "processing", "LEFT", "RIGHT", 0)...); moved.Text() != "b" || !resp.Equal(moved, again) {
		t.Fatalf("BLMOVE then its resend = %v, %v", moved, again)
	}
	if v := n.read("LRANGE", "q", 0, -1); v.Len() != 1 {
		t.Fatalf("q = %v, want [c]", v)
	}
}

// EXEC in a session is one seq: its resend answers the first EXEC's replies.
func TestSessions_ExecOnce(t *testing.T) {
	n := newNode(t, resp.RESP2)
	id := openSession(t, n)
	exec := seq(id, 1, 1, fsm.ExecCommand, arr(), arr(arr("INCR", "c"), arr("INCR", "c")))
	first, again := n.apply(exec...), n.apply(exec...)
	if !resp.Equal(first, arr(1, 2)) || !resp.Equal(first, again) {
		t.Fatalf("EXEC then its resend = %v, %v; want [1 2] twice", first, again)
	}
	if v := n.apply(seq(id, 2, 1, "KVORUM.SEQ", id, 3, 1, "INCR", "c")...); v.IsError() == false {
		t.Fatalf("a nested KVORUM.SEQ = %v, want an error", v)
	}
}

// Sessions expire after their idle time in log time, and survive a
// snapshot and restore with their cached replies.
func TestSessions_ExpiryAndSnapshot(t *testing.T) {
	n := newNode(t, resp.RESP2)
	short := openSession(t, n, 1000)
	long := openSession(t, n)
	n.apply(seq(long, 1, 1, "INCR", "c")...)
	n.now += 1500
	if v := n.apply(seq(short, 1, 1, "INCR", "c")...); v.Code() != "NOSESSION" {
		t.Fatalf("a session idle past its time = %v, want NOSESSION", v)
	}
	restored := newNode(t, resp.RESP2)
	if err := restore(restored.f, snapshotOf(t, n.f)); err != nil {
		t.Fatal(err)
	}
	restored.index, restored.now = n.index, n.now
	if !bytes.Equal(dump(t, restored.f), dump(t, n.f)) {
		t.Fatal("the restored state differs")
	}
	if v := restored.apply(seq(long, 1, 1, "INCR", "c")...); v.Int() != 1 {
		t.Fatalf("resend after restore = %v, want the cached 1", v)
	}
	if v := restored.read("GET", "c"); v.Text() != "1" {
		t.Fatalf("GET c after restore and resend = %v, want 1", v)
	}
	if n.f.Sessions() != restored.f.Sessions() {
		t.Fatalf("sessions: %d before, %d after restore", n.f.Sessions(), restored.f.Sessions())
	}
}

// Sessions opened by commands of one batch entry (the proposer puts many
// clients' writes in one) get distinct ids.
func TestSessions_OpenedInOneBatchAreDistinct(t *testing.T) {
	n := newNode(t, resp.RESP2)
	body := fsm.AppendBatchItem(nil, resp.RESP2, vals(req("KVORUM.SESSION", "OPEN")))
	body = fsm.AppendBatchItem(body, resp.RESP2, vals(req("KVORUM.SESSION", "OPEN")))
	n.index++
	out := n.f.Apply(&raft.Log{Type: raft.LogCommand, Index: n.index, Data: fsm.AppendBatchEntry(nil, n.now, 2, body)})
	got, _ := out.([]resp.Value)
	if len(got) != 2 || got[0].Int() == got[1].Int() {
		t.Fatalf("two opens in one entry = %v, want two ids", got)
	}
	for i, v := range got {
		if r := n.apply(seq(v.Int(), 1, 1, "INCR", "c")...); r.Int() != int64(i+1) {
			t.Fatalf("INCR in session %d = %v, want %d", i, r, i+1)
		}
	}
}

// A session write in a batch entry is stored compactly (AppendBatchItem)
// and deduplicated against the same seq sent wrapped, either way round: a
// resend may reach a leader that logs it in the other form.
func TestSessions_BatchItemDedupesWithWrapped(t *testing.T) {
	n := newNode(t, resp.RESP2)
	id := openSession(t, n)
	applyItem := func(args ...any) resp.Value {
		t.Helper()
		item := fsm.AppendBatchItem(nil, resp.RESP2, vals(args))
		n.index++
		out, _ := n.f.Apply(&raft.Log{Type: raft.LogCommand, Index: n.index, Data: fsm.AppendBatchEntry(nil, n.now, 1, item)}).([]resp.Value)
		if len(out) != 1 {
			t.Fatalf("batch of one answered %v", out)
		}
		return out[0]
	}
	wrapped := resp.AppendValue(nil, resp.Array(vals(seq(id, 1, 1, "INCR", "c"))...))
	if item := fsm.AppendBatchItem(nil, resp.RESP2, vals(seq(id, 1, 1, "INCR", "c"))); len(item) >= len(wrapped) {
		t.Errorf("batch item %q is no shorter than the wrapped request %q", item, wrapped)
	}
	for i, v := range []resp.Value{
		applyItem(seq(id, 1, 1, "INCR", "c")...), n.apply(seq(id, 1, 1, "INCR", "c")...), applyItem(seq(id, 1, 1, "incr", "c")...),
	} {
		if v.Int() != 1 {
			t.Fatalf("send %d of seq 1 = %v, want 1", i+1, v)
		}
	}
	if v := n.apply(seq(id, 2, 1, "INCR", "c")...); v.Int() != 2 {
		t.Fatalf("seq 2 wrapped = %v, want 2", v)
	}
	if v := applyItem("kvorum.seq", id, 2, 2, "INCR", "c"); v.Int() != 2 {
		t.Fatalf("seq 2 as a batch item = %v, want the cached 2", v)
	}
	if v := applyItem(seq(id, 0, 1, "INCR", "c")...); !v.IsError() {
		t.Fatalf("seq 0 as a batch item = %v, want an error", v)
	}
	if v := n.read("GET", "c"); v.Text() != "2" {
		t.Fatalf("GET c = %v, want 2", v)
	}
}

// BenchmarkSessions_IdleMemory reports the heap an open, idle session costs
// (no unacknowledged replies), as bytes/session.
func BenchmarkSessions_IdleMemory(b *testing.B) {
	const sessions = 20000
	for i := 0; i < b.N; i++ {
		n := newNode(b, resp.RESP2)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := 0; j < sessions; j++ {
			n.apply("KVORUM.SESSION", "OPEN")
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/sessions, "bytes/session")
		if n.f.Sessions() != sessions {
			b.Fatalf("%d sessions open, want %d", n.f.Sessions(), sessions)
		}
	}
}

// The session's window of replies: seqs applied out of order, across the
// ring's growth and wrap-around, are each answered from the cache on a
// resend; the floor frees what it passes; a seq too far above the floor is
// refused and applies nothing; and the window survives a snapshot.
func TestSessions_Window(t *testing.T) {
	n := newNode(t, resp.RESP2)
	id := openSession(t, n)
	var floor int64 = 1
	next := int64(1)
	first := map[int64]int64{} // seq -> its first reply
	// Rounds of 40 writes in flight, applied odd seqs first, then even, the
	// floor trailing by the round: the ring (16 slots at first) grows, and
	// the acks move its head round and round.
	for round := 0; round < 20; round++ {
		start := next
		for _, parity := range []int64{1, 0} {
			for s := start; s < start+40; s++ {
				if s%2 == parity {
					v := n.apply(seq(id, s, floor, "INCR", "c")...)
					if v.IsError() {
						t.Fatalf("seq %d: %v", s, v)
					}
					first[s] = v.Int()
				}
			}
		}
		next = start + 40
		for s := floor; s < next; s++ { // each resend answers its own first reply
			if v := n.apply(seq(id, s, floor, "INCR", "c")...); v.IsError() || v.Int() != first[s] {
				t.Fatalf("resend of seq %d = %v, want its first reply %d", s, v, first[s])
			}
		}
		floor = start // everything before this round is acknowledged
	}
	if v := n.read("GET", "c"); v.Text() != "800" {
		t.Fatalf("GET c = %v after 800 writes and their resends, want 800", v)
	}
	if v := n.apply(seq(id, floor-1, floor, "INCR", "c")...); v.Text() != "ERR seq below the acknowledged floor" {
		t.Fatalf("below the floor = %v", v)
	}
	// A seq far beyond the ring's reach is kept too (in the session's map),
	// answered on a resend, and survives the snapshot below.
	far := floor + 100_000
	if v := n.apply(seq(id, far, floor, "INCR", "c")...); v.Int() != 801 {
		t.Fatalf("a seq 100,000 above the floor = %v, want 801", v)
	}
	first[far] = 801
	if v := n.apply(seq(id, far, floor, "INCR", "c")...); v.Int() != 801 {
		t.Fatalf("resend of the far seq = %v, want 801", v)
	}
	restored := newNode(t, resp.RESP2)
	if err := restore(restored.f, snapshotOf(t, n.f)); err != nil {
		t.Fatal(err)
	}
	restored.index, restored.now = n.index, n.now
	if !bytes.Equal(dump(t, restored.f), dump(t, n.f)) {
		t.Fatal("the restored state differs")
	}
	for _, s := range append(seqRange(floor, next), far) {
		if v := restored.apply(seq(id, s, floor, "INCR", "c")...); v.IsError() || v.Int() != first[s] {
			t.Fatalf("resend of seq %d after the snapshot = %v, want its first reply %d", s, v, first[s])
		}
	}
	// Acknowledged, the far reply is gone: a resend is below the floor.
	if v := n.apply(seq(id, far+1, far+1, "INCR", "c")...); v.IsError() {
		t.Fatalf("a write that acknowledges the far seq = %v", v)
	}
	if v := n.apply(seq(id, far, far+1, "INCR", "c")...); v.Text() != "ERR seq below the acknowledged floor" {
		t.Fatalf("resend of the far seq once acknowledged = %v", v)
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s < to; s++ {
		out = append(out, s)
	}
	return out
}

// A session keeps at most maxSessionReplies unacknowledged replies: the
// next write is refused and applies nothing, however the seqs are spread.
func TestSessions_ReplyBound(t *testing.T) {
	n := newNode(t, resp.RESP2)
	id := openSession(t, n)
	for s := int64(1); s <= 65536; s++ {
		at := s
		if s%2 == 0 {
			at = s * 3 // spread: many beyond the ring's reach
		}
		if v := n.apply(seq(id, at, 1, "INCR", "c")...); v.IsError() {
			t.Fatalf("write %d (seq %d): %v", s, at, v)
		}
	}
	if v := n.apply(seq(id, 300000, 1, "INCR", "c")...); v.Text() != "ERR too many unacknowledged writes in this session" {
		t.Fatalf("write 65,537 unacknowledged = %v, want the bound's error", v)
	}
	if v := n.read("GET", "c"); v.Text() != "65536" {
		t.Fatalf("GET c = %v, want 65536: the refused write applied", v)
	}
}

// A body written with ItemWriter.Runs stores a pipeline's session writes
// with one full stamp and seq deltas after it; applied, it answers and
// ends exactly as the same writes each stamped in full (AppendBatchItem)
// do: pipelines of two sessions interleaved, a plain write and a refused
// stamp between them, a floor that moves, a resend of a lower seq, an
// unknown session, and a session's first write in a new body.
func TestSessions_RunFormAppliesAsFullStamps(t *testing.T) {
	full, runs := newNode(t, resp.RESP2), newNode(t, resp.RESP2)
	a, b := openSession(t, full), openSession(t, full)
	if a2, b2 := openSession(t, runs), openSession(t, runs); a2 != a || b2 != b {
		t.Fatalf("sessions %d %d and %d %d: the two nodes differ", a, b, a2, b2)
	}
	bodies := [][][]any{
		{seq(a, 1, 1, "INCR", "x"), seq(a, 2, 1, "INCR", "x"), seq(a, 3, 1, "RPUSH", "q", "j1"), seq(b, 1, 1, "INCR", "y"),
			seq(b, 2, 1, "INCR", "y"), seq(a, 4, 1, "SET", "k", "v"), req("INCR", "x"), seq(a, 5, 1, "INCR", "x"),
			seq(a, 6, 3, "INCR", "x"), seq(a, 7, 3, "LPOP", "q"), seq(a, 2, 3, "INCR", "x"), seq(a, 8, 3, "INCR", "x"),
			seq(a, 10, 3, "INCR", "x"), seq(99, 1, 1, "INCR", "x"), seq(99, 2, 1, "INCR", "x"), seq(a, 0, 1, "INCR", "x"),
			seq(a, 11, 3, "INCR", "x")},
		{seq(a, 11, 3, "INCR", "x"), seq(a, 12, 3, "INCR", "x"), seq(b, 3, 2, "GET", "y"), seq(b, 4, 2, "INCR", "y")},
	}
	var fullBytes, runBytes int
	for _, body := range bodies {
		var fb, rb []byte
		w := fsm.ItemWriter{Runs: true}
		for _, args := range body {
			fb = fsm.AppendBatchItem(fb, resp.RESP2, vals(args))
			rb = w.Append(rb, resp.RESP2, vals(args))
		}
		fullBytes, runBytes = fullBytes+len(fb), runBytes+len(rb)
		apply := func(n *node, b []byte) []resp.Value {
			n.index++
			out, _ := n.f.Apply(&raft.Log{Type: raft.LogCommand, Index: n.index, Data: fsm.AppendBatchEntry(nil, n.now, len(body), b)}).([]resp.Value)
			return out
		}
		want, got := apply(full, fb), apply(runs, rb)
		if resp.Array(got...).String() != resp.Array(want...).String() {
			t.Fatalf("run form answered\n%v\nfull stamps\n%v", got, want)
		}
		for _, v := range want {
			if v.Code() == "ERR" && strings.Contains(v.Text(), "batch") {
				t.Fatalf("an item was refused as malformed: %v", want)
			}
		}
	}
	if !bytes.Equal(dump(t, runs.f), dump(t, full.f)) {
		t.Error("the final states differ")
	}
	if runBytes >= fullBytes-10*8 { // ten writes of the bodies follow one of their pipeline
		t.Errorf("run form %d bytes against %d: the runs saved too little", runBytes, fullBytes)
	}
	// A run item with no session write before it in its body is refused,
	// as is a zero delta; nothing is applied.
	for _, bad := range []string{":1\r\n:1\r\n*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n", ":1\r\n:7\r\n:1\r\n:0\r\n*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n:1\r\n:0\r\n*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n"} {
		runs.index++
		n := strings.Count(bad, "INCR")
		out, _ := runs.f.Apply(&raft.Log{Type: raft.LogCommand, Index: runs.index, Data: fsm.AppendBatchEntry(nil, runs.now, n, []byte(bad))}).([]resp.Value)
		if v := out[len(out)-1]; !v.IsError() {
			t.Errorf("a run item %q answered %v; want an error", bad, out)
		}
	}
	if v := runs.apply("EXISTS", "z"); v.Int() != 0 {
		t.Errorf("a refused run item wrote z")
	}
}
