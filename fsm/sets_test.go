package fsm_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// The set commands in Redis mode; SPOP is deterministic (smallest first).
func TestSets_Commands(t *testing.T) {
	runModes(t, []step{
		{args: req("SADD", "s", "b", "a", "c", "a"), want: num(3)},
		{args: req("SMEMBERS", "s"), want: arr("a", "b", "c")},
		{args: req("SISMEMBER", "s", "b"), want: num(1)},
		{args: req("SISMEMBER", "s", "z"), want: num(0)},
		{args: req("SCARD", "s"), want: num(3)},
		{args: req("SREM", "s", "b", "z"), want: num(1)},
		{args: req("SPOP", "s"), want: bulk("a")},
		{args: req("SPOP", "s", 5), want: arr("c")},
		{args: req("EXISTS", "s"), want: num(0)},
		{args: req("SPOP", "s"), want: null},
		{args: req("SMEMBERS", "missing"), want: arr()},
		{args: req("SADD", "t", "m"), want: num(1)},
		{args: req("TYPE", "t"), want: resp.Simple("set")},
		{args: req("LPUSH", "t", "v"), want: wrongType},
		{args: req("ZADD", "t", 1, "v"), want: wrongType},
		{args: req("HSET", "t", "f", "v"), want: wrongType},
		{args: req("RPUSH", "l", "v"), want: num(1)},
		{args: req("SADD", "l", "v"), want: wrongType},
	}, resp.RESP2)
}

// A set survives a snapshot as a set, isolated from later changes.
func TestSets_Snapshot(t *testing.T) {
	n := newNode(t, resp.RESP2)
	n.apply("SADD", "s", "x", "y")
	snap, err := n.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	n.apply("SREM", "s", "x")
	n.apply("SADD", "s", "z")
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	restored := fsm.New(fsm.Config{})
	if err := restored.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	got := restored.Read(restored.Table().Lookup([]byte("SMEMBERS")), vals([]any{"SMEMBERS", "s"}), t0, resp.RESP2)
	if !resp.Equal(got, arr("x", "y")) {
		t.Fatalf("restored set = %v, want [x y]", got)
	}
}
