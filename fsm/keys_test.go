package fsm_test

import (
	"strconv"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

func TestFSM_KeyCommands(t *testing.T) {
	keys := arr("a", "b", "h[llo", "hallo", "hello", "hllo", "hxllo", "k:1", "k:10", "k:2", "list", "map", "n")
	runModes(t, []step{
		{args: req("MSET", "a", 1, "b", "2", "hello", "v", "hallo", "v", "hxllo", "v", "hllo", "v", "h[llo", "v",
			"k:1", "v", "k:2", "v", "k:10", "v", "n", 7, "list", arr(1), "map", dict("f", 1)), want: plusOK},
		{args: req("DBSIZE"), want: num(13)},
		{args: req("EXISTS", "a", "a", "missing", "b"), want: num(3)},
		{args: req("EXISTS", 7, arr("a")), want: num(0)},
		{args: req("TYPE", "a"), want: resp.Simple("string")},
		{args: req("TYPE", "n"), want: resp.Simple("string")},
		{args: req("TYPE", "list"), want: resp.Simple("list")},
		{args: req("TYPE", "map"), want: resp.Simple("hash")},
		{args: req("TYPE", "missing"), want: resp.Simple("none")},

		// KEYS answers sorted, whatever the map order.
		{args: req("KEYS", "*"), want: keys},
		{args: req("KEYS", "h?llo"), want: arr("h[llo", "hallo", "hello", "hxllo")},
		{args: req("KEYS", "h*llo"), want: arr("h[llo", "hallo", "hello", "hllo", "hxllo")},
		{args: req("KEYS", "h[ae]llo"), want: arr("hallo", "hello")},
		{args: req("KEYS", "h[^e]llo"), want: arr("h[llo", "hallo", "hxllo")},
		{args: req("KEYS", "h[a-f]llo"), want: arr("hallo", "hello")},
		{args: req("KEYS", `h\[llo`), want: arr("h[llo")},
		{args: req("KEYS", "k:?"), want: arr("k:1", "k:2")},
		{args: req("KEYS", "k:1*"), want: arr("k:1", "k:10")},
		{args: req("KEYS", "nomatch*"), want: arr()},
		{args: req("KEYS", ""), want: arr()},

		{args: req("DEL", "a", "b", "missing", "a"), want: num(2)},
		{args: req("UNLINK", "hello", "hallo"), want: num(2)},
		{args: req("DEL", "missing"), want: num(0)},
		{args: req("DEL", arr("n"), nil), want: num(0)},
		{args: req("DBSIZE"), want: num(9)},

		{args: req("RENAME", "n", "m"), want: plusOK},
		{args: req("GET", "m"), want: bulk("7")},
		{args: req("EXISTS", "n"), want: num(0)},
		{args: req("RENAME", "m", "m"), want: plusOK},
		{args: req("GET", "m"), want: bulk("7")},
		{args: req("RENAME", "list", "m"), want: plusOK}, // overwrites, whatever the kind
		{args: req("TYPE", "m"), want: resp.Simple("list")},
		{args: req("RENAME", "missing", "x"), want: noSuchKey},
		{args: req("SET", "t", "v", "EX", 50), want: plusOK},
		{args: req("RENAME", "t", "u"), want: plusOK},
		{args: req("TTL", "u"), want: num(50)},
		{args: req("RENAME", 5, "x"), want: noSuchKey},

		{args: req("FLUSHALL", "foo"), want: syntaxErr},
		{args: req("FLUSHALL", "ASYNC", "SYNC"), want: syntaxErr},
		{args: req("FLUSHDB", "sync"), want: plusOK},
		{args: req("DBSIZE"), want: num(0)},
		{args: req("SET", "a", "v"), want: plusOK},
		{args: req("FLUSHALL", "ASYNC"), want: plusOK},
		{args: req("KEYS", "*"), want: arr()},
	}, resp.RESP2, resp.RESP3)
}

// TestFSM_DeleteAndFlush: the tutorial's DELETE answers 1 or 0, FLUSH the
// number of live keys it removed (in every mode: TestFSM_Tutorial).
func TestFSM_DeleteAndFlush(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "k", "v"), want: num(1)},
		{args: req("DELETE", "k"), want: num(1)},
		{args: req("DELETE", "k"), want: num(0)},
		{args: req("DELETE", 12), want: num(0)},
		{args: req("FLUSH"), want: num(0)},
		{args: req("MSET", "a", 1, "b", 2, "c", 3), want: num(3)},
		{args: req("SET", "gone", "v", "PX", 1), want: num(1)},
		{later: 1, args: req("FLUSH"), want: num(3)},
		{args: req("DBSIZE"), want: num(0)},
		{args: req("GET", "gone"), want: null},
	}, resp.Native)
}

func TestFSM_ExpireCommands(t *testing.T) {
	at := func(s int64) string { return strconv.FormatInt(t0/1000+s, 10) }
	runModes(t, []step{
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("EXPIRE", "k", 10), want: num(1)},
		{args: req("TTL", "k"), want: num(10)},
		{args: req("EXPIRE", "missing", 10), want: num(0)},
		{args: req("PEXPIRE", "k", "1500"), want: num(1)},
		{args: req("PTTL", "k"), want: num(1500)},
		{args: req("TTL", "k"), want: num(2)},
		{args: req("EXPIREAT", "k", at(20)), want: num(1)},
		{args: req("TTL", "k"), want: num(20)},
		{args: req("PEXPIREAT", "k", t0+777), want: num(1)},
		{args: req("PTTL", "k"), want: num(777)},
		{args: req("PERSIST", "k"), want: num(1)},
		{args: req("PERSIST", "k"), want: num(0)},
		{args: req("PERSIST", "missing"), want: num(0)},
		{args: req("TTL", "k"), want: num(-1)},

		// A deadline now or in the past deletes the key.
		{args: req("EXPIRE", "k", 0), want: num(1)},
		{args: req("EXISTS", "k"), want: num(0)},
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("EXPIRE", "k", -5), want: num(1)},
		{args: req("EXISTS", "k"), want: num(0)},
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("EXPIREAT", "k", -1), want: num(1)},
		{args: req("EXISTS", "k"), want: num(0)},

		// The deadline is the entry's clock plus the seconds: a replica
		// applying it later stores the same instant.
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("PEXPIRE", "k", 100), want: num(1)},
		{later: 60, args: req("PTTL", "k"), want: num(40)},
		{later: 40, args: req("EXISTS", "k"), want: num(0)},

		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("EXPIRE", "k", "abc"), want: notInt},
		{args: req("EXPIRE", "k", arr(1)), want: notInt},
		{args: req("EXPIRE", "k", maxInt), want: resp.Err("ERR invalid expire time in 'expire' command")},
		{args: req("EXPIRE", "k", minInt), want: resp.Err("ERR invalid expire time in 'expire' command")},
		{args: req("pexpire", "k", maxInt), want: resp.Err("ERR invalid expire time in 'pexpire' command")},
		{args: req("EXPIREAT", "k", maxInt/1000+1), want: resp.Err("ERR invalid expire time in 'expireat' command")},
		{args: req("TTL", "k"), want: num(-1)},
		{args: req("EXPIRE", arr("k"), 5), want: resp.Err("ERR invalid key: a key must be a string or an integer")},
	}, resp.RESP2)
}

// KVORUM.REAP deletes only keys past their deadline at the entry's time.
func TestReap_OnlyExpired(t *testing.T) {
	f := fsm.New(fsm.Config{})
	apply := func(now int64, args ...string) resp.Value {
		vals := make([]resp.Value, len(args))
		for i, a := range args {
			vals[i] = resp.BulkString(a)
		}
		data := fsm.AppendEntry(nil, fsm.EntryHeader{Kind: fsm.EntryCommand, Mode: resp.RESP2, Now: now}, vals)
		return f.Apply(&raft.Log{Type: raft.LogCommand, Index: f.Applied() + 1, Data: data}).(resp.Value)
	}
	apply(1000, "SET", "gone", "x", "PX", "10")
	apply(1000, "SET", "kept", "x", "PX", "10000")
	apply(1000, "SET", "plain", "x")
	if got := f.Expired(1020, 10); len(got) != 1 || got[0] != "gone" {
		t.Fatalf("Expired = %v, want [gone]", got)
	}
	if v := apply(1020, "KVORUM.REAP", "gone", "kept", "plain", "missing"); v.Int() != 1 {
		t.Fatalf("REAP = %v, want 1", v)
	}
	if f.Keys() != 2 {
		t.Fatalf("keys after reap = %d, want 2", f.Keys())
	}
}

// RENAME counts as a push to dst when it moves a list or sorted set there
// (Ctx.Pushed), so pops blocked on dst wake; other kinds push nothing.
func TestKeys_RenamePushesDst(t *testing.T) {
	table := fsm.NewTable()
	c := &fsm.Ctx{State: fsm.NewState(), Now: t0, Mode: resp.RESP2, Index: 1}
	run := func(args ...any) resp.Value {
		t.Helper()
		a := vals(args)
		v := table.Lookup([]byte(a[0].Text())).Run(c, a)
		if v.IsError() {
			t.Fatalf("%v: %v", a, v)
		}
		return v
	}
	run("RPUSH", "q", "a")
	run("ZADD", "z", 1, "m")
	run("SET", "s", "v")
	run("SET", "arr", arr("x")) // an array stored with SET is a list too
	c.Pushed = nil
	for _, tc := range []struct {
		from, to string
		want     []string
	}{
		{"q", "dst", []string{"dst"}},
		{"z", "zdst", []string{"zdst"}},
		{"arr", "adst", []string{"adst"}},
		{"s", "sdst", nil},
	} {
		c.Pushed = nil
		run("RENAME", tc.from, tc.to)
		if len(c.Pushed) != len(tc.want) || (len(tc.want) > 0 && c.Pushed[0] != tc.want[0]) {
			t.Errorf("RENAME %s %s: Pushed = %v, want %v", tc.from, tc.to, c.Pushed, tc.want)
		}
	}
}

// EXPIRE's NX, XX, GT and LT options and their errors, in Redis's order:
// options, then the time, then the key.
func TestKeys_ExpireOptions(t *testing.T) {
	nxErr := resp.Err("ERR NX and XX, GT or LT options at the same time are not compatible")
	gtltErr := resp.Err("ERR GT and LT options at the same time are not compatible")
	runModes(t, []step{
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("EXPIRE", "k", 100, "XX"), want: num(0)},
		{args: req("EXPIRE", "k", 100, "GT"), want: num(0)}, // no deadline is forever
		{args: req("EXPIRE", "k", 100, "NX"), want: num(1)},
		{args: req("EXPIRE", "k", 200, "NX"), want: num(0)},
		{args: req("TTL", "k"), want: num(100)},
		{args: req("EXPIRE", "k", 200, "XX"), want: num(1)},
		{args: req("EXPIRE", "k", 100, "GT"), want: num(0)},
		{args: req("EXPIRE", "k", 200, "GT"), want: num(0)},
		{args: req("EXPIRE", "k", 300, "gt"), want: num(1)},
		{args: req("TTL", "k"), want: num(300)},
		{args: req("EXPIRE", "k", 400, "LT"), want: num(0)},
		{args: req("PEXPIRE", "k", 300000, "LT"), want: num(0)},
		{args: req("EXPIRE", "k", 50, "LT", "XX"), want: num(1)},
		{args: req("TTL", "k"), want: num(50)},
		{args: req("PERSIST", "k"), want: num(1)},
		{args: req("EXPIRE", "k", 50, "LT", "XX"), want: num(0)},
		{args: req("EXPIRE", "k", 50, "LT"), want: num(1)}, // no deadline: any is less
		{args: req("PEXPIREAT", "k", t0+1000, "GT", "XX"), want: num(0)},
		{args: req("EXPIREAT", "k", strconv.FormatInt(t0/1000+60, 10), "GT"), want: num(1)},
		{args: req("EXPIRETIME", "k"), want: num(t0/1000 + 60)},
		{args: req("EXPIRE", "k", -1, "LT"), want: num(1)}, // in the past: deleted
		{args: req("EXISTS", "k"), want: num(0)},
		{args: req("EXPIRE", "missing", 10, "NX"), want: num(0)},

		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("EXPIRE", "k", 10, "NX", "XX"), want: nxErr},
		{args: req("EXPIRE", "k", 10, "NX", "GT"), want: nxErr},
		{args: req("EXPIRE", "k", 10, "LT", "NX"), want: nxErr},
		{args: req("EXPIRE", "k", 10, "GT", "LT"), want: gtltErr},
		{args: req("EXPIRE", "k", 10, "NX", "GT", "LT"), want: nxErr},
		{args: req("EXPIRE", "k", 10, "XX", "GT", "LT"), want: gtltErr},
		{args: req("EXPIRE", "k", 10, "AB"), want: resp.Err("ERR Unsupported option AB")},
		{args: req("EXPIRE", "k", 10, "nx", "ab"), want: resp.Err("ERR Unsupported option ab")},
		{args: req("EXPIRE", "k", "x", "AB"), want: resp.Err("ERR Unsupported option AB")},
		{args: req("EXPIRE", "k", "x", "GT", "LT"), want: gtltErr},
		{args: req("EXPIRE", "k", "x", "NX"), want: notInt},
		{args: req("EXPIRE", "k", maxInt, "NX"), want: resp.Err("ERR invalid expire time in 'expire' command")},
		{args: req("pexpireat", "k", maxInt), want: num(1)}, // an absolute deadline cannot overflow
		{args: req("PEXPIRETIME", "k"), want: num(maxInt)},
		{args: req("EXPIRETIME", "k"), want: num(maxInt/1000 + 1)},
		{args: req("PeXpIrE", "k", maxInt), want: resp.Err("ERR invalid expire time in 'pexpire' command")},
		{args: req("EXPIRE"), want: arity("expire")},
		{args: req("EXPIRE", "k"), want: arity("expire")},
	}, resp.RESP2, resp.RESP3)
}

func TestKeys_ExpireTime(t *testing.T) {
	runModes(t, []step{
		{args: req("EXPIRETIME", "missing"), want: num(-2)},
		{args: req("PEXPIRETIME", "missing"), want: num(-2)},
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("EXPIRETIME", "k"), want: num(-1)},
		{args: req("PEXPIRETIME", "k"), want: num(-1)},
		{args: req("PEXPIREAT", "k", t0+100_499), want: num(1)},
		{args: req("PEXPIRETIME", "k"), want: num(t0 + 100_499)},
		{args: req("EXPIRETIME", "k"), want: num(t0/1000 + 100)},
		{args: req("PEXPIREAT", "k", t0+100_500), want: num(1)},
		{args: req("EXPIRETIME", "k"), want: num(t0/1000 + 101)}, // rounded as Redis rounds
		{later: 100_500, args: req("EXPIRETIME", "k"), want: num(-2)},
	}, resp.RESP2, resp.RESP3)
}

func TestKeys_RenameNX(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "a", "1", "EX", 40), want: plusOK},
		{args: req("SET", "b", "2"), want: plusOK},
		{args: req("RENAMENX", "a", "b"), want: num(0)},
		{args: req("MGET", "a", "b"), want: arr("1", "2")},
		{args: req("RENAMENX", "a", "c"), want: num(1)},
		{args: req("MGET", "a", "c"), want: arr(nil, "1")},
		{args: req("TTL", "c"), want: num(40)},
		{args: req("RENAMENX", "c", "c"), want: num(0)},
		{args: req("RENAMENX", "missing", "missing"), want: noSuchKey},
		{args: req("RENAMENX", "missing", "x"), want: noSuchKey},
		{args: req("RENAME", "c", "c"), want: plusOK},
		{args: req("GET", "c"), want: bulk("1")},
		{args: req("RENAME", "missing", "missing"), want: noSuchKey},
		{args: req("SET", "t", "v", "PX", 10), want: plusOK},
		{later: 10, args: req("RENAMENX", "b", "t"), want: num(1)}, // an expired key is no key
		{args: req("GET", "t"), want: bulk("2")},
	}, resp.RESP2, resp.RESP3)
}

func TestKeys_Copy(t *testing.T) {
	rangeErr := resp.Err("ERR DB index is out of range")
	runModes(t, []step{
		{args: req("SET", "s", "foobar"), want: plusOK},
		{args: req("COPY", "s", "s2"), want: num(1)},
		{args: req("GET", "s2"), want: bulk("foobar")},
		{args: req("DBSIZE"), want: num(2)},
		{args: req("SET", "s3", "x"), want: plusOK},
		{args: req("COPY", "s", "s3"), want: num(0)},
		{args: req("GET", "s3"), want: bulk("x")},
		{args: req("COPY", "s", "s3", "REPLACE"), want: num(1)},
		{args: req("GET", "s3"), want: bulk("foobar")},
		{args: req("COPY", "missing", "s3", "REPLACE"), want: num(0)},
		{args: req("GET", "s3"), want: bulk("foobar")},
		{args: req("COPY", "s", "s", "REPLACE"), want: resp.Err("ERR source and destination objects are the same")},
		{args: req("COPY", "s", "s4", "DB", 0), want: num(1)},
		{args: req("COPY", "s", "s5", "db", 10), want: rangeErr},
		{args: req("COPY", "s", "s", "DB", 1), want: rangeErr},
		{args: req("COPY", "s", "s5", "DB", -1), want: rangeErr},
		{args: req("COPY", "s", "s5", "DB", "notanumber"), want: notInt},
		{args: req("COPY", "s", "s5", "DB", 4294967296), want: resp.Err("ERR value is out of range, value must between -2147483648 and 2147483647")},
		{args: req("COPY", "s", "s5", "DB"), want: syntaxErr},
		{args: req("COPY", "s", "s5", "BOGUS"), want: syntaxErr},
		{args: req("EXISTS", "s5"), want: num(0)},

		// The deadline comes along, or none.
		{args: req("SET", "e", "v", "EX", 100), want: plusOK},
		{args: req("COPY", "e", "s3", "REPLACE"), want: num(1)},
		{args: req("TTL", "s3"), want: num(100)},
		{args: req("COPY", "s", "s3", "REPLACE"), want: num(1)},
		{args: req("TTL", "s3"), want: num(-1)},

		// Each kind is copied whole, sharing nothing with the source.
		{args: req("RPUSH", "l", "a", "b", "c"), want: num(3)},
		{args: req("COPY", "l", "l2"), want: num(1)},
		{args: req("RPUSH", "l2", "d"), want: num(4)},
		{args: req("LRANGE", "l", 0, -1), want: arr("a", "b", "c")},
		{args: req("LRANGE", "l2", 0, -1), want: arr("a", "b", "c", "d")},
		{args: req("HSET", "h", "f", "1", "g", "2"), want: num(2)},
		{args: req("COPY", "h", "h2"), want: num(1)},
		{args: req("HDEL", "h2", "f"), want: num(1)},
		{args: req("HLEN", "h"), want: num(2)},
		{args: req("HLEN", "h2"), want: num(1)},
		{args: req("SADD", "set", "x", "y"), want: num(2)},
		{args: req("COPY", "set", "set2"), want: num(1)},
		{args: req("SREM", "set2", "x"), want: num(1)},
		{args: req("SCARD", "set"), want: num(2)},
		{args: req("ZADD", "z", 1, "a", 2, "b"), want: num(2)},
		{args: req("COPY", "z", "z2"), want: num(1)},
		{args: req("ZREM", "z2", "a"), want: num(1)},
		{args: req("ZCARD", "z"), want: num(2)},
		{args: req("TYPE", "z2"), want: resp.Simple("zset")},
	}, resp.RESP2, resp.RESP3)
}

// RANDOMKEY answers null for an empty keyspace and the one live key when
// there is one (through Read and through the log alike).
func TestKeys_RandomKey(t *testing.T) {
	runModes(t, []step{
		{args: req("RANDOMKEY"), want: null},
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("RANDOMKEY"), want: bulk("k")},
		{args: req("SET", "gone", "v", "PX", 5), want: plusOK},
		{later: 5, args: req("RANDOMKEY"), want: bulk("k")},
		{args: req("DEL", "k"), want: num(1)},
		{args: req("RANDOMKEY"), want: null},
		{args: req("RANDOMKEY", "x"), want: arity("randomkey")},
	}, resp.RESP2, resp.RESP3)

	// With many keys, every key comes up, each a live one.
	n := newNode(t, resp.RESP2)
	n.apply("MSET", "a", 1, "b", 2, "c", 3)
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 3; i++ {
		seen[n.read("RANDOMKEY").Text()] = true
	}
	if len(seen) != 3 || !seen["a"] || !seen["b"] || !seen["c"] {
		t.Fatalf("RANDOMKEY over 200 reads saw %v, want a, b and c", seen)
	}
	// Inside the log every replica picks the same key.
	m := newNode(t, resp.RESP2)
	m.apply("MSET", "a", 1, "b", 2, "c", 3)
	for i := 0; i < 20; i++ {
		if got, want := m.apply("RANDOMKEY"), n.apply("RANDOMKEY"); !resp.Equal(got, want) {
			t.Fatalf("RANDOMKEY through the log at the same index: %v and %v", got, want)
		}
	}
}

// TOUCH counts the live keys it is given, as EXISTS does; MOVE answers
// Redis's errors, as only database 0 exists.
func TestKeys_TouchMove(t *testing.T) {
	runModes(t, []step{
		{args: req("MSET", "a", 1, "b", 2), want: plusOK},
		{args: req("TOUCH", "a", "a", "missing", "b"), want: num(3)},
		{args: req("TOUCH"), want: arity("touch")},
		{args: req("MOVE", "a", 0), want: resp.Err("ERR source and destination objects are the same")},
		{args: req("MOVE", "a", 1), want: resp.Err("ERR DB index is out of range")},
		{args: req("MOVE", "missing", -1), want: resp.Err("ERR DB index is out of range")},
		{args: req("MOVE", "a", "x"), want: notInt},
		{args: req("MOVE", "a", 4294967296), want: resp.Err("ERR value is out of range, value must between -2147483648 and 2147483647")},
		{args: req("GET", "a"), want: bulk("1")},
	}, resp.RESP2, resp.RESP3)
}
