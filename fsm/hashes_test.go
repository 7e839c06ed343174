package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// The hash commands in Redis mode, checked against Redis 7's replies.
func TestHashes_Commands(t *testing.T) {
	runModes(t, []step{
		{args: req("HSET", "h", "a", "1", "b", "2"), want: num(2)},
		{args: req("HSET", "h", "a", "10", "c", "3"), want: num(1)},
		{args: req("HGET", "h", "a"), want: bulk("10")},
		{args: req("HGET", "h", "zz"), want: null},
		{args: req("HMGET", "h", "b", "zz", "c"), want: arr("2", nil, "3")},
		{args: req("HGETALL", "h"), want: dict("a", "10", "b", "2", "c", "3")},
		{args: req("HKEYS", "h"), want: arr("a", "b", "c")},
		{args: req("HVALS", "h"), want: arr("10", "2", "3")},
		{args: req("HLEN", "h"), want: num(3)},
		{args: req("HEXISTS", "h", "b"), want: num(1)},
		{args: req("HSETNX", "h", "b", "x"), want: num(0)},
		{args: req("HSETNX", "h", "d", "4"), want: num(1)},
		{args: req("HINCRBY", "h", "a", 5), want: num(15)},
		{args: req("HINCRBY", "h", "new", -2), want: num(-2)},
		{args: req("HINCRBYFLOAT", "h", "f", "1.5"), want: bulk("1.5")},
		{args: req("HINCRBYFLOAT", "h", "f", "0.25"), want: bulk("1.75")},
		{args: req("HDEL", "h", "a", "zz", "b"), want: num(2)},
		{args: req("HMSET", "h", "x", "y"), want: plusOK},
		{args: req("HSET", "h", "odd"), want: resp.Err("ERR wrong number of arguments for 'hset' command")},
		{args: req("TYPE", "h"), want: resp.Simple("hash")},
		{args: req("HGETALL", "missing"), want: dict()},
		{args: req("HDEL", "h", "c", "d", "new", "f", "x"), want: num(5)},
		{args: req("EXISTS", "h"), want: num(0)}, // emptied hashes are deleted
		{args: req("RPUSH", "l", "v"), want: num(1)},
		{args: req("HSET", "l", "f", "v"), want: wrongType},
		{args: req("HSET", "s", "f", "v"), want: num(1)},
		{args: req("LPUSH", "s", "v"), want: wrongType},
	}, resp.RESP2)
}

// A dict stored with SET (the tutorial's kx) is a hash, and a hash comes
// back from GET in native mode as a dict.
func TestHashes_DictValuesAreHashes(t *testing.T) {
	newNode(t, resp.Native).run([]step{
		{args: req("SET", "kx", dict("vx", dict("vy", 0), "n", 1)), want: num(1)},
		{args: req("HGET", "kx", "n"), want: num(1)},
		{args: req("HINCRBY", "kx", "n", 2), want: num(3)},
		{args: req("HSET", "kx", "w", arr(1, 2)), want: num(1)},
		{args: req("GET", "kx"), want: dict("vx", dict("vy", 0), "n", 3, "w", arr(1, 2))},
	})
}
