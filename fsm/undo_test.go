package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// Each blocking command's Undo, applied after one of its attempts, leaves
// the store as it was before the attempt: the item a vanished client's pop
// took is back at the end it came from, with its kind.
func TestUndo_GivesBackWhatAnAttemptTook(t *testing.T) {
	cases := []struct {
		setup   [][]any
		attempt []any
		check   []any
		want    resp.Value
		want2   any // after a Redis-mode attempt, if it differs: its reply carries text, so a 1 comes back as "1"
	}{
		{[][]any{{"RPUSH", "q", 1, "b", "c"}}, req("BLPOP", "none", "q", 0), req("GET", "q"), arr(1, "b", "c"), arr("1", "b", "c")},
		{[][]any{{"RPUSH", "q", "a", "b", 3}}, req("BRPOP", "q", 0), req("GET", "q"), arr("a", "b", 3), arr("a", "b", "3")},
		{[][]any{{"RPUSH", "src", "a", 2}, {"RPUSH", "dst", "x"}}, req("BLMOVE", "src", "dst", "RIGHT", "LEFT", 0), req("MGET", "src", "dst"), arr(arr("a", 2), arr("x")), nil},
		{[][]any{{"RPUSH", "src", "a", "b"}}, req("BRPOPLPUSH", "src", "dst", 0), req("MGET", "src", "dst"), arr(arr("a", "b"), resp.NullBulk()), nil},
		{[][]any{{"ZADD", "z", 1, "a", 2, "b"}}, req("BZPOPMAX", "z", 0), req("ZSCORE", "z", "b"), resp.Double(2), nil},
	}
	for _, mode := range []resp.Mode{resp.Native, resp.RESP2} {
		for _, tc := range cases {
			n := newNode(t, mode)
			for _, s := range tc.setup {
				n.apply(s...)
			}
			reply := n.apply(tc.attempt...)
			cmd := n.f.Table().Lookup([]byte(tc.attempt[0].(string)))
			undo := cmd.Undo(vals(tc.attempt), reply)
			if v := n.applyData(entry(mode, n.now, undo)); v.IsError() {
				t.Fatalf("%v after %v: %v", undo, tc.attempt, v)
			}
			n.mode = resp.Native
			want := tc.want
			if v, ok := tc.want2.(resp.Value); ok && mode == resp.RESP2 {
				want = v
			}
			if got := n.read(tc.check...); !resp.Equal(got, want) {
				t.Errorf("%v %v then its undo: %v = %v, want %v", mode, tc.attempt, tc.check, got, want)
			}
		}
	}
}

// KVORUM.UNMOVE moves the element back only if it is still at the end the
// move put it: an element that was taken or covered since stays put.
func TestUndo_UnmoveLeavesATakenElement(t *testing.T) {
	newNode(t, resp.RESP2).run([]step{
		{args: req("RPUSH", "src", "a", "b"), want: num(2)},
		{args: req("LMOVE", "src", "dst", "LEFT", "RIGHT"), want: bulk("a")},
		{args: req("RPUSH", "dst", "later"), want: num(2)},
		{args: req("KVORUM.UNMOVE", "src", "dst", "LEFT", "RIGHT", "a"), want: num(0)},
		{args: req("LRANGE", "dst", 0, -1), want: arr("a", "later")},
		{args: req("RPOP", "dst"), want: bulk("later")},
		{args: req("KVORUM.UNMOVE", "src", "dst", "LEFT", "RIGHT", "a"), want: num(1)},
		{args: req("LRANGE", "src", 0, -1), want: arr("a", "b")},
		{args: req("EXISTS", "dst"), want: num(0)},
		{args: req("SET", "s", "v"), want: plusOK},
		{args: req("KVORUM.UNMOVE", "s", "src", "LEFT", "LEFT", "a"), want: wrongType},
	})
}

// Timeouts Redis refuses are refused with Redis's words, and a blocking
// pop on a key of another kind answers WRONGTYPE unless an earlier key has
// something to pop.
func TestBlocking_AttemptErrorsAsRedis(t *testing.T) {
	newNode(t, resp.RESP2).run([]step{
		{args: req("BLPOP", "q", -10), want: resp.Err("ERR timeout is negative")},
		{args: req("BLMOVE", "q", "d", "LEFT", "LEFT", "-1"), want: resp.Err("ERR timeout is negative")},
		{args: req("BZPOPMIN", "q", "nan"), want: resp.Err("ERR timeout is not a float or out of range")},
		{args: req("SET", "s", "v"), want: plusOK},
		{args: req("BLPOP", "s", 1), want: wrongType},
		{args: req("BZPOPMIN", "s", 1), want: wrongType},
		{args: req("RPUSH", "q", "a"), want: num(1)},
		{args: req("BLPOP", "q", "s", 1), want: arr("q", "a")},
	})
}
