package fsm_test

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// t0 is the leader's clock at the start of every test, Unix ms.
const t0 int64 = 1_700_000_000_000

// node is one FSM driven the way the cluster drives it: writes are encoded
// as log entries with fsm.AppendEntry and applied with Apply at the next
// index; reads go through Read. Both use the node's clock, which a test
// moves by hand.
type node struct {
	t     testing.TB
	f     *fsm.FSM
	index uint64    // index of the last entry applied
	now   int64     // the leader's clock for writes, the serving clock for reads
	mode  resp.Mode // the requesting connection's mode
}

func newNode(t testing.TB, mode resp.Mode) *node {
	n := &node{t: t, f: fsm.New(fsm.Config{}), now: t0, mode: mode}
	// A command that panics is answered with an error (guard.go), so a
	// test, or the fuzzer, would not see the bug without this check.
	t.Cleanup(func() {
		if p := n.f.Stats().CommandPanics; p != 0 {
			t.Errorf("%d command(s) panicked (answered with an internal error)", p)
		}
	})
	return n
}

// entry encodes a request as the leader logs it.
func entry(mode resp.Mode, now int64, args []resp.Value) []byte {
	return fsm.AppendEntry(nil, fsm.EntryHeader{Kind: fsm.EntryCommand, Mode: mode, Now: now}, args)
}

// apply logs args as the next entry and returns Apply's reply.
func (n *node) apply(args ...any) resp.Value {
	return n.applyData(entry(n.mode, n.now, vals(args)))
}

// applyData applies raw entry data at the next index.
func (n *node) applyData(data []byte) resp.Value {
	n.t.Helper()
	got := n.applyRaw(data)
	v, ok := got.(resp.Value)
	if !ok {
		n.t.Fatalf("Apply(%q) returned %T, want resp.Value", data, got)
	}
	return v
}

// applyRaw applies data as the entry at n's next index and returns what
// Apply returned, checking that the index counts as applied.
func (n *node) applyRaw(data []byte) interface{} {
	n.t.Helper()
	n.index++
	got := n.f.Apply(&raft.Log{Type: raft.LogCommand, Index: n.index, Data: data})
	if a := n.f.Applied(); a != n.index {
		n.t.Fatalf("after applying index %d, Applied() = %d", n.index, a)
	}
	return got
}

// logs encodes requests as the entries at n's next indexes, for
// ApplyBatch, and moves n's index past them.
func (n *node) logs(reqs ...[]any) []*raft.Log {
	out := make([]*raft.Log, len(reqs))
	for i, r := range reqs {
		n.index++
		out[i] = &raft.Log{Type: raft.LogCommand, Index: n.index, Data: entry(n.mode, n.now, vals(r))}
	}
	return out
}

// read serves args with Read, as the front door serves a read command.
func (n *node) read(args ...any) resp.Value {
	n.t.Helper()
	a := vals(args)
	cmd := n.f.Table().Lookup([]byte(a[0].Text()))
	if cmd == nil {
		n.t.Fatalf("read %v: no such command", a)
	}
	return n.f.Read(cmd, a, n.now, n.mode)
}

// do routes args as the front door does: writes (and unknown commands)
// through the log, reads through Read. A read is also sent through the log,
// and both answers must agree: a read inside an entry (EXEC, a stale
// follower's replay) sees what Read sees.
func (n *node) do(args ...any) resp.Value {
	n.t.Helper()
	a := vals(args)
	cmd := n.f.Table().Lookup([]byte(a[0].Text()))
	if cmd == nil || cmd.IsWrite() {
		return n.apply(args...)
	}
	got := n.read(args...)
	if logged := n.apply(args...); !resp.Equal(logged, got) {
		n.t.Errorf("%v: through the log %v, through Read %v", a, logged, got)
	}
	return got
}

// step is one request of a script and the reply it must get. later moves
// the clock on (ms) before the request is made.
type step struct {
	later int64
	args  []any
	want  resp.Value
}

// run plays a script with do.
func (n *node) run(steps []step) {
	n.t.Helper()
	for i, s := range steps {
		n.now += s.later
		if got := n.do(s.args...); !resp.Equal(got, s.want) {
			n.t.Errorf("step %d %v (mode %v, clock t0%+d):\n got %v\nwant %v", i, vals(s.args), n.mode, n.now-t0, got, s.want)
		}
	}
}

// runModes plays a script on a fresh node in each mode.
func runModes(t *testing.T, steps []step, modes ...resp.Mode) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) { newNode(t, m).run(steps) })
	}
}

// req builds a script's request.
func req(args ...any) []any { return args }

// Values. Go values convert as a client would send them: strings as bulk
// strings, ints as integers, []any as arrays; resp.Values stay as they are.

func vals(xs []any) []resp.Value {
	out := make([]resp.Value, len(xs))
	for i, x := range xs {
		out[i] = val(x)
	}
	return out
}

func val(x any) resp.Value {
	switch x := x.(type) {
	case resp.Value:
		return x
	case string:
		return resp.BulkString(x)
	case []byte:
		return resp.Bulk(x)
	case int:
		return resp.Int(int64(x))
	case int64:
		return resp.Int(x)
	case []any:
		return resp.Array(vals(x)...)
	case nil:
		return resp.NullBulk()
	}
	panic(fmt.Sprintf("val: unsupported %T", x))
}

func arr(xs ...any) resp.Value  { return resp.Array(vals(xs)...) }
func dict(kv ...any) resp.Value { return resp.Dict(vals(kv)...) }
func bulk(s string) resp.Value  { return resp.BulkString(s) }
func num(n int64) resp.Value    { return resp.Int(n) }

// Replies shared by the scripts.
var (
	plusOK    = resp.OK()
	null      = resp.NullBulk()
	wrongType = resp.Err("WRONGTYPE Operation against a key holding the wrong kind of value")
	syntaxErr = resp.Err("ERR syntax error")
	notInt    = resp.Err("ERR value is not an integer or out of range")
	overflow  = resp.Err("ERR increment or decrement would overflow")
	setExpire = resp.Err("ERR invalid expire time in 'set' command")
	noSuchKey = resp.Err("ERR no such key")
)

func arity(name string) resp.Value {
	return resp.Err("ERR wrong number of arguments for '" + name + "' command")
}

// Snapshots.

// memSink is an in-memory raft.SnapshotSink.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

// snapshotOf persists a snapshot of f and returns the stream.
func snapshotOf(t testing.TB, f *fsm.FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	return persist(t, snap)
}

func persist(t testing.TB, snap raft.FSMSnapshot) []byte {
	t.Helper()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("Persist left the sink closed=%v cancelled=%v, want closed only", sink.closed, sink.cancelled)
	}
	return sink.Bytes()
}

// canonical returns a snapshot stream with its key records sorted, so two
// streams of the same state compare byte for byte whatever the map order.
func canonical(t testing.TB, stream []byte) []byte {
	t.Helper()
	rd := resp.NewReader(bytes.NewReader(stream), resp.Limits{MaxBulk: 1 << 30, MaxElements: 1 << 30, MaxDepth: 1024})
	var recs [][]byte
	for {
		v, err := rd.ReadValue()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("canonical: record %d: %v", len(recs), err)
		}
		recs = append(recs, resp.AppendValue(nil, v))
	}
	if len(recs) < 2 {
		t.Fatalf("canonical: %d records, want a header and an end", len(recs))
	}
	keys := recs[1 : len(recs)-1]
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	return bytes.Join(recs, nil)
}

// dump is f's state in canonical snapshot form.
func dump(t testing.TB, f *fsm.FSM) []byte { return canonical(t, snapshotOf(t, f)) }

// restore restores stream into f.
func restore(f *fsm.FSM, stream []byte) error {
	return f.Restore(io.NopCloser(bytes.NewReader(stream)))
}
