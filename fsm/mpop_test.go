package fsm_test

import (
	"math"
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// LMPOP and BLMPOP's attempts, checked against Redis 7's replies: [key,
// [items]] from the first non-empty list, a null array when there is
// none, and Redis's errors in Redis's order.
func TestMPop_Lists(t *testing.T) {
	runModes(t, []step{
		{args: req("RPUSH", "l", "a", "b", "c", "d"), want: num(4)},
		{args: req("LMPOP", 2, "none", "l", "LEFT"), want: arr("l", arr("a"))},
		{args: req("LMPOP", 1, "l", "right", "COUNT", 2), want: arr("l", arr("d", "c"))},
		{args: req("LMPOP", 1, "l", "LEFT", "count", 10), want: arr("l", arr("b"))},
		{args: req("EXISTS", "l"), want: num(0)},
		{args: req("LMPOP", 2, "l", "none", "LEFT"), want: resp.NullArray()},
		{args: req("LMPOP", 0, "l", "LEFT"), want: resp.Err("ERR numkeys should be greater than 0")},
		{args: req("LMPOP", -1, "l", "LEFT"), want: resp.Err("ERR numkeys should be greater than 0")},
		{args: req("LMPOP", "x", "l", "LEFT"), want: resp.Err("ERR numkeys should be greater than 0")},
		{args: req("LMPOP", 2, "l", "LEFT"), want: syntaxErr},
		{args: req("LMPOP", 9223372036854775807, "l", "LEFT"), want: syntaxErr},
		{args: req("LMPOP", 1, "l", "UP"), want: syntaxErr},
		{args: req("LMPOP", 1, "l", "LEFT", "COUNT"), want: syntaxErr},
		{args: req("LMPOP", 1, "l", "LEFT", "COUNT", 0), want: resp.Err("ERR count should be greater than 0")},
		{args: req("LMPOP", 1, "l", "LEFT", "COUNT", "x"), want: resp.Err("ERR count should be greater than 0")},
		{args: req("LMPOP", 1, "l", "LEFT", "COUNT", 1, "COUNT", 1), want: syntaxErr},
		{args: req("LMPOP", 1, "l", "LEFT", "BAD"), want: syntaxErr},
		{args: req("SET", "s", "v"), want: plusOK},
		{args: req("LMPOP", 2, "s", "l", "LEFT"), want: wrongType},
		{args: req("RPUSH", "l", "x"), want: num(1)},
		{args: req("LMPOP", 2, "l", "s", "LEFT"), want: arr("l", arr("x"))},
		{args: req("BLMPOP", 0, 2, "none", "s", "LEFT"), want: wrongType},
		{args: req("BLMPOP", 0, 1, "none", "LEFT"), want: resp.NullArray()},
		{args: req("BLMPOP", -1, 1, "none", "LEFT"), want: resp.Err("ERR timeout is negative")},
		{args: req("BLMPOP", "x", 1, "none", "LEFT"), want: resp.Err("ERR timeout is not a float or out of range")},
		{args: req("BLMPOP", -1, 0, "none", "LEFT"), want: resp.Err("ERR numkeys should be greater than 0")},
		{args: req("BLMPOP", -1, 1, "none", "MIN"), want: syntaxErr},
		{args: req("RPUSH", "l", 1, 2, 3), want: num(3)},
		{args: req("BLMPOP", "0.5", 1, "l", "RIGHT", "COUNT", 2), want: arr("l", arr("3", "2"))},
	}, resp.RESP2, resp.RESP3)
}

// ZMPOP and BZMPOP's attempts: [key, [[member, score]...]], scores as
// doubles (bulk strings to RESP2).
func TestMPop_Zsets(t *testing.T) {
	pair := func(m string, s float64) resp.Value { return arr(m, d(s)) }
	runModes(t, []step{
		{args: req("ZADD", "z", 1, "a", 2, "b", 3, "c", "inf", "top"), want: num(4)},
		{args: req("ZMPOP", 2, "none", "z", "MIN"), want: arr("z", arr(pair("a", 1)))},
		{args: req("ZMPOP", 1, "z", "max", "COUNT", 2), want: arr("z", arr(pair("top", math.Inf(1)), pair("c", 3)))},
		{args: req("ZMPOP", 1, "z", "MIN", "COUNT", 5), want: arr("z", arr(pair("b", 2)))},
		{args: req("EXISTS", "z"), want: num(0)},
		{args: req("ZMPOP", 1, "z", "MIN"), want: resp.NullArray()},
		{args: req("ZMPOP", 0, "z", "MIN"), want: resp.Err("ERR numkeys should be greater than 0")},
		{args: req("ZMPOP", 1, "z", "LEFT"), want: syntaxErr},
		{args: req("ZMPOP", 1, "z", "MIN", "COUNT", -1), want: resp.Err("ERR count should be greater than 0")},
		{args: req("SET", "s", "v"), want: plusOK},
		{args: req("ZMPOP", 2, "none", "s", "MIN"), want: wrongType},
		{args: req("BZMPOP", 0, 1, "s", "MIN"), want: wrongType},
		{args: req("BZMPOP", 0, 1, "z", "MIN"), want: resp.NullArray()},
		{args: req("BZMPOP", "-0.5", 1, "z", "MIN"), want: resp.Err("ERR timeout is negative")},
		{args: req("ZADD", "z", "1.5", "m"), want: num(1)},
		{args: req("BZMPOP", 1, 2, "z", "s", "MAX", "COUNT", 3), want: arr("z", arr(pair("m", 1.5)))},
	}, resp.RESP2, resp.RESP3)
}

// The blocking forms' rows: the timeout comes first, the keys follow
// numkeys, and what Redis refuses before it blocks is refused.
func TestMPop_BlockingRows(t *testing.T) {
	tab := fsm.NewTable()
	for _, tc := range []struct {
		args   []any
		keys   []string
		ms     int64
		refuse string
	}{
		{args: req("BLMPOP", "1.5", 2, "a", "b", "LEFT"), keys: []string{"a", "b"}, ms: 1500},
		{args: req("BZMPOP", 0, 1, "z", "MAX", "COUNT", 2), keys: []string{"z"}},
		{args: req("BLMPOP", 1, 3, "a", "LEFT"), refuse: "ERR syntax error"},
		{args: req("BLMPOP", -1, 1, "a", "LEFT", "COUNT", 0), refuse: "ERR count should be greater than 0"},
		{args: req("BZMPOP", -1, 1, "a", "MIN"), refuse: "ERR timeout is negative"},
	} {
		a := vals(tc.args)
		cmd := tab.Lookup(a[0].TextBytes())
		ms, errv, ok := cmd.BlockArgs(a)
		if tc.refuse != "" {
			if ok || errv.Text() != tc.refuse {
				t.Errorf("%v: BlockArgs = %v, %v, want %q", tc.args, errv, ok, tc.refuse)
			}
			continue
		}
		if !ok || ms != tc.ms {
			t.Errorf("%v: BlockArgs = %d, %v, %v, want %d", tc.args, ms, errv, ok, tc.ms)
		}
		keys := cmd.SourceKeys(a)
		if len(keys) != len(tc.keys) {
			t.Fatalf("%v: SourceKeys = %v, want %v", tc.args, keys, tc.keys)
		}
		for i, k := range keys {
			if k.Text() != tc.keys[i] {
				t.Errorf("%v: SourceKeys = %v, want %v", tc.args, keys, tc.keys)
			}
		}
	}
}

// BLMPOP's and BZMPOP's Undo, applied after an attempt, leave the store as
// it was: the elements back at their end in their order, the members with
// their scores.
func TestMPop_UndoGivesBackWhatAnAttemptTook(t *testing.T) {
	cases := []struct {
		setup   [][]any
		attempt []any
		check   []any
		want    resp.Value
	}{
		{[][]any{{"RPUSH", "q", "a", "b", "c", "d"}}, req("BLMPOP", 0, 2, "none", "q", "LEFT", "COUNT", 3), req("LRANGE", "q", 0, -1), arr("a", "b", "c", "d")},
		{[][]any{{"RPUSH", "q", "a", "b", "c", "d"}}, req("BLMPOP", 0, 1, "q", "RIGHT", "COUNT", 3), req("LRANGE", "q", 0, -1), arr("a", "b", "c", "d")},
		{[][]any{{"RPUSH", "q", "a", "b"}}, req("BLMPOP", 0, 1, "q", "left", "COUNT", 9), req("LRANGE", "q", 0, -1), arr("a", "b")},
		{[][]any{{"RPUSH", "q", "a", "b"}}, req("BLMPOP", 0, 1, "q", "RIGHT"), req("LRANGE", "q", 0, -1), arr("a", "b")},
		{[][]any{{"ZADD", "z", 1, "a", "2.5", "b", "-inf", "c"}}, req("BZMPOP", 0, 1, "z", "MIN", "COUNT", 2), req("ZRANGE", "z", 0, -1, "WITHSCORES"),
			arr("c", d(math.Inf(-1)), "a", d(1), "b", d(2.5))},
		{[][]any{{"ZADD", "z", "0.1", "a", 3, "b"}}, req("BZMPOP", 0, 2, "none", "z", "MAX", "COUNT", 5), req("ZRANGE", "z", 0, -1, "WITHSCORES"),
			arr("a", d(0.1), "b", d(3))},
	}
	for _, mode := range []resp.Mode{resp.Native, resp.RESP2, resp.RESP3} {
		for _, tc := range cases {
			n := newNode(t, mode)
			for _, s := range tc.setup {
				n.apply(s...)
			}
			reply := n.apply(tc.attempt...)
			if reply.IsNull() || reply.IsError() {
				t.Fatalf("%v %v = %v", mode, tc.attempt, reply)
			}
			cmd := n.f.Table().Lookup([]byte(tc.attempt[0].(string)))
			undo := cmd.Undo(vals(tc.attempt), reply)
			if v := n.applyData(entry(mode, n.now, undo)); v.IsError() {
				t.Fatalf("%v after %v: %v", undo, tc.attempt, v)
			}
			n.mode = resp.RESP2
			if got := n.read(tc.check...); !resp.Equal(got, tc.want) {
				t.Errorf("%v %v then its undo %v: %v = %v, want %v", mode, tc.attempt, undo, tc.check, got, tc.want)
			}
		}
	}
}

// A blocked client's attempt takes only from the keys that hold something
// of its kind (Poppable): Retry rewrites the request to those keys, so a
// key turned into another kind is passed over instead of answering
// WRONGTYPE.
func TestBlocking_RetryTakesOnlyFromPoppableKeys(t *testing.T) {
	n := newNode(t, resp.RESP2)
	n.apply("SET", "s", "v")
	n.apply("RPUSH", "l", "a", "b", "c", "d")
	n.apply("RPUSH", "l2", "x")
	n.apply("ZADD", "z", 1, "m", 2, "n")
	n.apply("SET", "e", arr())
	for _, tc := range []struct {
		args, keys []any
		retry      []any
		want       resp.Value
	}{
		{req("BLPOP", "s", "none", "e", "z", "l", 0), req("l"), req("BLPOP", "l", 0), arr("l", "a")},
		{req("BRPOP", "s", "l", "l", "5"), req("l", "l"), req("BRPOP", "l", "l", "5"), arr("l", "d")},
		{req("BLMPOP", 0, 4, "s", "none", "z", "l", "LEFT", "COUNT", 2), req("l"), req("BLMPOP", 0, "1", "l", "LEFT", "COUNT", 2), arr("l", arr("b", "c"))},
		{req("BZMPOP", 1, 3, "l", "z", "s", "MAX"), req("z"), req("BZMPOP", 1, "1", "z", "MAX"), arr("z", arr(arr("n", d(2))))},
		{req("BZPOPMIN", "s", "l", "z", 0), req("z"), req("BZPOPMIN", "z", 0), arr("z", "m", d(1))},
		{req("BLMOVE", "l2", "s", "LEFT", "LEFT", 0), req("l2"), req("BLMOVE", "l2", "s", "LEFT", "LEFT", 0), wrongType},
		{req("BLPOP", "s", "none", "l", "z", 0), req(), nil, resp.Value{}},
	} {
		a := vals(tc.args)
		cmd := n.f.Table().Lookup(a[0].TextBytes())
		from := n.f.Poppable(cmd, cmd.SourceKeys(a), n.now)
		if !resp.Equal(resp.Array(from...), arr(tc.keys...)) {
			t.Errorf("Poppable(%v) = %v, want %v", tc.args, from, tc.keys)
			continue
		}
		if len(from) == 0 {
			continue
		}
		retry := cmd.Retry(a, from)
		if !resp.Equal(resp.Array(retry...), arr(tc.retry...)) {
			t.Errorf("Retry(%v, %v) = %v, want %v", tc.args, from, retry, tc.retry)
		}
		if tc.want.Kind() != 0 {
			if got := n.apply(tc.retry...); !resp.Equal(got, tc.want) {
				t.Errorf("%v = %v, want %v", tc.retry, got, tc.want)
			}
		}
	}
}
