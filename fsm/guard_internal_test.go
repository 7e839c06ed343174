package fsm

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/resp"
)

// guardedFSM is an FSM with two commands that panic: TEST.PANIC (a write
// that stores key "half" first) and TEST.PANICREAD (a read). Its log goes
// to the returned buffer.
func guardedFSM(t *testing.T) (*FSM, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	f := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	f.table.add([]Command{
		{Name: "TEST.PANIC", Arity: 1, Flags: Write, Run: func(c *Ctx, _ []resp.Value) resp.Value {
			c.State.put("half", &Entry{Value: resp.BulkString("stored before the panic")})
			var m map[string]int
			m["boom"] = 1 // a nil-map write: a runtime panic, as a real bug would be
			return resp.OK()
		}},
		{Name: "TEST.PANICREAD", Arity: 1, Flags: Read, Run: func(*Ctx, []resp.Value) resp.Value { panic("read boom") }},
	})
	return f, &logs
}

func bulks(words ...string) []resp.Value {
	out := make([]resp.Value, len(words))
	for i, w := range words {
		out[i] = resp.BulkString(w)
	}
	return out
}

func wantPanicReply(t *testing.T, what string, got resp.Value, cmd string) {
	t.Helper()
	if got.Kind() != resp.KindError || !strings.Contains(got.Text(), "internal error in '"+cmd+"'") {
		t.Errorf("%s: reply %v, want an internal error naming %s", what, got, cmd)
	}
}

// A command that panics in apply is answered with an error, logged with
// its stack and counted, and the FSM goes on: the entry counts as applied,
// the other commands of its batch and of its transaction run, and later
// entries apply. Without the guard the panic would end the process (and,
// the entry being in every replica's log, every node at every restart).
func TestFSM_CommandPanicIsAnErrorReply(t *testing.T) {
	f, logs := guardedFSM(t)
	const now = 1_700_000_000_000
	index := uint64(0)
	apply := func(data []byte) interface{} {
		index++
		got := f.Apply(&raft.Log{Type: raft.LogCommand, Index: index, Data: data})
		if f.Applied() != index {
			t.Fatalf("after the entry at %d, Applied() = %d", index, f.Applied())
		}
		return got
	}
	command := func(words ...string) []byte {
		return AppendEntry(nil, EntryHeader{Kind: EntryCommand, Mode: resp.RESP2, Now: now}, bulks(words...))
	}

	// One command in its own entry.
	wantPanicReply(t, "entry", apply(command("TEST.PANIC")).(resp.Value), "test.panic")
	if e := f.state.get("half", now); e == nil {
		t.Error("what the command stored before it panicked is gone; it must stay, as on every replica")
	}

	// In a batch: the items around it run.
	var body []byte
	for _, words := range [][]string{{"SET", "a", "1"}, {"TEST.PANIC"}, {"SET", "b", "2"}} {
		body = AppendBatchItem(body, resp.RESP2, bulks(words...))
	}
	replies := apply(AppendBatchEntry(nil, now, 3, body)).([]resp.Value)
	if len(replies) != 3 || !resp.Equal(replies[0], resp.OK()) || !resp.Equal(replies[2], resp.OK()) {
		t.Fatalf("batch replies %v, want OK, an error, OK", replies)
	}
	wantPanicReply(t, "batch item", replies[1], "test.panic")

	// In a transaction: the other commands run, as after any error in EXEC.
	exec := resp.Array(resp.BulkString(ExecCommand), resp.Array(),
		resp.Array(resp.Array(bulks("SET", "x", "1")...), resp.Array(bulks("TEST.PANIC")...), resp.Array(bulks("SET", "y", "2")...)))
	got := apply(AppendEntry(nil, EntryHeader{Kind: EntryCommand, Mode: resp.RESP2, Now: now}, exec.Elems())).(resp.Value)
	if got.Kind() != resp.KindArray || got.Len() != 3 {
		t.Fatalf("EXEC reply %v, want three replies", got)
	}
	wantPanicReply(t, "EXEC", got.Elems()[1], "test.panic")
	for _, k := range []string{"a", "b", "x", "y"} {
		if f.state.get(k, now) == nil {
			t.Errorf("key %s missing: a command beside the panicking one did not run", k)
		}
	}

	// A read that panics.
	wantPanicReply(t, "read", f.Read(f.table.Lookup([]byte("TEST.PANICREAD")), bulks("TEST.PANICREAD"), now, resp.RESP2), "test.panicread")

	// Later entries apply as ever.
	if got := apply(command("SET", "after", "v")).(resp.Value); !resp.Equal(got, resp.OK()) {
		t.Errorf("SET after the panics: %v", got)
	}
	if n := f.Stats().CommandPanics; n != 4 {
		t.Errorf("Stats().CommandPanics = %d, want 4", n)
	}
	out := logs.String()
	if c := strings.Count(out, "command panicked"); c != 4 {
		t.Errorf("%d panics logged, want 4:\n%s", c, out)
	}
	for _, want := range []string{"assignment to entry in nil map", "read boom", "guard_internal_test.go", "item=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not say %q:\n%s", want, out)
		}
	}
}
