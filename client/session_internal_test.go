package client

import (
	"bufio"
	"bytes"
	"context"
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// TestSessions_Floor: the floor is the lowest seq still bound to a call,
// or the next seq when none is, whatever order calls finish in.
func TestSessions_Floor(t *testing.T) {
	var s sessions
	open := func(context.Context) (int64, error) { return 7, nil }
	id, err := s.current(context.Background(), nil, open)
	if err != nil || id != 7 {
		t.Fatalf("current = %d, %v", id, err)
	}
	cmds := make([]*command, 5)
	for i := range cmds {
		cmds[i] = &command{write: true}
		if floor, ok := s.bind(id, cmds[i:i+1]); !ok || floor != 1 || cmds[i].seq != int64(i+1) {
			t.Fatalf("bind #%d: floor %d, ok %v, seq %d; want floor 1, seq %d", i, floor, ok, cmds[i].seq, i+1)
		}
	}
	for _, step := range []struct {
		release   []int
		wantFloor int64
	}{
		{[]int{1, 3}, 1}, // seqs 2 and 4 done; 1 still in flight
		{[]int{0}, 3},    // 1 done, and 2 (and 6, the probe below): the floor is 3
		{[]int{2, 4}, 8}, // all done (7 too): the next seq, the probe's own
	} {
		var rel []*command
		for _, i := range step.release {
			rel = append(rel, cmds[i])
		}
		s.release(rel)
		probe := &command{write: true}
		floor, _ := s.bind(id, []*command{probe})
		s.release([]*command{probe})
		if floor != step.wantFloor {
			t.Fatalf("after releasing %v: floor %d; want %d", step.release, floor, step.wantFloor)
		}
	}
	s.lost(7)
	if _, ok := s.bind(7, []*command{{write: true}}); ok {
		t.Fatal("bind to a lost session succeeded")
	}
}

// TestWrap: a wrapped request reads back as KVORUM.SEQ id seq floor
// followed by the command's own elements, nested values intact.
func TestWrap(t *testing.T) {
	cmd, err := newCommand([]any{"SET", "k", map[string]any{"a": []any{1, "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	cmd.sid, cmd.seq = 12, 34
	wrap([]*command{cmd}, 12, 30)
	got, err := resp.NewReader(bufio.NewReader(bytes.NewReader(cmd.enc)), resp.Limits{}).ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := resp.NewReader(bufio.NewReader(bytes.NewReader(cmd.plain)), resp.Limits{}).ReadValue()
	want := append([]resp.Value{resp.BulkString("KVORUM.SEQ"), resp.BulkString("12"), resp.BulkString("34"), resp.BulkString("30")}, plain.Elems()...)
	if !resp.Equal(got, resp.Array(want...)) {
		t.Fatalf("wrapped %v; want %v", got, resp.Array(want...))
	}
	if len(cmd.enc) > len(cmd.plain)+wrapOverhead {
		t.Fatalf("wrapper of %d bytes exceeds wrapOverhead %d", len(cmd.enc)-len(cmd.plain), wrapOverhead)
	}
}
