package fsm_test

import (
	"math"
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, with replies
// checked against redis-server 7.0.15 (cluster/door's
// TestRedisDiff_ZSetAlgebra diffs them byte for byte).
func TestZsetAlgebra_Commands(t *testing.T) {
	runModes(t, []step{
		{args: req("ZADD", "a", 1, "x", 2, "y", 3, "z"), want: num(3)},
		{args: req("ZADD", "b", 10, "y", 20, "z", 30, "w"), want: num(3)},
		{args: req("SADD", "s", "x", "w", "v"), want: num(3)},
		{args: req("SET", "str", "v"), want: plusOK},
		{args: req("ZUNION", 2, "a", "b"), want: arr("x", "y", "z", "w")},
		{args: req("ZUNION", 3, "a", "b", "s", "WITHSCORES"), want: arr("v", d(1), "x", d(2), "y", d(12), "z", d(23), "w", d(31))},
		{args: req("ZUNION", 2, "a", "b", "WEIGHTS", 2, "0.5", "WITHSCORES"), want: arr("x", d(2), "y", d(9), "w", d(15), "z", d(16))},
		{args: req("ZUNION", 2, "a", "b", "AGGREGATE", "MIN", "WITHSCORES"), want: arr("x", d(1), "y", d(2), "z", d(3), "w", d(30))},
		{args: req("ZUNION", 2, "a", "b", "aggregate", "max", "withscores"), want: arr("x", d(1), "y", d(10), "z", d(20), "w", d(30))},
		{args: req("ZINTER", 2, "a", "b", "WITHSCORES"), want: arr("y", d(12), "z", d(23))},
		{args: req("ZINTER", 2, "a", "s", "WEIGHTS", 1, 5, "WITHSCORES"), want: arr("x", d(6))},
		{args: req("ZINTER", 2, "a", "nokey"), want: arr()},
		{args: req("ZDIFF", 2, "a", "b", "WITHSCORES"), want: arr("x", d(1))},
		{args: req("ZDIFF", 2, "s", "a", "WITHSCORES"), want: arr("v", d(1), "w", d(1))},
		{args: req("ZDIFF", 1, "nokey"), want: arr()},
		{args: req("ZINTERCARD", 2, "a", "b"), want: num(2)},
		{args: req("ZINTERCARD", 2, "a", "b", "LIMIT", 1), want: num(1)},
		{args: req("ZINTERCARD", 2, "a", "b", "LIMIT", 0), want: num(2)},
		{args: req("ZUNIONSTORE", "dst", 2, "a", "b", "WEIGHTS", 1, 2), want: num(4)},
		{args: req("ZRANGE", "dst", 0, -1, "WITHSCORES"), want: arr("x", d(1), "y", d(22), "z", d(43), "w", d(60))},
		{args: req("ZINTERSTORE", "str", 2, "a", "b"), want: num(2)}, // replaces a key of any kind
		{args: req("TYPE", "str"), want: resp.Simple("zset")},
		{args: req("ZDIFFSTORE", "dst", 2, "a", "a"), want: num(0)}, // an empty result deletes dst
		{args: req("EXISTS", "dst"), want: num(0)},
		{args: req("ZUNIONSTORE", "a", 2, "a", "a"), want: num(3)}, // dst may be an input
		{args: req("ZRANGE", "a", 0, -1, "WITHSCORES"), want: arr("x", d(2), "y", d(4), "z", d(6))},
		{args: req("SET", "str", "v"), want: plusOK},
		{args: req("ZUNION", 0, "a"), want: resp.Err("ERR at least 1 input key is needed for 'zunion' command")},
		{args: req("ZINTERSTORE", "d", -1, "a"), want: resp.Err("ERR at least 1 input key is needed for 'zinterstore' command")},
		{args: req("ZINTERCARD", 0, "a"), want: resp.Err("ERR at least 1 input key is needed for 'zintercard' command")},
		{args: req("ZUNION", "x", "a"), want: notInt},
		{args: req("ZUNION", 3, "a", "b"), want: syntaxErr},
		{args: req("ZUNION", 2, "a", "str", "BOGUS"), want: wrongType}, // kinds before options
		{args: req("ZUNION", 1, "a", "WEIGHTS", "nan"), want: resp.Err("ERR weight value is not a float")},
		{args: req("ZUNION", 2, "a", "b", "WEIGHTS", 1), want: syntaxErr},
		{args: req("ZUNION", 1, "a", "AGGREGATE", "avg"), want: syntaxErr},
		{args: req("ZDIFF", 1, "a", "WEIGHTS", 1), want: syntaxErr},
		{args: req("ZUNIONSTORE", "d", 1, "a", "WITHSCORES"), want: syntaxErr},
		{args: req("ZINTERCARD", 1, "a", "WITHSCORES"), want: syntaxErr},
		{args: req("ZINTERCARD", 1, "a", "LIMIT", -1), want: resp.Err("ERR LIMIT can't be negative")},
		{args: req("ZUNION", 1), want: arity("zunion")},
		{args: req("ZDIFFSTORE", "d", 1), want: arity("zdiffstore")},
	}, resp.RESP2)
}

// A sum of +inf and -inf, and a weight of 0 on an infinite score, give 0
// rather than NaN, as in Redis.
func TestZsetAlgebra_Infinities(t *testing.T) {
	inf := math.Inf(1)
	newNode(t, resp.RESP2).run([]step{
		{args: req("ZADD", "p", "inf", "m", "-inf", "n"), want: num(2)},
		{args: req("ZADD", "q", "-inf", "m", "inf", "n"), want: num(2)},
		{args: req("ZUNION", 2, "p", "q", "WITHSCORES"), want: arr("m", d(0), "n", d(0))},
		{args: req("ZINTER", 2, "p", "q", "WEIGHTS", 0, 1, "WITHSCORES"), want: arr("m", d(-inf), "n", d(inf))},
		{args: req("ZUNION", 1, "p", "WEIGHTS", "inf", "WITHSCORES"), want: arr("n", d(-inf), "m", d(inf))},
	})
}

// WITHSCORES answers [member, score] pairs to a RESP3 connection.
func TestZsetAlgebra_RESP3Pairs(t *testing.T) {
	newNode(t, resp.RESP3).run([]step{
		{args: req("ZADD", "a", 1, "x", 2, "y"), want: num(2)},
		{args: req("ZUNION", 1, "a", "WITHSCORES"), want: arr(arr("x", d(1)), arr("y", d(2)))},
		{args: req("ZINTER", 1, "a"), want: arr("x", "y")},
	})
}

// The STORE forms name their keys by numkeys, for routing and ACLs.
func TestZsetAlgebra_Keys(t *testing.T) {
	tab := newNode(t, resp.RESP2).f.Table()
	for _, c := range []struct {
		args []any
		want []string
	}{
		{req("ZUNIONSTORE", "d", 2, "a", "b", "WEIGHTS", 1, 2), []string{"d", "a", "b"}},
		{req("ZINTER", 1, "a", "WITHSCORES"), []string{"a"}},
		{req("ZINTERCARD", 3, "a", "b"), nil},
		{req("ZDIFFSTORE", "d", 0, "a"), []string{"d"}},
		{req("ZRANGESTORE", "d", "s", 0, -1), []string{"d", "s"}},
	} {
		a := vals(c.args)
		got := tab.Lookup([]byte(a[0].Text())).Keys(a)
		if len(got) != len(c.want) {
			t.Errorf("%v: keys %v, want %v", c.args, got, c.want)
			continue
		}
		for i := range got {
			if got[i].Text() != c.want[i] {
				t.Errorf("%v: keys %v, want %v", c.args, got, c.want)
			}
		}
	}
}
