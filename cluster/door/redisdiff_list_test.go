package door_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// LMPOP and ZMPOP, and BLMPOP and BZMPOP when they need not block, answer
// as Redis 7 does: [key, [items]] ([member, score] pairs for the sorted
// sets), a null array when nothing is there, and Redis's errors in
// Redis's order.
func TestRedisDiff_MPop(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("RPUSH", "l", "a", "b", "c", "d", "e"),
		rq("LMPOP", "2", "none", "l", "LEFT"),
		rq("LMPOP", "1", "l", "right", "COUNT", "2"),
		rq("LMPOP", "2", "l", "none", "left", "count", "10"),
		rq("EXISTS", "l"),
		rq("LMPOP", "2", "l", "none", "LEFT"),
		rq("LMPOP", "1", "l"),
		rq("LMPOP", "0", "l", "LEFT"),
		rq("LMPOP", "-1", "l", "LEFT"),
		rq("LMPOP", "x", "l", "LEFT"),
		rq("LMPOP", "1.5", "l", "LEFT"),
		rq("LMPOP", "2", "l", "LEFT"),
		rq("LMPOP", "9223372036854775807", "l", "LEFT"),
		rq("LMPOP", "99999999999999999999", "l", "LEFT"),
		rq("LMPOP", "1", "l", "UP"),
		rq("LMPOP", "1", "l", "MIN"),
		rq("LMPOP", "1", "l", "LEFT", "COUNT"),
		rq("LMPOP", "1", "l", "LEFT", "COUNT", "0"),
		rq("LMPOP", "1", "l", "LEFT", "COUNT", "-3"),
		rq("LMPOP", "1", "l", "LEFT", "COUNT", "x"),
		rq("LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"),
		rq("LMPOP", "1", "l", "LEFT", "BAD"),
		rq("LMPOP", "1", "l", "LEFT", "COUNT", "0", "BAD"),
		rq("SET", "s", "v"),
		rq("LMPOP", "2", "s", "l", "LEFT"),
		rq("RPUSH", "l", "x", "1", "2"),
		rq("LMPOP", "2", "l", "s", "RIGHT", "COUNT", "2"),
		rq("BLMPOP", "0", "2", "none", "s", "LEFT"),
		rq("BLMPOP", "1", "2", "l", "s", "LEFT"),
		rq("BLMPOP", "-1", "1", "l", "LEFT"),
		rq("BLMPOP", "x", "1", "l", "LEFT"),
		rq("BLMPOP", "-1", "0", "l", "LEFT"),
		rq("BLMPOP", "-1", "1", "l", "MAX"),
		rq("BLMPOP", "-1", "1", "l", "LEFT", "COUNT", "0"),
		rq("BLMPOP", "0", "1", "l"),
		rq("blmpop", "0", "1"),
		rq("lmpop", "1", "l"),
		rq("ZADD", "z", "1", "a", "2", "b", "3.5", "c", "inf", "top", "-inf", "bottom"),
		rq("ZMPOP", "2", "none", "z", "MIN"),
		rq("ZMPOP", "1", "z", "max", "COUNT", "2"),
		rq("ZMPOP", "1", "z", "MIN", "COUNT", "10"),
		rq("EXISTS", "z"),
		rq("ZMPOP", "1", "z", "MIN"),
		rq("ZMPOP", "0", "z", "MIN"),
		rq("ZMPOP", "1", "z", "LEFT"),
		rq("ZMPOP", "3", "z", "MIN"),
		rq("ZMPOP", "1", "z", "MIN", "COUNT", "0"),
		rq("ZMPOP", "1", "z", "MIN", "LIMIT", "1"),
		rq("ZMPOP", "2", "none", "s", "MIN"),
		rq("BZMPOP", "0", "1", "s", "MIN"),
		rq("BZMPOP", "-1", "1", "z", "MIN"),
		rq("BZMPOP", "0", "x", "z", "MIN"),
		rq("BZMPOP", "0", "1", "z", "MIN", "COUNT", "x"),
		rq("ZADD", "z", "0.5", "m", "7", "n"),
		rq("BZMPOP", "1", "2", "z", "s", "MAX", "COUNT", "1"),
		rq("LPUSH", "l", "p"),
		rq("MULTI"), rq("BLMPOP", "0", "1", "none", "LEFT"), rq("BZMPOP", "0", "1", "none", "MIN"),
		rq("BLMPOP", "0", "1", "l", "LEFT"), rq("BZMPOP", "0", "1", "z", "MIN"), rq("EXEC"),
		rq("MULTI"), rq("LMPOP", "0", "l", "LEFT"), rq("EXEC"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// LINSERT, and the list commands' edge cases as Redis 7 checks them: the
// order of their checks, LPOP's extra arguments, LPOS's options.
func TestRedisDiff_ListEdgeCases(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("RPUSH", "l", "a", "b", "c", "b"),
		rq("LINSERT", "l", "BEFORE", "b", "x"),
		rq("LINSERT", "l", "after", "b", "y"),
		rq("LINSERT", "l", "AFTER", "b", "z"),
		rq("LINSERT", "l", "before", "a", "first"),
		rq("LINSERT", "l", "after", "b", "last"),
		rq("LRANGE", "l", "0", "-1"),
		rq("LINSERT", "l", "BEFORE", "nope", "w"),
		rq("LINSERT", "missing", "BEFORE", "a", "w"),
		rq("LINSERT", "l", "aft3r", "a", "w"),
		rq("LINSERT", "missing", "aft3r", "a", "w"),
		rq("LINSERT", "l", "BEFORE", "a"),
		rq("SET", "s", "v"),
		rq("LINSERT", "s", "BEFORE", "a", "w"),
		rq("LINSERT", "s", "MIDDLE", "a", "w"),
		rq("LPOP", "l", "1", "1"),
		rq("RPOP", "l", "2", "2"),
		rq("lpop", "l", "x", "y", "z"),
		rq("LPOP", "s", "-1"),
		rq("LPOP", "s", "x"),
		rq("LPOP", "s", "1"),
		rq("LPOP", "l", "0"),
		rq("RPOP", "missing", "0"),
		rq("LPOP", "missing", "1"),
		rq("LPOP", "missing"),
		rq("LINDEX", "missing", "x"),
		rq("LINDEX", "s", "x"),
		rq("LINDEX", "l", "x"),
		rq("LSET", "missing", "x", "v"),
		rq("LSET", "s", "x", "v"),
		rq("LSET", "l", "x", "v"),
		rq("LSET", "l", "100", "v"),
		rq("LMOVE", "missing", "s", "LEFT", "LEFT"),
		rq("RPOPLPUSH", "missing", "s"),
		rq("RPOPLPUSH", "l", "s"),
		rq("LMOVE", "l", "s", "UP", "LEFT"),
		rq("LPOS", "l", "b", "RANK", "x"),
		rq("LPOS", "l", "b", "RANK", "0"),
		rq("LPOS", "l", "b", "RANK", "-9223372036854775808"),
		rq("LPOS", "l", "b", "RANK", "-9223372036854775807"),
		rq("LPOS", "l", "b", "RANK", "-9223372036854775808", "COUNT", "0"),
		rq("LPOS", "l", "b", "RANK", "-9223372036854775808", "COUNT", "1"),
		rq("LPOS", "l", "b", "COUNT", "x"),
		rq("LPOS", "l", "b", "COUNT", "-1"),
		rq("LPOS", "l", "b", "MAXLEN", "x"),
		rq("LPOS", "l", "b", "MAXLEN", "-1"),
		rq("LPOS", "l", "b", "BAD", "x"),
		rq("LPOS", "l", "b", "RANK"),
		rq("LPOS", "l", "b", "RANK", "1", "COUNT"),
		rq("LPOS", "l", "b", "RANK", "-1", "MAXLEN", "2"),
		rq("LPOS", "l", "last", "RANK", "-1", "MAXLEN", "2"),
		rq("LPOS", "l", "b", "COUNT", "0", "RANK", "2"),
		rq("LPOS", "l", "b", "COUNT", "0", "RANK", "-2", "MAXLEN", "5"),
		rq("LPOS", "missing", "a", "COUNT", "0"),
		rq("LPOS", "missing", "a"),
		rq("LPOS", "s", "a"),
		rq("LPOS", "s", "a", "RANK", "0"),
		rq("LPUSHX", "s", "a"), rq("RPUSHX", "missing", "a"), rq("LPUSHX", "l", "p1", "p2"), rq("LPUSHX", "l"),
		rq("LRANGE", "s", "x", "0"), rq("LRANGE", "s", "0", "1"), rq("LRANGE", "missing", "x", "1"), rq("LRANGE", "l", "-100", "100"),
		rq("LTRIM", "s", "x", "0"), rq("LTRIM", "s", "0", "1"), rq("LTRIM", "missing", "0", "1"), rq("LTRIM", "l", "1", "-2"),
		rq("LREM", "s", "x", "a"), rq("LREM", "s", "1", "a"), rq("LREM", "missing", "x", "a"), rq("LREM", "l", "-1", "b"),
		rq("LLEN", "s"), rq("LLEN", "missing"), rq("LLEN", "l"), rq("LLEN"),
		rq("LSET", "l", "-1", "end"), rq("LSET", "l", "-100", "x"),
		rq("LINDEX", "l", "-1"), rq("LINDEX", "l", "100"),
		rq("LMOVE", "l", "l", "LEFT", "RIGHT"), rq("LMOVE", "l", "d", "RIGHT", "left"), rq("LMOVE", "s", "d", "LEFT", "LEFT"),
		rq("LMOVE", "l", "d", "LEFT"), rq("RPOPLPUSH", "l"),
		rq("LRANGE", "l", "0", "-1"), rq("LRANGE", "d", "0", "-1"),
		rq("RPUSH", "n", "1", "2", "-3", "1.5", "10000000000000000000"), rq("LRANGE", "n", "0", "-1"), rq("LREM", "n", "0", "1"),
		rq("LPOS", "n", "-3"), rq("LINSERT", "n", "AFTER", "2", "3"), rq("LRANGE", "n", "0", "-1"),
		rq("BLPOP", "s", "missing", "0.01"), rq("BLPOP", "missing", "s", "0.01"), rq("BRPOPLPUSH", "s", "d", "0"), rq("BRPOPLPUSH", "missing", "s", "0.01"),
		rq("BLMOVE", "missing", "s", "LEFT", "LEFT", "0.01"), rq("BLMOVE", "l", "s", "LEFT", "LEFT", "0"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// BLMPOP and BZMPOP block when every key is missing, are woken by a push
// to any of their keys, and time out with a null array, as in Redis.
func TestRedisDiff_MPopBlocks(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, tc := range []struct {
		block []string
		wake  [][]string
	}{
		{[]string{"BLMPOP", "10", "2", "k1", "k2", "LEFT", "COUNT", "2"}, [][]string{{"RPUSH", "k2", "a", "b", "c"}}},
		{[]string{"BLMPOP", "10", "2", "k1", "k2", "RIGHT", "COUNT", "5"}, [][]string{{"RPUSH", "k1", "a", "b", "c"}}},
		{[]string{"BLMPOP", "0", "1", "k1", "RIGHT"}, [][]string{{"LPUSH", "k1", "a", "b"}}},
		{[]string{"BZMPOP", "10", "2", "z1", "z2", "MIN", "COUNT", "2"}, [][]string{{"ZADD", "z2", "3", "c", "1.5", "a", "2", "b"}}},
		{[]string{"BZMPOP", "0", "2", "z1", "z2", "MAX"}, [][]string{{"ZADD", "z1", "3", "c", "1.5", "a"}}},
		{[]string{"BLMPOP", "0.05", "2", "k1", "k2", "LEFT"}, nil},
		{[]string{"BZMPOP", "0.05", "1", "z1", "MIN", "COUNT", "3"}, nil},
	} {
		for _, proto := range []string{"2", "3"} {
			want := blockedReply(t, rd, proto, tc.block, tc.wake)
			got := blockedReply(t, kv, proto, tc.block, tc.wake)
			if !bytes.Equal(got, want) {
				t.Errorf("RESP%s %q woken by %q:\nkvorum %q\nredis  %q", proto, tc.block, tc.wake, got, want)
			}
		}
	}
}

// A blocked client whose key turns into another kind stays blocked, as in
// Redis, and is served once a value of its kind is back; a key of another
// kind is passed over for one that has something to pop. A first attempt
// still answers WRONGTYPE.
func TestRedisDiff_BlockedClientIgnoresOtherKinds(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	turn := func(key string, push ...string) [][]string {
		return [][]string{{"MULTI"}, push, {"DEL", key}, {"SET", key, "foo"}, {"EXEC"}, {"DEL", key}, push}
	}
	for _, tc := range []struct {
		block []string
		wake  [][]string
	}{
		{[]string{"BLPOP", "k1", "0"}, turn("k1", "LPUSH", "k1", "a")},
		{[]string{"BRPOP", "k1", "k2", "0"}, turn("k2", "RPUSH", "k2", "a", "b")},
		{[]string{"BLMPOP", "0", "1", "k1", "LEFT", "COUNT", "1"}, turn("k1", "LPUSH", "k1", "a")},
		{[]string{"BZPOPMIN", "z1", "0"}, turn("z1", "ZADD", "z1", "1", "m")},
		{[]string{"BZMPOP", "0", "2", "z1", "z2", "MAX", "COUNT", "2"}, turn("z2", "ZADD", "z2", "1", "m", "2", "n")},
		{[]string{"BLPOP", "k1", "k2", "0"}, [][]string{{"MULTI"}, {"SET", "k1", "x"}, {"RPUSH", "k2", "v"}, {"EXEC"}}},
		{[]string{"BLMPOP", "0", "2", "k1", "k2", "RIGHT"}, [][]string{{"MULTI"}, {"RPUSH", "k1", "v"}, {"DEL", "k1"}, {"SET", "k1", "x"}, {"RPUSH", "k2", "w"}, {"EXEC"}}},
	} {
		for _, proto := range []string{"2", "3"} {
			want := blockedReply(t, rd, proto, tc.block, tc.wake)
			got := blockedReply(t, kv, proto, tc.block, tc.wake)
			if !bytes.Equal(got, want) {
				t.Errorf("RESP%s %q woken by %q:\nkvorum %q\nredis  %q", proto, tc.block, tc.wake, got, want)
			}
		}
	}
	sameAsRedis(t, kv, rd, "2", []redisStep{
		rq("FLUSHALL"), rq("SET", "k1", "x"),
		rq("BLPOP", "k1", "0"), rq("BLMPOP", "0", "2", "none", "k1", "LEFT"), rq("BZMPOP", "0", "1", "k1", "MIN"),
	})
}

// blockedReply sends block on a fresh connection at addr (protocol proto)
// with every key missing, waits until it blocks, sends the wake requests
// from another connection (none: it times out), and returns the blocked
// client's reply and the state after it: the keys' contents.
func blockedReply(t *testing.T, addr, proto string, block []string, wake [][]string) []byte {
	t.Helper()
	other := resptest.Dial(t, addr)
	defer other.Close()
	for _, args := range [][]string{{"HELLO", proto}, {"FLUSHALL"}} {
		if v := other.Do(t, args...); v.IsError() {
			t.Fatalf("%s %q = %v", addr, args, v)
		}
	}
	blocked := resptest.Dial(t, addr)
	defer blocked.Close()
	blocked.Do(t, "HELLO", proto)
	blocked.SetDeadline(time.Now().Add(20 * time.Second))
	blocked.Write(resp.AppendCommand(nil, block...))
	if wake != nil {
		resptest.WaitBlocked(t, addr, "1")
	}
	for _, args := range wake {
		if v := other.Do(t, args...); v.IsError() {
			t.Fatalf("%s %q = %v", addr, args, v)
		}
	}
	v, err := blocked.ReadValue()
	if err != nil {
		t.Fatalf("%s: read %q reply: %v", addr, block, err)
	}
	out := resp.AppendValue(nil, v)
	for _, args := range [][]string{{"TYPE", "k1"}, {"TYPE", "k2"}, {"LRANGE", "k1", "0", "-1"}, {"LRANGE", "k2", "0", "-1"},
		{"ZRANGE", "z1", "0", "-1"}, {"ZRANGE", "z2", "0", "-1"}} {
		out = resp.AppendValue(out, other.Do(t, args...))
	}
	return out
}

// Clients blocked on the same keys are served first come, first served,
// as in Redis: one push, or one EXEC, feeds them in the order they
// blocked, and those it cannot feed stay blocked for the next push.
func TestRedisDiff_BlockedClientsServedInOrder(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, tc := range []struct {
		blocks [][]string
		wake   [][]string
	}{
		{[][]string{{"BLPOP", "q", "0"}, {"BLPOP", "q", "0"}, {"BRPOP", "q", "0"}}, [][]string{{"RPUSH", "q", "a", "b", "c", "d"}}},
		{[][]string{ // Redis's "BLMPOP with multiple blocked clients"
			{"BLMPOP", "0", "2", "k1", "k2", "LEFT", "COUNT", "1"},
			{"BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "10"},
			{"BLMPOP", "0", "2", "k1", "k2", "LEFT", "COUNT", "10"},
			{"BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "1"},
		}, [][]string{{"MULTI"}, {"LPUSH", "k1", "a", "b", "c", "d", "e"}, {"LPUSH", "k2", "1", "2", "3", "4", "5"}, {"EXEC"},
			{"LPUSH", "k2", "1", "2", "3"}}},
		{[][]string{{"BZPOPMIN", "z1", "0"}, {"BZMPOP", "0", "1", "z1", "MAX", "COUNT", "2"}, {"BZPOPMAX", "z1", "0"}},
			[][]string{{"ZADD", "z1", "1", "a", "2", "b", "3", "c", "4", "d"}}},
	} {
		for _, proto := range []string{"2", "3"} {
			want := servedInOrder(t, rd, proto, tc.blocks, tc.wake)
			got := servedInOrder(t, kv, proto, tc.blocks, tc.wake)
			if !bytes.Equal(got, want) {
				t.Errorf("RESP%s %q woken by %q:\nkvorum %q\nredis  %q", proto, tc.blocks, tc.wake, got, want)
			}
		}
	}
}

// servedInOrder blocks each of blocks on its own connection at addr, one
// after another, sends the wake requests from another connection, and
// returns the blocked clients' replies in the order they blocked and the
// keys' contents after them.
func servedInOrder(t *testing.T, addr, proto string, blocks, wake [][]string) []byte {
	t.Helper()
	other := resptest.Dial(t, addr)
	defer other.Close()
	for _, args := range [][]string{{"HELLO", proto}, {"FLUSHALL"}} {
		if v := other.Do(t, args...); v.IsError() {
			t.Fatalf("%s %q = %v", addr, args, v)
		}
	}
	conns := make([]*resptest.Conn, len(blocks))
	for i, block := range blocks {
		conns[i] = resptest.Dial(t, addr)
		defer conns[i].Close()
		conns[i].Do(t, "HELLO", proto)
		conns[i].SetDeadline(time.Now().Add(20 * time.Second))
		conns[i].Write(resp.AppendCommand(nil, block...))
		resptest.WaitBlocked(t, addr, strconv.Itoa(i+1))
	}
	for _, args := range wake {
		if v := other.Do(t, args...); v.IsError() {
			t.Fatalf("%s %q = %v", addr, args, v)
		}
	}
	var out []byte
	for i, cn := range conns {
		v, err := cn.ReadValue()
		if err != nil {
			t.Fatalf("%s: read %q reply: %v", addr, blocks[i], err)
		}
		out = resp.AppendValue(out, v)
	}
	for _, args := range [][]string{{"LRANGE", "q", "0", "-1"}, {"LRANGE", "k1", "0", "-1"}, {"LRANGE", "k2", "0", "-1"},
		{"ZRANGE", "z1", "0", "-1"}} {
		out = resp.AppendValue(out, other.Do(t, args...))
	}
	return out
}
