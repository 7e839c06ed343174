package fsm_test

import (
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
