package fsm_test

import (
	"math"
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// The sorted-set commands in Redis mode, checked against Redis 7's replies.
func TestZsets_Commands(t *testing.T) {
	runModes(t, []step{
		{args: req("ZADD", "s", 3, "c", 1, "a", 2, "b"), want: num(3)},
		{args: req("ZADD", "s", 1, "b2", "2", "b"), want: num(1)},
		{args: req("ZRANGE", "s", 0, -1), want: arr("a", "b2", "b", "c")},
		{args: req("ZRANGE", "s", 0, 1, "WITHSCORES"), want: arr("a", d(1), "b2", d(1))},
		{args: req("ZRANGE", "s", 0, 0, "REV"), want: arr("c")},
		{args: req("ZSCORE", "s", "b"), want: d(2)},
		{args: req("ZSCORE", "s", "zz"), want: null},
		{args: req("ZCARD", "s"), want: num(4)},
		{args: req("ZRANGEBYSCORE", "s", "(1", "+inf"), want: arr("b", "c")},
		{args: req("ZRANGEBYSCORE", "s", "-inf", "2", "WITHSCORES", "LIMIT", 1, 2), want: arr("b2", d(1), "b", d(2))},
		{args: req("ZREVRANGEBYSCORE", "s", "+inf", "(2"), want: arr("c")},
		{args: req("ZRANGEBYSCORE", "s", "x", "2"), want: resp.Err("ERR min or max is not a float")},
		{args: req("ZADD", "s", "XX", "CH", 5, "a", 9, "new"), want: num(1)},
		{args: req("ZADD", "s", "GT", 1, "a"), want: num(0)},
		{args: req("ZADD", "s", "LT", "CH", 0, "a"), want: num(1)},
		{args: req("ZADD", "s", "INCR", "2.5", "a"), want: d(2.5)},
		{args: req("ZADD", "s", "NX", "XX", 1, "a"), want: resp.Err("ERR XX and NX options at the same time are not compatible")},
		{args: req("ZADD", "s", "nan", "a"), want: resp.Err("ERR value is not a valid float")},
		{args: req("ZPOPMIN", "s"), want: arr("b2", d(1))},
		{args: req("ZPOPMAX", "s", 2), want: arr("c", d(3), "a", d(2.5))},
		{args: req("ZREM", "s", "b", "zz"), want: num(1)},
		{args: req("EXISTS", "s"), want: num(0)}, // emptied sets are deleted
		{args: req("ZADD", "due", 100, "j1", 200, "j2", 300, "j3"), want: num(3)},
		{args: req("ZREMRANGEBYSCORE", "due", "-inf", "(300"), want: num(2)},
		{args: req("BZPOPMIN", "empty", "due", 0), want: arr("due", "j3", d(300))},
		{args: req("BZPOPMIN", "due", 0), want: resp.NullArray()},
		{args: req("TYPE", "z"), want: resp.Simple("none")},
		{args: req("ZADD", "z", 1, "m"), want: num(1)},
		{args: req("TYPE", "z"), want: resp.Simple("zset")},
		{args: req("LPUSH", "z", "v"), want: wrongType},
		{args: req("HGET", "z", "m"), want: wrongType},
		{args: req("GET", "z"), want: wrongType},
		{args: req("SET", "str", "v"), want: plusOK},
		{args: req("ZADD", "str", 1, "m"), want: wrongType},
	}, resp.RESP2)
}

// Scores are RESP3 doubles on a resp3 connection.
func TestZsets_RESP3Scores(t *testing.T) {
	newNode(t, resp.RESP3).run([]step{
		{args: req("ZADD", "s", "1.5", "a"), want: num(1)},
		{args: req("ZSCORE", "s", "a"), want: resp.Double(1.5)},
	})
}

// d is a score as the FSM answers it: a double, which the writer sends as a
// bulk string to resp2 and native connections.
func d(f float64) resp.Value { return resp.Double(f) }

// Bounds, flags and ranges whose replies were checked against
// redis-server 7.0.15.
func TestZsets_LikeRedis(t *testing.T) {
	runModes(t, []step{
		{args: req("ZADD", "z", 1, "a", 2, "b", 3, "c", 3, "d"), want: num(4)},
		{args: req("ZRANGEBYSCORE", "z", "(1", "(3"), want: arr("b")},
		{args: req("ZRANGEBYSCORE", "z", "(1", 3), want: arr("b", "c", "d")},
		{args: req("ZRANGEBYSCORE", "z", 3, 1), want: arr()},
		{args: req("ZREVRANGEBYSCORE", "z", 3, "(1", "WITHSCORES"), want: arr("d", d(3), "c", d(3), "b", d(2))},
		{args: req("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 1, 2), want: arr("c", "b")},
		{args: req("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 0, -1), want: arr("a", "b", "c", "d")},
		{args: req("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", -1, 2), want: arr()},
		{args: req("ZRANGEBYSCORE", "z", "(inf", "+inf"), want: arr()},
		{args: req("ZRANGEBYSCORE", "z", "-inf", "(-inf"), want: arr()},
		{args: req("ZRANGEBYSCORE", "z", 1, 2, "LIMIT", 0), want: syntaxErr},
		{args: req("ZRANGEBYSCORE", "z", 1, 2, "WITHSCORES", "WITHSCORES"), want: arr("a", d(1), "b", d(2))},
		{args: req("ZADD", "z", "GT", "CH", 0, "a", 5, "b", 7, "new"), want: num(2)},
		{args: req("ZADD", "z", "LT", "CH", 0, "a", 9, "b"), want: num(1)},
		{args: req("ZADD", "z", "GT", "LT", 1, "a"), want: resp.Err("ERR GT, LT, and/or NX options at the same time are not compatible")},
		{args: req("ZADD", "z", "NX", "GT", 1, "a"), want: resp.Err("ERR GT, LT, and/or NX options at the same time are not compatible")},
		{args: req("ZADD", "z", "XX", "INCR", 1, "nope"), want: null},
		{args: req("ZADD", "z", "NX", "INCR", 1, "a"), want: null},
		{args: req("ZADD", "z", "GT", "INCR", -1, "a"), want: null},
		{args: req("ZADD", "z", "INCR", 1, "a", 2, "b"), want: resp.Err("ERR INCR option supports a single increment-element pair")},
		{args: req("ZADD", "z", "CH"), want: arity("zadd")},
		{args: req("ZADD", "z", "XX", 1, "q"), want: num(0)},
		{args: req("ZADD", "z", "CH", "INCR", 1, "a"), want: d(1)},
		{args: req("ZRANGE", "z", 0, -1, "WITHSCORES"), want: arr("a", d(1), "c", d(3), "d", d(3), "b", d(5), "new", d(7))},
		{args: req("ZRANGE", "z", "(1", 5, "BYSCORE"), want: arr("c", "d", "b")},
		{args: req("ZRANGE", "z", 5, "(1", "BYSCORE", "REV", "WITHSCORES"), want: arr("b", d(5), "d", d(3), "c", d(3))},
		{args: req("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, 1), want: arr("c")},
		{args: req("ZRANGE", "z", 0, -1, "LIMIT", 0, 1), want: resp.Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")},
		{args: req("ZPOPMIN", "z", 0), want: arr()},
		{args: req("ZPOPMIN", "z", -1), want: resp.Err("ERR value is out of range, must be positive")},
		{args: req("ZPOPMAX", "nokey", 2), want: arr()},
		{args: req("ZREMRANGEBYSCORE", "z", "(0", "(5"), want: num(3)},
		{args: req("ZADD", "z", "-inf", "x"), want: num(1)},
		{args: req("ZADD", "z", "inf", "y"), want: num(1)},
		{args: req("ZADD", "z", "INCR", "inf", "y"), want: d(math.Inf(1))},
		{args: req("ZADD", "z", "INCR", "-inf", "y"), want: resp.Err("ERR resulting score is not a number (NaN)")},
		{args: req("ZSCORE", "z", "y"), want: d(math.Inf(1))},
		{args: req("ZRANGEBYSCORE", "z", "a", "b"), want: resp.Err("ERR min or max is not a float")},
		{args: req("SPOP", "nokey", 3), want: arr()},
		{args: req("SADD", "s", "c", "b", "a"), want: num(3)},
		{args: req("SPOP", "s", 0), want: arr()},
		{args: req("SPOP", "s", -1), want: resp.Err("ERR value is out of range, must be positive")},
		{args: req("SPOP", "s", 1), want: arr("a")}, // Redis picks at random; kvorum the smallest
		{args: req("SREM", "s"), want: arity("srem")},
	}, resp.RESP2, resp.Native) // RESP3 answers WITHSCORES in pairs: TestZsets_RESP3Pairs
}

// ZPOPMIN and ZPOPMAX with a count answer [member, score] pairs to a RESP3
// connection and a flat array otherwise; without a count they answer flat
// everywhere (replies checked against redis-server 7.0.15).
func TestZsets_PopCountShape(t *testing.T) {
	setup := []step{{args: req("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), want: num(5)}}
	newNode(t, resp.RESP3).run(append(setup, []step{
		{args: req("ZPOPMAX", "z", 1), want: arr(arr("e", d(5)))},
		{args: req("ZPOPMIN", "z", 2), want: arr(arr("a", d(1)), arr("b", d(2)))},
		{args: req("ZPOPMIN", "z"), want: arr("c", d(3))},
		{args: req("ZPOPMIN", "z", 0), want: arr()},
		{args: req("ZPOPMAX", "nokey", 2), want: arr()},
		{args: req("ZPOPMAX", "z", 9), want: arr(arr("d", d(4)))},
	}...))
	for _, m := range []resp.Mode{resp.RESP2, resp.Native} {
		newNode(t, m).run(append(setup, []step{
			{args: req("ZPOPMAX", "z", 1), want: arr("e", d(5))},
			{args: req("ZPOPMIN", "z", 2), want: arr("a", d(1), "b", d(2))},
			{args: req("ZPOPMIN", "z"), want: arr("c", d(3))},
		}...))
	}
}

// Range commands with WITHSCORES answer [member, score] pairs to a RESP3
// connection, as Redis 7 does.
func TestZsets_RESP3Pairs(t *testing.T) {
	newNode(t, resp.RESP3).run([]step{
		{args: req("ZADD", "z", 1, "a", 2, "b"), want: num(2)},
		{args: req("ZRANGE", "z", 0, -1, "WITHSCORES"), want: arr(arr("a", d(1)), arr("b", d(2)))},
		{args: req("ZREVRANGE", "z", 0, 0, "WITHSCORES"), want: arr(arr("b", d(2)))},
		{args: req("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"), want: arr(arr("a", d(1)), arr("b", d(2)))},
		{args: req("ZRANDMEMBER", "z", 5, "WITHSCORES"), want: arr(arr("a", d(1)), arr("b", d(2)))},
		{args: req("ZRANGE", "z", 0, -1), want: arr("a", "b")},
	})
}

// ZRANGE's whole syntax (BYSCORE, BYLEX, REV, LIMIT) and the commands it
// grew from, ZRANGESTORE, and the checks in Redis's order (replies checked
// against redis-server 7.0.15 by cluster/door's TestRedisDiff_ZRanges).
func TestZsets_Ranges(t *testing.T) {
	runModes(t, []step{
		{args: req("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), want: num(5)},
		{args: req("ZADD", "lex", 0, "alpha", 0, "bar", 0, "cool", 0, "down", 0, "elephant", 0, "foo"), want: num(6)},
		{args: req("ZREVRANGE", "z", 0, 1, "WITHSCORES"), want: arr("e", d(5), "d", d(4))},
		{args: req("ZREVRANGE", "z", 1, -2), want: arr("d", "c", "b")},
		{args: req("ZRANGE", "z", "-2", 100), want: arr("d", "e")},
		{args: req("ZRANGE", "z", 4, "(1", "BYSCORE", "REV", "LIMIT", 0, 2), want: arr("d", "c")},
		{args: req("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 2, -1), want: arr("c", "d", "e")},
		{args: req("ZRANGE", "lex", "[bar", "(elephant", "BYLEX"), want: arr("bar", "cool", "down")},
		{args: req("ZRANGE", "lex", "+", "-", "BYLEX", "REV", "LIMIT", 1, 3), want: arr("elephant", "down", "cool")},
		{args: req("ZRANGEBYLEX", "lex", "-", "[cool"), want: arr("alpha", "bar", "cool")},
		{args: req("ZRANGEBYLEX", "lex", "(cool", "+", "LIMIT", 1, 2), want: arr("elephant", "foo")},
		{args: req("ZRANGEBYLEX", "lex", "(bar", "(bar"), want: arr()},
		{args: req("ZRANGEBYLEX", "lex", "[foo", "[bar"), want: arr()},
		{args: req("ZRANGEBYLEX", "lex", "+", "+"), want: arr()},
		{args: req("ZREVRANGEBYLEX", "lex", "[elephant", "(bar"), want: arr("elephant", "down", "cool")},
		{args: req("ZRANGESTORE", "dst", "z", 5, "(2", "BYSCORE", "REV", "LIMIT", 0, 2), want: num(2)},
		{args: req("ZRANGE", "dst", 0, -1, "WITHSCORES"), want: arr("d", d(4), "e", d(5))},
		{args: req("ZRANGESTORE", "dst", "lex", "[c", "+", "BYLEX"), want: num(4)},
		{args: req("ZRANGESTORE", "dst", "nokey", 0, -1), want: num(0)},
		{args: req("EXISTS", "dst"), want: num(0)},
		{args: req("ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"), want: resp.Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")},
		{args: req("ZRANGE", "z", 0, -1, "BYSCORE", "BYLEX"), want: syntaxErr},
		{args: req("ZREVRANGE", "z", 0, -1, "REV"), want: syntaxErr},
		{args: req("ZRANGEBYSCORE", "z", 0, -1, "BYSCORE"), want: syntaxErr},
		{args: req("ZRANGE", "z", 0, -1, "LIMIT", 0), want: syntaxErr},
		{args: req("ZRANGE", "z", 0, -1, "BYSCORE", "LIMIT", "x", 1), want: notInt},
		{args: req("ZRANGE", "z", "a", "b"), want: notInt},
		{args: req("ZRANGE", "z", "a", "b", "BYLEX"), want: resp.Err("ERR min or max not valid string range item")},
		{args: req("ZRANGEBYLEX", "lex", "-", "+x"), want: resp.Err("ERR min or max not valid string range item")},
		{args: req("ZRANGESTORE", "dst", "z", 0, -1, "WITHSCORES"), want: syntaxErr},
		{args: req("ZRANGESTORE", "dst", "z", 0), want: arity("zrangestore")},
	}, resp.RESP2, resp.Native)
}

// Counts, ranks, removals by rank and by lex, ZMSCORE and ZINCRBY.
func TestZsets_CountsRanksRemovals(t *testing.T) {
	runModes(t, []step{
		{args: req("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), want: num(5)},
		{args: req("ZADD", "lex", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e"), want: num(5)},
		{args: req("ZCOUNT", "z", "(2", "+inf"), want: num(3)},
		{args: req("ZCOUNT", "z", 5, 1), want: num(0)},
		{args: req("ZCOUNT", "z", "x", 1), want: resp.Err("ERR min or max is not a float")},
		{args: req("ZCOUNT", "z", "", 1), want: num(1)},          // strtod reads "" as 0
		{args: req("ZCOUNT", "z", "( 2", "1e999"), want: num(3)}, // and skips leading blanks; 1e999 is inf
		{args: req("ZCOUNT", "z", "2 ", 3), want: resp.Err("ERR min or max is not a float")},
		{args: req("ZLEXCOUNT", "lex", "(a", "[c"), want: num(2)},
		{args: req("ZLEXCOUNT", "lex", "x", "+"), want: resp.Err("ERR min or max not valid string range item")},
		{args: req("ZRANK", "z", "a"), want: num(0)},
		{args: req("ZREVRANK", "z", "a"), want: num(4)},
		{args: req("ZRANK", "z", "nope"), want: null},
		{args: req("ZRANK", "nokey", "a"), want: null},
		{args: req("ZMSCORE", "z", "a", "nope", "e"), want: arr(d(1), nil, d(5))},
		{args: req("ZMSCORE", "nokey", "a"), want: arr(nil)},
		{args: req("ZINCRBY", "z", "2.5", "a"), want: d(3.5)},
		{args: req("ZINCRBY", "fresh", 3, "m"), want: d(3)},
		{args: req("ZINCRBY", "z", "x", "a"), want: resp.Err("ERR value is not a valid float")},
		{args: req("ZADD", "inf", "inf", "m"), want: num(1)},
		{args: req("ZINCRBY", "inf", "-inf", "m"), want: resp.Err("ERR resulting score is not a number (NaN)")},
		{args: req("ZSCORE", "inf", "m"), want: d(math.Inf(1))},
		{args: req("ZREMRANGEBYRANK", "z", 0, 1), want: num(2)},
		{args: req("ZREMRANGEBYRANK", "z", -1, -1), want: num(1)},
		{args: req("ZREMRANGEBYRANK", "z", 5, 10), want: num(0)},
		{args: req("ZREMRANGEBYRANK", "z", "x", 1), want: notInt},
		{args: req("ZRANGE", "z", 0, -1), want: arr("a", "d")},
		{args: req("ZREMRANGEBYLEX", "lex", "(a", "[c"), want: num(2)},
		{args: req("ZRANGE", "lex", 0, -1), want: arr("a", "d", "e")},
		{args: req("ZREMRANGEBYLEX", "lex", "-", "+"), want: num(3)},
		{args: req("EXISTS", "lex"), want: num(0)},
		{args: req("LPUSH", "list", "x"), want: num(1)},
		{args: req("ZCOUNT", "list", 0, 1), want: wrongType},
		{args: req("ZCOUNT", "list", "x", 1), want: resp.Err("ERR min or max is not a float")}, // bounds before the key
		{args: req("ZRANK", "list", "a"), want: wrongType},
		{args: req("ZMSCORE", "list", "a"), want: wrongType},
		{args: req("ZINCRBY", "list", 1, "a"), want: wrongType},
		{args: req("ZREMRANGEBYRANK", "list", 0, 1), want: wrongType},
		{args: req("ZREMRANGEBYLEX", "list", "-", "+"), want: wrongType},
		{args: req("ZLEXCOUNT", "list", "-", "+"), want: wrongType},
	}, resp.RESP2, resp.Native)
}

// ZRANDMEMBER picks at random (a read, served by one node): a positive
// count gives distinct members, a negative one may repeat them.
func TestZsets_RandMember(t *testing.T) {
	n := newNode(t, resp.RESP2)
	n.run([]step{
		{args: req("ZADD", "z", 1, "a", 2, "b", 3, "c"), want: num(3)},
		{args: req("ZRANDMEMBER", "z", 3), want: arr("a", "b", "c")},
		{args: req("ZRANDMEMBER", "z", 0), want: arr()},
		{args: req("ZRANDMEMBER", "nokey"), want: null},
		{args: req("ZRANDMEMBER", "nokey", 2), want: arr()},
		{args: req("ZRANDMEMBER", "z", "x"), want: notInt},
		{args: req("ZRANDMEMBER", "z", 1, "BOGUS"), want: syntaxErr},
		{args: req("ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"), want: resp.Err("ERR value is out of range")},
		{args: req("ZRANDMEMBER", "z", "-9223372036854775807"), want: resp.Err("ERR value is out of range")}, // Redis would stream it
	})
	scores := map[string]float64{"a": 1, "b": 2, "c": 3}
	for i := 0; i < 50; i++ {
		got := n.read("ZRANDMEMBER", "z", 2, "WITHSCORES").Elems()
		if len(got) != 4 || got[0].Text() == got[2].Text() {
			t.Fatalf("ZRANDMEMBER z 2 WITHSCORES = %v, want 2 distinct members with scores", got)
		}
		for j := 0; j < 4; j += 2 {
			if s, ok := scores[got[j].Text()]; !ok || got[j+1].Float() != s {
				t.Fatalf("ZRANDMEMBER z 2 WITHSCORES = %v: not members of z with their scores", got)
			}
		}
		if got := n.read("ZRANDMEMBER", "z", -7).Elems(); len(got) != 7 {
			t.Fatalf("ZRANDMEMBER z -7 gave %d members, want 7", len(got))
		}
	}
}

// ZSCAN walks the set in order; scores are strings.
func TestZsets_Scan(t *testing.T) {
	newNode(t, resp.RESP2).run([]step{
		{args: req("ZADD", "z", 1, "a", 2, "b", "1.5", "ab"), want: num(3)},
		{args: req("ZSCAN", "z", 0), want: arr("0", arr("a", "1", "ab", "1.5", "b", "2"))},
		{args: req("ZSCAN", "z", 0, "COUNT", 2), want: arr("2", arr("a", "1", "ab", "1.5"))},
		{args: req("ZSCAN", "z", 2, "COUNT", 2, "MATCH", "b*"), want: arr("0", arr("b", "2"))},
		{args: req("ZSCAN", "nokey", 0), want: arr("0", arr())},
		{args: req("ZSCAN", "z", "x"), want: resp.Err("ERR invalid cursor")},
		{args: req("ZSCAN", "z", 0, "COUNT", 0), want: syntaxErr},
	})
}
