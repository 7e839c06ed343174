package fsm_test

import (
	"fmt"
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

// SMISMEMBER, SMOVE and SPOP's count edges, checked against Redis 7.
func TestSets_MoveAndMIsMember(t *testing.T) {
	runModes(t, []step{
		{args: req("SADD", "s", "a", "b", "c"), want: num(3)},
		{args: req("SET", "str", "x"), want: plusOK},
		{args: req("SMISMEMBER", "s", "a", "z", "c"), want: arr(1, 0, 1)},
		{args: req("SMISMEMBER", "missing", "a"), want: arr(0)},
		{args: req("SMISMEMBER", "str", "a"), want: wrongType},
		{args: req("SMISMEMBER", "s"), want: arity("smismember")},
		{args: req("SMOVE", "s", "s", "a"), want: num(1)},
		{args: req("SMOVE", "s", "s", "z"), want: num(0)},
		{args: req("SMOVE", "missing", "str", "a"), want: num(0)},
		{args: req("SMOVE", "s", "str", "a"), want: wrongType},
		{args: req("SMOVE", "str", "s", "a"), want: wrongType},
		{args: req("SMOVE", "s", "d", "z"), want: num(0)},
		{args: req("EXISTS", "d"), want: num(0)},
		{args: req("SMOVE", "s", "d", "a"), want: num(1)},
		{args: req("SMEMBERS", "d"), want: arr("a")},
		{args: req("SADD", "one", "x"), want: num(1)},
		{args: req("SMOVE", "one", "d", "x"), want: num(1)},
		{args: req("EXISTS", "one"), want: num(0)},
		{args: req("SMEMBERS", "d"), want: arr("a", "x")},
		{args: req("SPOP", "s", 0), want: arr()},
		{args: req("SPOP", "s", "a"), want: resp.Err("ERR value is out of range, must be positive")},
		{args: req("SPOP", "missing", -1), want: resp.Err("ERR value is out of range, must be positive")},
		{args: req("SPOP", "s", 1, 2), want: syntaxErr},
		{args: req("SPOP", "str", 1), want: wrongType},
		{args: req("SPOP", "missing", 3), want: arr()},
		{args: req("SPOP", "s", 9), want: arr("b", "c")},
		{args: req("EXISTS", "s"), want: num(0)},
	}, resp.RESP2, resp.RESP3)
}

// SRANDMEMBER picks at random (a read); its counts and errors are
// Redis's. Each reply is checked by what it may hold.
func TestSets_RandMember(t *testing.T) {
	n := newNode(t, resp.RESP2)
	n.run([]step{
		{args: req("SADD", "s", "a", "b", "c"), want: num(3)},
		{args: req("SET", "str", "x"), want: plusOK},
		{args: req("SRANDMEMBER", "missing"), want: null},
		{args: req("SRANDMEMBER", "missing", 5), want: arr()},
		{args: req("SRANDMEMBER", "s", 0), want: arr()},
		{args: req("SRANDMEMBER", "str"), want: wrongType},
		{args: req("SRANDMEMBER", "str", 1), want: wrongType},
		{args: req("SRANDMEMBER", "missing", "a"), want: notInt},
		{args: req("SRANDMEMBER", "s", 1, 2), want: syntaxErr},
		{args: req("SRANDMEMBER", "s", "-9223372036854775808"),
			want: resp.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")},
	})
	in := map[string]bool{"a": true, "b": true, "c": true}
	seen := map[string]bool{}
	for range 200 {
		v := n.read("SRANDMEMBER", "s")
		if !in[v.Text()] {
			t.Fatalf("SRANDMEMBER s = %v, not a member", v)
		}
		seen[v.Text()] = true
	}
	if len(seen) != 3 {
		t.Errorf("200 SRANDMEMBER s saw %v, want all three members", seen)
	}
	for _, c := range []struct {
		count    int
		n        int
		distinct bool
	}{{2, 2, true}, {3, 3, true}, {10, 3, true}, {-10, 10, false}, {-1, 1, false}} {
		v := n.read("SRANDMEMBER", "s", c.count)
		got := map[string]bool{}
		for _, e := range v.Elems() {
			if !in[e.Text()] {
				t.Fatalf("SRANDMEMBER s %d = %v: %v is not a member", c.count, v, e)
			}
			got[e.Text()] = true
		}
		if v.Len() != c.n || (c.distinct && len(got) != c.n) {
			t.Errorf("SRANDMEMBER s %d = %v, want %d members (distinct %v)", c.count, v, c.n, c.distinct)
		}
	}
}

// SSCAN answers a small set at once with cursor 0 and pages a large one
// in byte order; the cursor is read as Redis reads it.
func TestSets_Scan(t *testing.T) {
	n := newNode(t, resp.RESP2)
	n.run([]step{
		{args: req("SADD", "s", "b", "a", "c", "ab"), want: num(4)},
		{args: req("SET", "str", "x"), want: plusOK},
		{args: req("SSCAN", "s", 0), want: arr("0", arr("a", "ab", "b", "c"))},
		{args: req("SSCAN", "s", 0, "COUNT", 1, "MATCH", "a*"), want: arr("0", arr("a", "ab"))},
		{args: req("SSCAN", "missing", 0, "COUNT", 0), want: arr("0", arr())},
		{args: req("SSCAN", "str", 0), want: wrongType},
		{args: req("SSCAN", "str", "x"), want: resp.Err("ERR invalid cursor")},
		{args: req("SSCAN", "s", " 1"), want: resp.Err("ERR invalid cursor")},
		{args: req("SSCAN", "s", "18446744073709551616"), want: resp.Err("ERR invalid cursor")},
		{args: req("SSCAN", "s", "-1"), want: arr("0", arr("a", "ab", "b", "c"))},
		{args: req("SSCAN", "s", 0, "COUNT", 0), want: syntaxErr},
		{args: req("SSCAN", "s", 0, "COUNT", "x"), want: notInt},
		{args: req("SSCAN", "s", 0, "MATCH"), want: syntaxErr},
		{args: req("SSCAN", "s", 0, "TYPE", "set"), want: syntaxErr},
	})
	var members []any
	for i := range 300 {
		members = append(members, i)
	}
	n.do(append([]any{"SADD", "big"}, members...)...)
	seen, gone := map[string]bool{}, map[string]bool{}
	cursor, calls := "0", 0
	for {
		v := n.read("SSCAN", "big", cursor, "COUNT", 50)
		page := v.Elems()[1].Elems()
		for _, e := range page {
			seen[e.Text()] = true
		}
		for _, e := range page[:min(3, len(page))] { // delete some seen, add new ones
			n.do("SREM", "big", e.Text())
			gone[e.Text()] = true
			n.do("SADD", "big", fmt.Sprint("new", calls, e.Text()))
		}
		calls++
		if cursor = v.Elems()[0].Text(); cursor == "0" || calls > 100 {
			break
		}
	}
	for i := range 300 {
		if m := fmt.Sprint(i); !seen[m] && !gone[m] {
			t.Errorf("SSCAN big COUNT 50 missed %s", m)
		}
	}
	if calls < 6 || calls > 8 {
		t.Errorf("SSCAN big COUNT 50 took %d calls, want about 300/50", calls)
	}
}

// SMOVE of a member dst already holds leaves dst unchanged: a WATCH on it
// still lets the transaction run, as in Redis.
func TestSets_MoveKeepsDstWhenPresent(t *testing.T) {
	n := newNode(t, resp.RESP2)
	n.run([]step{
		{args: req("SADD", "src", "a", "b"), want: num(2)},
		{args: req("SADD", "dst", "a"), want: num(1)},
	})
	before := n.do("KVORUM.MODS", "dst")
	n.run([]step{
		{args: req("SMOVE", "src", "dst", "a"), want: num(1)},
		{args: req("SMEMBERS", "src"), want: arr("b")},
		{args: req("SMEMBERS", "dst"), want: arr("a")},
	})
	if after := n.do("KVORUM.MODS", "dst"); !resp.Equal(before, after) {
		t.Errorf("SMOVE of a member dst holds changed dst's modification index: %v, then %v", before, after)
	}
}
