package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// SINTER, SUNION, SDIFF and their STORE forms: missing keys are empty
// sets, any other kind is WRONGTYPE wherever it is, a STORE replaces its
// destination (of any kind) and deletes it for an empty result.
func TestSets_Algebra(t *testing.T) {
	runModes(t, []step{
		{args: req("SADD", "a", 1, 2, 3, 4), want: num(4)},
		{args: req("SADD", "b", 3, 4, 5), want: num(3)},
		{args: req("SADD", "c", 4, 6), want: num(2)},
		{args: req("SET", "str", "x"), want: plusOK},
		{args: req("SINTER", "a", "b"), want: arr("3", "4")},
		{args: req("SINTER", "a", "b", "c"), want: arr("4")},
		{args: req("SINTER", "a", "missing"), want: arr()},
		{args: req("SINTER", "missing", "str"), want: wrongType},
		{args: req("SINTER", "a"), want: arr("1", "2", "3", "4")},
		{args: req("SUNION", "a", "b", "missing"), want: arr("1", "2", "3", "4", "5")},
		{args: req("SUNION", "missing", "str"), want: wrongType},
		{args: req("SDIFF", "a", "b", "c"), want: arr("1", "2")},
		{args: req("SDIFF", "a", "a"), want: arr()},
		{args: req("SDIFF", "missing", "a"), want: arr()},
		{args: req("SDIFF", "a", "missing"), want: arr("1", "2", "3", "4")},
		{args: req("SDIFF", "a", "str"), want: wrongType},
		{args: req("SINTERSTORE", "str", "a", "b"), want: num(2)},
		{args: req("TYPE", "str"), want: resp.Simple("set")},
		{args: req("SMEMBERS", "str"), want: arr("3", "4")},
		{args: req("SUNIONSTORE", "u", "a", "c"), want: num(5)},
		{args: req("SMEMBERS", "u"), want: arr("1", "2", "3", "4", "6")},
		{args: req("SDIFFSTORE", "a", "a", "b"), want: num(2)},
		{args: req("SMEMBERS", "a"), want: arr("1", "2")},
		{args: req("SINTERSTORE", "u", "a", "missing"), want: num(0)},
		{args: req("EXISTS", "u"), want: num(0)},
		{args: req("SET", "x", "y"), want: plusOK},
		{args: req("SUNIONSTORE", "x", "m1", "m2"), want: num(0)},
		{args: req("EXISTS", "x"), want: num(0)},
		{args: req("RPUSH", "l", "v"), want: num(1)},
		{args: req("SDIFFSTORE", "d", "a", "l"), want: wrongType},
		{args: req("SINTER"), want: arity("sinter")},
		{args: req("SDIFFSTORE", "d"), want: arity("sdiffstore")},
	}, resp.RESP2, resp.RESP3)
}

// SINTERCARD's numkeys and LIMIT, in Redis 7's words and order.
func TestSets_InterCard(t *testing.T) {
	runModes(t, []step{
		{args: req("SADD", "a", "x", "y", "z"), want: num(3)},
		{args: req("SADD", "b", "y", "z", "w"), want: num(3)},
		{args: req("SET", "str", "x"), want: plusOK},
		{args: req("SINTERCARD", 2, "a", "b"), want: num(2)},
		{args: req("SINTERCARD", 2, "a", "b", "LIMIT", 1), want: num(1)},
		{args: req("SINTERCARD", 2, "a", "b", "limit", 0), want: num(2)},
		{args: req("SINTERCARD", 1, "a", "LIMIT", 1, "LIMIT", 2), want: num(2)},
		{args: req("SINTERCARD", 1, "missing", "LIMIT", 5), want: num(0)},
		{args: req("SINTERCARD", 0, "a"), want: resp.Err("ERR numkeys should be greater than 0")},
		{args: req("SINTERCARD", "x", "a"), want: resp.Err("ERR numkeys should be greater than 0")},
		{args: req("SINTERCARD", 3, "a", "b"), want: resp.Err("ERR Number of keys can't be greater than number of args")},
		{args: req("SINTERCARD", 1, "a", "b"), want: syntaxErr},
		{args: req("SINTERCARD", 1, "a", "LIMIT"), want: syntaxErr},
		{args: req("SINTERCARD", 1, "a", "LIMIT", -1), want: resp.Err("ERR LIMIT can't be negative")},
		{args: req("SINTERCARD", 1, "a", "LIMIT", "x"), want: resp.Err("ERR LIMIT can't be negative")},
		{args: req("SINTERCARD", 2, "missing", "str"), want: wrongType},
		{args: req("SINTERCARD", 1), want: arity("sintercard")},
	}, resp.RESP2, resp.RESP3)
}

// The STORE forms and SMOVE leave the same state and answer the same on
// two replicas applying the same log.
func TestSets_AlgebraDeterministic(t *testing.T) {
	script := [][]any{
		req("SADD", "a", "x", "y", "z", "w", 1, 2, 3),
		req("SADD", "b", "y", "z", 2, 9),
		req("SINTERSTORE", "i", "a", "b"),
		req("SUNIONSTORE", "u", "a", "b"),
		req("SDIFFSTORE", "d", "a", "b"),
		req("SMOVE", "u", "d", "9"),
		req("SPOP", "u", 3),
		req("SINTERSTORE", "a", "a", "u"),
	}
	n1, n2 := newNode(t, resp.RESP2), newNode(t, resp.RESP2)
	for _, r := range script {
		if r1, r2 := n1.apply(r...), n2.apply(r...); !resp.Equal(r1, r2) {
			t.Fatalf("%v: replica 1 answered %v, replica 2 %v", r, r1, r2)
		}
	}
	if d1, d2 := dump(t, n1.f), dump(t, n2.f); string(d1) != string(d2) {
		t.Errorf("the replicas' states differ:\n%q\n%q", d1, d2)
	}
}
