package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// The queue commands in Redis mode, checked against Redis 7's replies.
func TestLists_Commands(t *testing.T) {
	runModes(t, []step{
		{args: req("RPUSH", "q", "a", "b", "c"), want: num(3)},
		{args: req("LPUSH", "q", "z"), want: num(4)},
		{args: req("LRANGE", "q", 0, -1), want: arr("z", "a", "b", "c")},
		{args: req("LRANGE", "q", -2, 100), want: arr("b", "c")},
		{args: req("LRANGE", "q", 3, 1), want: arr()},
		{args: req("LLEN", "q"), want: num(4)},
		{args: req("LINDEX", "q", -1), want: bulk("c")},
		{args: req("LINDEX", "q", 9), want: null},
		{args: req("LPOP", "q"), want: bulk("z")},
		{args: req("RPOP", "q", 2), want: arr("c", "b")},
		{args: req("LSET", "q", 0, "A"), want: plusOK},
		{args: req("LSET", "q", 5, "x"), want: resp.Err("ERR index out of range")},
		{args: req("LSET", "nope", 0, "x"), want: noSuchKey},
		{args: req("RPUSH", "q", "x", "A", "x", "A"), want: num(5)},
		{args: req("LPOS", "q", "A"), want: num(0)},
		{args: req("LPOS", "q", "A", "RANK", -1), want: num(4)},
		{args: req("LPOS", "q", "A", "COUNT", 0), want: arr(0, 2, 4)},
		{args: req("LREM", "q", -1, "A"), want: num(1)},
		{args: req("LRANGE", "q", 0, -1), want: arr("A", "x", "A", "x")},
		{args: req("LREM", "q", 0, "x"), want: num(2)},
		{args: req("LTRIM", "q", 1, -1), want: plusOK},
		{args: req("LRANGE", "q", 0, -1), want: arr("A")},
		{args: req("LMOVE", "q", "done", "LEFT", "RIGHT"), want: bulk("A")},
		{args: req("EXISTS", "q"), want: num(0)}, // emptied lists are deleted
		{args: req("RPOPLPUSH", "done", "q"), want: bulk("A")},
		{args: req("LPOP", "missing"), want: null},
		{args: req("LPOP", "missing", 2), want: resp.NullArray()},
		{args: req("LPUSHX", "missing", "v"), want: num(0)},
		{args: req("SET", "s", "v"), want: plusOK},
		{args: req("LPUSH", "s", "v"), want: wrongType},
		{args: req("LLEN", "s"), want: wrongType},
		{args: req("TYPE", "q"), want: resp.Simple("list")},
		{args: req("BLPOP", "empty", "q", 0), want: arr("q", "A")},
		{args: req("BLPOP", "empty", "q", 0), want: resp.NullArray()},
		{args: req("BLPOP", "q", "x"), want: resp.Err("ERR timeout is not a float or out of range")},
	}, resp.RESP2)
}

// A list set with SET (the tutorial's nested array) is a list to the list
// commands, and a list is an array to GET in native mode; elements keep
// their kinds.
func TestLists_ArrayValuesAreLists(t *testing.T) {
	newNode(t, resp.Native).run([]step{
		{args: req("SET", "k2", arr("v2-0", 1, "v2-2")), want: num(1)},
		{args: req("RPUSH", "k2", dict("job", 7)), want: num(4)},
		{args: req("LPOP", "k2"), want: bulk("v2-0")},
		{args: req("GET", "k2"), want: arr(1, "v2-2", dict("job", 7))},
		{args: req("LINDEX", "k2", 0), want: num(1)},
	})
}

// Pushes report their keys once the batch is applied, for blocked pops.
func TestLists_OnPush(t *testing.T) {
	var pushed []string
	f := fsm.New(fsm.Config{OnPush: func(_, _ uint64, keys []string) { pushed = append(pushed, keys...) }})
	n := &node{t: t, f: f, mode: resp.RESP2, now: t0}
	n.apply("RPUSH", "q", "a")
	n.apply("SET", "s", "v")
	n.apply("LMOVE", "q", "w", "LEFT", "LEFT")
	if len(pushed) != 2 || pushed[0] != "q" || pushed[1] != "w" {
		t.Fatalf("OnPush saw %v, want [q w]", pushed)
	}
}

// An empty array stored with SET is a list with nothing to pop: the pops
// answer as for a missing key (they once indexed past its end).
func TestLists_EmptyArrayValue(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "e", arr()), want: num(1)},
		{args: req("LPOP", "e"), want: null},
		{args: req("RPOP", "e", 2), want: resp.NullArray()},
		{args: req("BLPOP", "e", 0), want: resp.NullArray()},
		{args: req("LMOVE", "e", "d", "LEFT", "LEFT"), want: null},
		{args: req("RPOPLPUSH", "e", "d"), want: null},
		{args: req("EXISTS", "d"), want: num(0)},
		{args: req("LLEN", "e"), want: num(0)},
	}, resp.Native)
}

// LINSERT, and the checks Redis 7 makes in its own order: LPOP's extra
// arguments are a wrong argument count, its count is parsed before the
// key; LINDEX and LSET look at the key before the index; LMOVE answers
// null for a missing source whatever the destination holds; LPOS's
// options.
func TestLists_RedisEdgeCases(t *testing.T) {
	runModes(t, []step{
		{args: req("RPUSH", "l", "a", "b", "c"), want: num(3)},
		{args: req("LINSERT", "l", "BEFORE", "a", "z"), want: num(4)},
		{args: req("LINSERT", "l", "after", "c", "y"), want: num(5)},
		{args: req("LINSERT", "l", "AFTER", "a", "x"), want: num(6)},
		{args: req("LRANGE", "l", 0, -1), want: arr("z", "a", "x", "b", "c", "y")},
		{args: req("LINSERT", "l", "BEFORE", "nope", "w"), want: num(-1)},
		{args: req("LINSERT", "missing", "BEFORE", "a", "w"), want: num(0)},
		{args: req("LINSERT", "l", "aft3r", "a", "w"), want: syntaxErr},
		{args: req("LINSERT", "missing", "aft3r", "a", "w"), want: syntaxErr},
		{args: req("SET", "s", "v"), want: plusOK},
		{args: req("LINSERT", "s", "BEFORE", "a", "w"), want: wrongType},
		{args: req("LINSERT", "s", "MIDDLE", "a", "w"), want: syntaxErr},
		{args: req("LPOP", "l", 1, 1), want: arity("lpop")},
		{args: req("rpop", "l", 2, 2), want: arity("rpop")},
		{args: req("LPOP", "s", -1), want: resp.Err("ERR value is out of range, must be positive")},
		{args: req("LPOP", "s", 1), want: wrongType},
		{args: req("LPOP", "l", 0), want: arr()},
		{args: req("LPOP", "missing", 0), want: resp.NullArray()},
		{args: req("LINDEX", "missing", "x"), want: null},
		{args: req("LINDEX", "s", "x"), want: wrongType},
		{args: req("LINDEX", "l", "x"), want: notInt},
		{args: req("LSET", "missing", "x", "v"), want: noSuchKey},
		{args: req("LSET", "s", "x", "v"), want: wrongType},
		{args: req("LSET", "l", "x", "v"), want: notInt},
		{args: req("LMOVE", "missing", "s", "LEFT", "LEFT"), want: null},
		{args: req("RPOPLPUSH", "missing", "s"), want: null},
		{args: req("RPOPLPUSH", "l", "s"), want: wrongType},
		{args: req("LPOS", "l", "a", "RANK", "x"), want: notInt},
		{args: req("LPOS", "l", "a", "RANK", "-9223372036854775808"), want: num(1)},
		{args: req("LPOS", "l", "a", "COUNT", "x"), want: resp.Err("ERR COUNT can't be negative")},
		{args: req("LPOS", "l", "a", "MAXLEN", "x"), want: resp.Err("ERR MAXLEN can't be negative")},
		{args: req("LPOS", "l", "a", "BAD", "x"), want: syntaxErr},
		{args: req("LPOS", "l", "a", "RANK"), want: syntaxErr},
		{args: req("LPOS", "l", "a", "RANK", -1, "MAXLEN", 2), want: null},
		{args: req("LPOS", "l", "y", "RANK", -1, "MAXLEN", 2), want: num(5)},
		{args: req("LPOS", "missing", "a", "COUNT", 0), want: arr()},
		{args: req("LPOS", "s", "a"), want: wrongType},
	}, resp.RESP2, resp.RESP3)
}
