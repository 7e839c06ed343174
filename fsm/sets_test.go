package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// The set commands in Redis mode; SPOP is deterministic (smallest first).
func TestSets_Commands(t *testing.T) {
	runModes(t, []step{
		{args: req("SADD", "s", "b", "a", "c", "a"), want: num(3)},
		{args: req("SMEMBERS", "s"), want: arr("a", "b", "c")},
		{args: req("SISMEMBER", "s", "b"), want: num(1)},
		{args: req("SISMEMBER", "s", "z"), want: num(0)},
		{args: req("SCARD", "s"), want: num(3)},
		{args: req("SREM", "s", "b", "z"), want: num(1)},
		{args: req("SPOP", "s"), want: bulk("a")},
		{args: req("SPOP", "s", 5), want: arr("c")},
		{args: req("EXISTS", "s"), want: num(0)},
		{args: req("SPOP", "s"), want: null},
		{args: req("SMEMBERS", "missing"), want: arr()},
		{args: req("SADD", "t", "m"), want: num(1)},
		{args: req("TYPE", "t"), want: resp.Simple("set")},
		{args: req("LPUSH", "t", "v"), want: wrongType},
		{args: req("ZADD", "t", 1, "v"), want: wrongType},
		{args: req("HSET", "t", "f", "v"), want: wrongType},
		{args: req("RPUSH", "l", "v"), want: num(1)},
		{args: req("SADD", "l", "v"), want: wrongType},
	}, resp.RESP2)
}
