package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// A stream's automatic IDs come from the leader's clock in the entry, so
// two replicas applying the same log give the same IDs; an ID never goes
// back when the clock does; the stream (with its last ID, which outlives
// a deletion) survives a snapshot and DUMP/RESTORE.
func TestStreams_IDsSnapshotAndDump(t *testing.T) {
	a, b := newNode(t, resp.RESP2), newNode(t, resp.RESP2)
	var ids []string
	for _, n := range []*node{a, b} {
		ids = ids[:0]
		for i, now := range []int64{1000, 1000, 999, 2000} { // the third goes back: the ID must not
			n.now = now
			v := n.apply("XADD", "s", "*", "i", i)
			ids = append(ids, v.Text())
		}
		n.apply("XDEL", "s", ids[3])
	}
	want := []string{"1000-0", "1000-1", "1000-2", "2000-0"}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("automatic IDs = %v, want %v", ids, want)
		}
	}
	sameAnswers(t, a, b, vals(req("s")))
	roundTrips(t, a.f)
	// The deleted top ID still bounds the next one.
	a.now = 1500
	if v := a.apply("XADD", "s", "*", "j", 1); v.Text() != "2000-1" {
		t.Errorf("XADD after deleting the top entry = %v, want 2000-1", v)
	}
	dump := a.read("DUMP", "s")
	a.apply("RESTORE", "copy", 0, dump)
	for _, r := range [][]any{req("XRANGE", "s", "-", "+"), req("XLEN", "s")} {
		got, wantv := a.read(append(r[:1:1], append([]any{"copy"}, r[2:]...)...)...), a.read(r...)
		if !resp.Equal(got, wantv) {
			t.Errorf("%v of the restored copy = %v, of the stream %v", r[0], got, wantv)
		}
	}
	if v := a.apply("XADD", "copy", "2000-1", "k", 1); !v.IsError() {
		t.Errorf("XADD of the top ID to the restored copy = %v, want an error (its last ID came along)", v)
	}
}
