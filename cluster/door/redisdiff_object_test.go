package door_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// OBJECT ENCODING answers the encoding Redis 7.0 gives each value under
// the node's thresholds, which CONFIG SET changes; REFCOUNT, FREQ, HELP,
// a missing key and the errors answer as Redis does.
func TestRedisDiff_Object(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	long := strings.Repeat("x", 65)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("OBJECT", "HELP"), rq("OBJECT"), rq("OBJECT", "foo"), rq("OBJECT", "foo", "k"),
		rq("OBJECT", "ENCODING"), rq("OBJECT", "encoding", "a", "b"), rq("OBJECT", "HELP", "x"),
		rq("OBJECT", "ENCODING", "nokey"), rq("OBJECT", "REFCOUNT", "nokey"), rq("OBJECT", "FREQ", "nokey"),
		// strings: int, embstr up to 44 bytes, raw beyond
		rq("SET", "s", "12345"), rq("OBJECT", "ENCODING", "s"), rq("OBJECT", "FREQ", "s"),
		rq("SET", "s", "-9223372036854775808"), rq("OBJECT", "ENCODING", "s"),
		rq("SET", "s", "9223372036854775808"), rq("OBJECT", "ENCODING", "s"),
		rq("SET", "s", "01"), rq("OBJECT", "ENCODING", "s"),
		rq("SET", "s", "-0"), rq("OBJECT", "ENCODING", "s"),
		rq("SET", "s", "+1"), rq("OBJECT", "ENCODING", "s"),
		rq("SET", "s", strings.Repeat("a", 44)), rq("OBJECT", "ENCODING", "s"),
		rq("SET", "s", strings.Repeat("a", 45)), rq("OBJECT", "ENCODING", "s"),
		rq("SET", "s", "hello"), rq("OBJECT", "REFCOUNT", "s"),
		rq("INCR", "n"), rq("OBJECT", "ENCODING", "n"),
		// lists are quicklists in 7.0
		rq("RPUSH", "l", "a", "b"), rq("OBJECT", "ENCODING", "l"), rq("OBJECT", "REFCOUNT", "l"),
		// hashes: by count and by the length of names and values
		rq("HSET", "h", "f", "v"), rq("OBJECT", "ENCODING", "h"),
		rq("HSET", "h2", "f", long), rq("OBJECT", "ENCODING", "h2"),
		rq("HSET", "h3", long, "v"), rq("OBJECT", "ENCODING", "h3"),
		// sets: integers up to the intset count, else a hashtable
		rq("SADD", "i", "1", "2", "-3"), rq("OBJECT", "ENCODING", "i"),
		rq("SADD", "j", "1", "a"), rq("OBJECT", "ENCODING", "j"),
		rq("SADD", "k", "99999999999999999999"), rq("OBJECT", "ENCODING", "k"),
		// sorted sets: by count and member length
		rq("ZADD", "z", "1", "a"), rq("OBJECT", "ENCODING", "z"),
		rq("ZADD", "z2", "1", long), rq("OBJECT", "ENCODING", "z2"),
		// the thresholds, changed by CONFIG SET
		rq("CONFIG", "SET", "hash-max-listpack-entries", "2"),
		rq("HSET", "h4", "a", "1", "b", "2"), rq("OBJECT", "ENCODING", "h4"),
		rq("HSET", "h5", "a", "1", "b", "2", "c", "3"), rq("OBJECT", "ENCODING", "h5"),
		rq("CONFIG", "SET", "hash-max-ziplist-value", "100"),
		rq("HSET", "h6", "f", long), rq("OBJECT", "ENCODING", "h6"),
		rq("CONFIG", "SET", "set-max-intset-entries", "2"),
		rq("SADD", "i2", "1", "2"), rq("OBJECT", "ENCODING", "i2"),
		rq("SADD", "i3", "1", "2", "3"), rq("OBJECT", "ENCODING", "i3"),
		rq("CONFIG", "SET", "zset-max-listpack-entries", "1"),
		rq("ZADD", "z3", "1", "a"), rq("OBJECT", "ENCODING", "z3"),
		rq("ZADD", "z4", "1", "a", "2", "b"), rq("OBJECT", "ENCODING", "z4"),
		rq("CONFIG", "SET", "zset-max-listpack-value", "100"),
		rq("ZADD", "z5", "1", long), rq("OBJECT", "ENCODING", "z5"),
		rq("CONFIG", "SET", "zset-max-listpack-entries", "0"),
		rq("ZADD", "z6", "1", "a"), rq("OBJECT", "ENCODING", "z6"),
		// the thresholds back to Redis's defaults for the next protocol's run
		rq("CONFIG", "SET", "hash-max-listpack-entries", "512"), rq("CONFIG", "SET", "hash-max-listpack-value", "64"),
		rq("CONFIG", "SET", "set-max-intset-entries", "512"), rq("CONFIG", "SET", "zset-max-listpack-entries", "128"),
		rq("CONFIG", "SET", "zset-max-listpack-value", "64"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// MEMORY answers as Redis 7 does where the answer is not an allocator's
// figure: HELP, the errors, a missing key; MEMORY USAGE of a key is an
// estimate of kvorum's own (its figures differ from Redis's by design), so
// only its shape is checked, and that it grows with the value.
func TestRedisDiff_Memory(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, []redisStep{
			rq("FLUSHALL"), rq("SET", "a", "1"),
			rq("MEMORY", "HELP"), rq("MEMORY"), rq("MEMORY", "foo"), rq("MEMORY", "USAGE"), rq("MEMORY", "HELP", "x"),
			rq("MEMORY", "USAGE", "nokey"), rq("MEMORY", "USAGE", "a", "SAMPLES", "x"), rq("MEMORY", "USAGE", "a", "foo"),
			rq("MEMORY", "USAGE", "a", "SAMPLES"), rq("MEMORY", "USAGE", "a", "SAMPLES", "-1"), rq("MEMORY", "USAGE", "a", "b", "c", "d"),
		})
	}
	c := resptest.Dial(t, kv)
	defer c.Close()
	c.Do(t, "HELLO", "2")
	size := func(args ...string) int64 {
		t.Helper()
		v := c.Do(t, append([]string{"MEMORY", "USAGE"}, args...)...)
		if v.Kind() != resp.KindInt || v.Int() <= 0 {
			t.Fatalf("MEMORY USAGE %v = %v, want a positive integer", args, v)
		}
		return v.Int()
	}
	c.Do(t, "SET", "small", "x")
	c.Do(t, "SET", "big", strings.Repeat("x", 10000))
	if s, b := size("small"), size("big"); b < s+9990 { // 9,999 more bytes of value, a 2-byte shorter key
		t.Errorf("MEMORY USAGE small %d, big %d: want big about 10,000 more", s, b)
	}
	for i := 0; i < 100; i++ {
		c.Do(t, "RPUSH", "l", strings.Repeat("y", 100))
		c.Do(t, "HSET", "h", strconv.Itoa(i), strings.Repeat("y", 100))
		c.Do(t, "SADD", "s", strings.Repeat("y", 100)+strconv.Itoa(i))
		c.Do(t, "ZADD", "z", strconv.Itoa(i), strings.Repeat("y", 100)+strconv.Itoa(i))
	}
	for _, k := range []string{"l", "h", "s", "z"} {
		if n, all := size(k), size(k, "SAMPLES", "0"); n < 100*100 || all < 100*100 {
			t.Errorf("MEMORY USAGE %s = %d (sampled), %d (all): want at least its 10,000 bytes of elements", k, n, all)
		}
	}
	if v := c.Do(t, "INFO", "memory"); !strings.Contains(v.Text(), "mem_allocator:go") {
		t.Errorf("INFO memory has no mem_allocator:go:\n%s", v.Text())
	}
}
