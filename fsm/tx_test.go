package fsm_test

import (
	"slices"
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// The pushes of a transaction's commands (RPUSH, ZADD, RENAME of a list)
// reach OnPush like those of the same commands logged alone, so an EXEC
// wakes the pops blocked on its keys.
func TestTx_ExecReportsPushes(t *testing.T) {
	var pushed []string
	f := fsm.New(fsm.Config{OnPush: func(_, _ uint64, keys []string) { pushed = append(pushed, keys...) }})
	n := &node{t: t, f: f, mode: resp.RESP2, now: t0}
	got := n.apply(fsm.ExecCommand, arr(), arr(
		req("RPUSH", "src", "a"),
		req("SET", "s", "v"),
		req("RENAME", "src", "dst"),
		req("ZADD", "z", 1, "m"),
	))
	if want := arr(num(1), plusOK, plusOK, num(1)); !resp.Equal(got, want) {
		t.Fatalf("EXEC = %v, want %v", got, want)
	}
	if want := []string{"src", "dst", "z"}; !slices.Equal(pushed, want) {
		t.Fatalf("OnPush saw %v, want %v", pushed, want)
	}
}
