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
		if ok := s.bind(id, cmds[i:i+1]); !ok || cmds[i].floor != 1 || cmds[i].seq != int64(i+1) {
			t.Fatalf("bind #%d: floor %d, ok %v, seq %d; want floor 1, seq %d", i, cmds[i].floor, ok, cmds[i].seq, i+1)
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
		s.bind(id, []*command{probe})
		s.release([]*command{probe})
		if probe.floor != step.wantFloor {
			t.Fatalf("after releasing %v: floor %d; want %d", step.release, probe.floor, step.wantFloor)
		}
	}
	s.lost(7)
	if s.bind(7, []*command{{write: true}}) {
		t.Fatal("bind to a lost session succeeded")
	}
}

// TestStamped: a lone session write goes wrapped, KVORUM.SEQ id seq floor
// followed by the command's own elements (nested values intact); a run of
// one session's consecutive seqs under one floor goes as one KVORUM.SEQS
// frame where the connection takes frames, and wrapped one by one where
// it does not; a write without a session goes as the caller gave it. ends
// marks each command's last byte, a frame's header counted in its first.
func TestStamped(t *testing.T) {
	mk := func(sid, seq, floor int64, args ...any) *command {
		cmd, err := newCommand(args)
		if err != nil {
			t.Fatal(err)
		}
		cmd.sid, cmd.seq, cmd.floor = sid, seq, floor
		return cmd
	}
	nested := []any{"SET", "k", map[string]any{"a": []any{1, "x"}}}
	cmds := []*command{
		mk(12, 34, 30, nested...),
		mk(12, 35, 30, "INCR", "n"),
		mk(12, 36, 30, "INCR", "n"),
		mk(0, 0, 0, "GET", "n"),    // no session: plain
		mk(12, 37, 30, "DEL", "k"), // alone after the GET: wrapped
		mk(12, 40, 31, "DEL", "a"), // not the next seq: wrapped
		mk(12, 41, 32, "DEL", "b"), // another floor: wrapped
	}
	elems := func(cmd *command) []resp.Value {
		v, err := resp.NewReader(bufio.NewReader(bytes.NewReader(cmd.enc)), resp.Limits{}).ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		return v.Elems()
	}
	bulk := func(s ...string) []resp.Value {
		var out []resp.Value
		for _, x := range s {
			out = append(out, resp.BulkString(x))
		}
		return out
	}
	wrapped := func(cmd *command, id, seq, floor string) resp.Value {
		return resp.Array(append(bulk("KVORUM.SEQ", id, seq, floor), elems(cmd)...)...)
	}
	for _, frames := range []bool{true, false} {
		var want []resp.Value
		if frames {
			want = append(want, resp.Array(bulk("KVORUM.SEQS", "12", "34", "30", "3")...),
				resp.Array(elems(cmds[0])...), resp.Array(elems(cmds[1])...), resp.Array(elems(cmds[2])...))
		} else {
			want = append(want, wrapped(cmds[0], "12", "34", "30"), wrapped(cmds[1], "12", "35", "30"), wrapped(cmds[2], "12", "36", "30"))
		}
		want = append(want, resp.Array(elems(cmds[3])...), wrapped(cmds[4], "12", "37", "30"),
			wrapped(cmds[5], "12", "40", "31"), wrapped(cmds[6], "12", "41", "32"))
		buf, ends := appendStamped(nil, nil, cmds, frames)
		if len(ends) != len(cmds) || ends[len(ends)-1] != len(buf) {
			t.Fatalf("frames %v: ends %v for %d commands in %d bytes", frames, ends, len(cmds), len(buf))
		}
		rd := resp.NewReader(bufio.NewReader(bytes.NewReader(buf)), resp.Limits{})
		var got []resp.Value
		for range want {
			v, err := rd.ReadValue()
			if err != nil {
				t.Fatalf("frames %v: reading request %d back: %v", frames, len(got), err)
			}
			got = append(got, v)
		}
		for i := range want {
			if !resp.Equal(got[i], want[i]) {
				t.Fatalf("frames %v: request %d is %v; want %v", frames, i, got[i], want[i])
			}
		}
		// The frame's header and first write end together; every command's
		// bytes end where the next request starts.
		off := 0
		for i, cmd := range cmds {
			size := len(cmd.enc)
			if i == 0 && frames {
				size = ends[0]
			} else if cmd.sid != 0 && !(frames && i < 3) {
				size = len(appendWrapped(nil, cmd))
			}
			if ends[i]-off != size {
				t.Fatalf("frames %v: command %d takes %d bytes; want %d", frames, i, ends[i]-off, size)
			}
			off = ends[i]
		}
	}
}

// A run longer than a node takes in one frame goes as several.
func TestStamped_LongRunSplits(t *testing.T) {
	cmds := make([]*command, maxFrame+2)
	for i := range cmds {
		cmd, err := newCommand([]any{"INCR", "n"})
		if err != nil {
			t.Fatal(err)
		}
		cmd.sid, cmd.seq, cmd.floor = 3, int64(i+1), 1
		cmds[i] = cmd
	}
	buf, ends := appendStamped(nil, nil, cmds, true)
	if len(ends) != len(cmds) {
		t.Fatalf("%d ends for %d commands", len(ends), len(cmds))
	}
	first := resp.AppendBulkInt(resp.AppendBulkInt(resp.AppendBulkInt(resp.AppendBulkInt([]byte(framePrefix), 3), 1), 1), maxFrame)
	second := resp.AppendBulkInt(resp.AppendBulkInt(resp.AppendBulkInt(resp.AppendBulkInt([]byte(framePrefix), 3), maxFrame+1), 1), 2)
	if !bytes.HasPrefix(buf, first) || bytes.Count(buf, []byte(seqsCommand)) != 2 || !bytes.Contains(buf, second) {
		t.Fatalf("a run of %d writes is not framed as %d and 2", len(cmds), maxFrame)
	}
}
