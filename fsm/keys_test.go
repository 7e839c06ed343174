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
		{args: req("EXPIRE", "k", maxInt), want: resp.Err("ERR invalid expire time in 'EXPIRE' command")},
		{args: req("EXPIRE", "k", minInt), want: resp.Err("ERR invalid expire time in 'EXPIRE' command")},
		{args: req("pexpire", "k", maxInt), want: resp.Err("ERR invalid expire time in 'pexpire' command")},
		{args: req("EXPIREAT", "k", maxInt/1000+1), want: resp.Err("ERR invalid expire time in 'EXPIREAT' command")},
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
