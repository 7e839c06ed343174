package fsm_test

import (
	"fmt"
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

// HINCRBYFLOAT and INCRBYFLOAT add in long double precision and print as
// Redis 7 does; each reply below was checked against redis-server 7.0.15.
func TestHashes_IncrByFloatLikeRedis(t *testing.T) {
	big := "100000000000000000002458586534161025661508068040050002887327500487325785432383926208372890736129198739813658147359652238566592960617854587787845326097835852628442219969983473365844529789269081145212928"
	runModes(t, []step{
		{args: req("HSET", "h", "f", "0.1"), want: num(1)},
		{args: req("HINCRBYFLOAT", "h", "f", "0.2"), want: bulk("0.3")},
		{args: req("HINCRBYFLOAT", "h", "f", "1e20"), want: bulk("100000000000000000000")},
		{args: req("HSET", "h", "g", "10.5"), want: num(1)},
		{args: req("HINCRBYFLOAT", "h", "g", "0.1"), want: bulk("10.6")},
		{args: req("HINCRBYFLOAT", "h", "g", "-10.6"), want: bulk("0")},
		{args: req("HINCRBYFLOAT", "h", "n", "3"), want: bulk("3")},
		{args: req("HINCRBYFLOAT", "h", "n", "1.0e3"), want: bulk("1003")},
		{args: req("HINCRBYFLOAT", "h", "n", "5.0e-7"), want: bulk("1003.00000050000000001")},
		{args: req("HSET", "h", "i", 5), want: num(1)},
		{args: req("HINCRBYFLOAT", "h", "i", "1e200"), want: bulk(big)},
		{args: req("HINCRBYFLOAT", "h", "y", "-0.0"), want: bulk("0")},
		{args: req("HINCRBYFLOAT", "h", "x", "inf"), want: resp.Err("ERR value is NaN or Infinity")},
		{args: req("HINCRBYFLOAT", "h", "x", "abc"), want: resp.Err("ERR value is not a valid float")},
		{args: req("HSET", "h", "s", "abc"), want: num(1)},
		{args: req("HINCRBYFLOAT", "h", "s", 1), want: resp.Err("ERR hash value is not a float")},
		{args: req("HINCRBY", "h", "s", 1), want: resp.Err("ERR hash value is not an integer")},
		{args: req("SET", "s", "0.1"), want: plusOK},
		{args: req("INCRBYFLOAT", "s", "0.2"), want: bulk("0.3")},
		{args: req("INCRBYFLOAT", "s", "inf"), want: resp.Err("ERR increment would produce NaN or Infinity")},
		{args: req("INCRBYFLOAT", "s2", "1.5e3"), want: bulk("1500")},
	}, resp.RESP2, resp.RESP3)
}

// Fields keep insertion order through deletes (and the compaction of the
// holes they leave); a field deleted and set again goes to the end.
func TestHashes_InsertionOrder(t *testing.T) {
	n := newNode(t, resp.RESP2)
	var want []any
	for i := range 40 {
		n.do("HSET", "h", fmt.Sprint("f", i), i)
		if i%4 == 3 {
			want = append(want, fmt.Sprint("f", i), fmt.Sprint(i))
		}
	}
	for i := range 40 {
		if i%4 != 3 {
			n.do("HDEL", "h", fmt.Sprint("f", i))
		}
	}
	n.do("HSET", "h", "f0", "again")
	n.do("HSET", "h", "f3", "new") // keeps its place
	want[1] = "new"
	want = append(want, "f0", "again")
	if got := n.do("HGETALL", "h"); !resp.Equal(got, dict(want...)) {
		t.Fatalf("HGETALL = %v\nwant %v", got, dict(want...))
	}
	if got := n.do("HLEN", "h"); !resp.Equal(got, num(11)) {
		t.Fatalf("HLEN = %v, want 11", got)
	}
}

// A dict stored with SET that names a field twice reads as its first
// occurrence, before and after a hash write turns it into a container.
func TestHashes_RepeatedDictField(t *testing.T) {
	newNode(t, resp.Native).run([]step{
		{args: req("SET", "d", dict("a", 1, "b", 2, "a", 3)), want: num(1)},
		{args: req("HGET", "d", "a"), want: num(1)},
		{args: req("HLEN", "d"), want: num(2)},
		{args: req("HGETALL", "d"), want: dict("a", 1, "b", 2)},
		{args: req("HSET", "d", "c", 4), want: num(1)},
		{args: req("HGET", "d", "a"), want: num(1)},
		{args: req("GET", "d"), want: dict("a", 1, "b", 2, "c", 4)},
		{args: req("TYPE", "d"), want: resp.Simple("hash")},
		{args: req("LPUSH", "d", "x"), want: wrongType},
		{args: req("SADD", "d", "x"), want: wrongType},
	})
}

// HSTRLEN and HSCAN, checked against Redis 7's replies.
func TestHashes_StrlenAndScan(t *testing.T) {
	runModes(t, []step{
		{args: req("HSET", "h", "b", "hello", "a", 12, "c", ""), want: num(3)},
		{args: req("SET", "str", "x"), want: plusOK},
		{args: req("HSTRLEN", "h", "b"), want: num(5)},
		{args: req("HSTRLEN", "h", "a"), want: num(2)},
		{args: req("HSTRLEN", "h", "c"), want: num(0)},
		{args: req("HSTRLEN", "h", "z"), want: num(0)},
		{args: req("HSTRLEN", "missing", "a"), want: num(0)},
		{args: req("HSTRLEN", "str", "a"), want: wrongType},
		{args: req("HSTRLEN", "h"), want: arity("hstrlen")},
		{args: req("HSCAN", "h", 0), want: arr("0", arr("b", "hello", "a", "12", "c", ""))},
		{args: req("HSCAN", "h", 0, "COUNT", 1, "MATCH", "[ab]"), want: arr("0", arr("b", "hello", "a", "12"))},
		{args: req("HSCAN", "missing", 0, "COUNT", 0), want: arr("0", arr())},
		{args: req("HSCAN", "str", 0), want: wrongType},
		{args: req("HSCAN", "str", "x"), want: resp.Err("ERR invalid cursor")},
		{args: req("HSCAN", "h", 0, "COUNT", 0), want: syntaxErr},
		{args: req("HSCAN", "h", 0, "NOVALUES"), want: syntaxErr},
		{args: req("HSCAN", "h", 0, "COUNT", "x"), want: notInt},
	}, resp.RESP2, resp.RESP3)
}

// A large hash is paged by HSCAN; fields deleted and added between pages
// do not make one present throughout be missed.
func TestHashes_ScanPages(t *testing.T) {
	n := newNode(t, resp.RESP2)
	for i := range 300 {
		n.do("HSET", "h", fmt.Sprint("f", i), i)
	}
	seen := map[string]bool{}
	gone := map[string]bool{}
	cursor, calls := "0", 0
	for {
		v := n.read("HSCAN", "h", cursor, "COUNT", 50)
		fv := v.Elems()[1].Elems()
		for i := 0; i < len(fv); i += 2 {
			seen[fv[i].Text()] = true
		}
		for i := 0; i < 6 && i < len(fv); i += 2 { // delete some seen, add new ones
			n.do("HDEL", "h", fv[i].Text())
			gone[fv[i].Text()] = true
			n.do("HSET", "h", fmt.Sprint("new", calls, i), 1)
		}
		calls++
		if cursor = v.Elems()[0].Text(); cursor == "0" || calls > 100 {
			break
		}
	}
	for i := range 300 {
		if f := fmt.Sprint("f", i); !seen[f] && !gone[f] {
			t.Errorf("HSCAN h COUNT 50 missed %s", f)
		}
	}
	if calls < 6 || calls > 8 {
		t.Errorf("HSCAN h COUNT 50 took %d calls, want about 300/50", calls)
	}
}

// HRANDFIELD picks at random (a read); its counts, WITHVALUES and errors
// are Redis's, and a RESP3 connection gets WITHVALUES as pairs.
func TestHashes_RandField(t *testing.T) {
	for _, mode := range []resp.Mode{resp.RESP2, resp.RESP3} {
		n := newNode(t, mode)
		n.run([]step{
			{args: req("HSET", "h", "a", 1, "b", 2, "c", 3), want: num(3)},
			{args: req("SET", "str", "x"), want: plusOK},
			{args: req("HRANDFIELD", "missing"), want: null},
			{args: req("HRANDFIELD", "missing", 5), want: arr()},
			{args: req("HRANDFIELD", "missing", 5, "WITHVALUES"), want: arr()},
			{args: req("HRANDFIELD", "h", 0), want: arr()},
			{args: req("HRANDFIELD", "str"), want: wrongType},
			{args: req("HRANDFIELD", "str", 1), want: wrongType},
			{args: req("HRANDFIELD", "str", "a"), want: notInt},
			{args: req("HRANDFIELD", "missing", "a", "foo"), want: notInt},
			{args: req("HRANDFIELD", "missing", 1, "foo"), want: syntaxErr},
			{args: req("HRANDFIELD", "h", 1, "WITHVALUES", "x"), want: syntaxErr},
			{args: req("HRANDFIELD", "h", "-9223372036854775808"),
				want: resp.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")},
			{args: req("HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES"), want: resp.Err("ERR value is out of range")},
			{args: req("HRANDFIELD", "h", 3), want: arr("a", "b", "c")},
			{args: req("HRANDFIELD", "h", 5, "withvalues"), want: pairs(mode, "a", "1", "b", "2", "c", "3")},
		})
		vals := map[string]string{"a": "1", "b": "2", "c": "3"}
		for _, count := range []int{2, -7} {
			v := n.read("HRANDFIELD", "h", count, "WITHVALUES")
			want := max(count, -count)
			got := map[string]bool{}
			for i := range want {
				var f, val resp.Value
				if mode == resp.RESP3 {
					f, val = v.Elems()[i].Elems()[0], v.Elems()[i].Elems()[1]
				} else {
					f, val = v.Elems()[2*i], v.Elems()[2*i+1]
				}
				if vals[f.Text()] != val.Text() {
					t.Fatalf("%v HRANDFIELD h %d WITHVALUES = %v: bad pair %v %v", mode, count, v, f, val)
				}
				got[f.Text()] = true
			}
			if count > 0 && len(got) != count {
				t.Errorf("%v HRANDFIELD h %d WITHVALUES = %v, want distinct fields", mode, count, v)
			}
		}
		if v := n.read("HRANDFIELD", "h"); vals[v.Text()] == "" {
			t.Errorf("%v HRANDFIELD h = %v, not a field", mode, v)
		}
	}
}

// pairs is a WITHVALUES reply: [f, v] pairs in RESP3, flat otherwise.
func pairs(mode resp.Mode, kv ...any) resp.Value {
	if mode != resp.RESP3 {
		return arr(kv...)
	}
	var out []any
	for i := 0; i < len(kv); i += 2 {
		out = append(out, arr(kv[i], kv[i+1]))
	}
	return arr(out...)
}
