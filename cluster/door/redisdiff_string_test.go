package door_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// SET's options as Redis parses them, and GETEX, compared with
// redis-server. Absolute deadlines are a day from now, the same for both.
func TestRedisDiff_SetAndGetEx(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	day := time.Now().Add(24 * time.Hour)
	exat, pxat := strconv.FormatInt(day.Unix(), 10), strconv.FormatInt(day.UnixMilli(), 10)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("SET", "k", "v", "EX", "10", "EX", "20"), rq("TTL", "k"),
		rq("SET", "k", "v", "PX", "10", "EX", "20"), rq("SET", "k", "v", "EX", "abc", "FOO"),
		rq("SET", "k", "v", "PX", "0", "NX", "XX"), rq("SET", "k", "v", "NX", "NX"), rq("SET", "k", "w", "GET", "GET"),
		rq("SET", "k", "v", "KEEPTTL", "PERSIST"), rq("SET", "k", "v", "KEEPTTL", "KEEPTTL"), rq("TTL", "k"),
		rq("SET", "k", "v", "EX", "0"), rq("SET", "k", "v", "PX", "-1"), rq("SET", "k", "v", "EX", "abc"),
		rq("SET", "k", "v", "EX", "9223372036854775807"), rq("SET", "k", "v", "PX", "9223372036854775807"),
		rq("SET", "k", "v", "EXAT", exat, "PXAT", pxat), rq("SET", "k", "v", "EX"),
		rq("SETEX", "k", "0", "v"), rq("PSETEX", "k", "-5", "v"), rq("setex", "k", "9223372036854775807", "v"),
		rq("SETEX", "k", "abc", "v"), rq("SETEX", "k", "100", "v"), rq("TTL", "k"),
		rq("RPUSH", "list", "a"), rq("SET", "list", "v", "GET", "EX", "0"), rq("SET", "list", "v", "GET", "EX", "5"),

		rq("SET", "k", "v"), rq("GETEX", "k"), rq("TTL", "k"),
		rq("GETEX", "k", "EX", "100"), rq("TTL", "k"), rq("GETEX", "k", "px", "200000"), rq("TTL", "k"),
		rq("GETEX", "k", "PERSIST"), rq("TTL", "k"), rq("GETEX", "k", "PERSIST"),
		rq("GETEX", "k", "EXAT", exat), rq("EXPIRETIME", "k"), rq("GETEX", "k", "PXAT", pxat), rq("PEXPIRETIME", "k"),
		rq("GETEX", "k", "ex", "10", "ex", "20"), rq("TTL", "k"),
		rq("GETEX", "k", "PXAT", "1"), rq("EXISTS", "k"),
		rq("SET", "k", "v"), rq("GETEX", "k", "EXAT", "1"), rq("GET", "k"),
		rq("SET", "n", "42"), rq("GETEX", "n", "EX", "5"), rq("GETEX", "missing", "EX", "abc"),
		rq("GETEX", "n", "EX", "abc"), rq("GETEX", "n", "EX", "0"), rq("GETEX", "n", "PX", "-5"),
		rq("GETEX", "n", "EX", "10000000000000000"), rq("GETEX", "n", "EX", "-9999999999999999"),
		rq("GETEX", "n", "PX", "9223372036854775807"),
		rq("GETEX", "n", "EX"), rq("GETEX", "n", "NX"), rq("GETEX", "n", "KEEPTTL"), rq("GETEX", "n", "GET"),
		rq("GETEX", "n", "PERSIST", "EX", "5"), rq("GETEX", "n", "EX", "5", "PERSIST"), rq("GETEX", "n", "EX", "5", "PX", "5"),
		rq("GETEX", "missing", "BOGUS"), rq("GETEX", "list", "EX", "abc"), rq("GETEX", "list"), rq("GETEX"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// GETRANGE, SUBSTR, SETRANGE, MSETNX and APPEND, compared with
// redis-server, errors included.
func TestRedisDiff_StringRanges(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("SET", "s", "This is a string"),
		rq("GETRANGE", "s", "0", "3"), rq("GETRANGE", "s", "-3", "-1"), rq("GETRANGE", "s", "0", "-1"),
		rq("GETRANGE", "s", "10", "100"), rq("GETRANGE", "s", "5", "3"), rq("GETRANGE", "s", "-1", "-5"),
		rq("GETRANGE", "s", "-100", "2"), rq("GETRANGE", "s", "0", "-100"), rq("GETRANGE", "s", "100", "200"),
		rq("GETRANGE", "s", "0", "4294967297"), rq("GETRANGE", "s", "-9223372036854775808", "9223372036854775807"),
		rq("SUBSTR", "s", "0", "3"), rq("GETRANGE", "missing", "0", "-1"), rq("GETRANGE", "missing", "x", "-1"),
		rq("GETRANGE", "s", "0", "1.5"), rq("GETRANGE", "s", "0"), rq("SUBSTR", "s"),
		rq("SET", "n", "1234"), rq("GETRANGE", "n", "1", "2"), rq("SET", "e", ""), rq("GETRANGE", "e", "0", "-1"),
		rq("RPUSH", "list", "a"), rq("GETRANGE", "list", "0", "-1"), rq("GETRANGE", "list", "x", "-1"),

		rq("SETRANGE", "k", "0", "foo"), rq("SETRANGE", "k", "1", "b"), rq("GET", "k"),
		rq("SETRANGE", "k", "5", "xy"), rq("GET", "k"), rq("SETRANGE", "k", "2", ""), rq("SETRANGE", "k", "100", ""),
		rq("SETRANGE", "missing", "0", ""), rq("EXISTS", "missing"), rq("SETRANGE", "pad", "3", "a"), rq("GET", "pad"),
		rq("SET", "n", "1234", "EX", "50"), rq("SETRANGE", "n", "1", "99"), rq("GET", "n"), rq("TTL", "n"), rq("INCR", "n"),
		rq("SETRANGE", "k", "-1", "x"), rq("SETRANGE", "k", "x", "x"), rq("SETRANGE", "k", "536870911", "xy"),
		rq("SETRANGE", "k", "536870910", ""), rq("SETRANGE", "new", "9223372036854775807", "x"),
		rq("SETRANGE", "new", "536870908", "world"), rq("SETRANGE", "new", "4294967295", "x"), rq("EXISTS", "new"),
		rq("SETRANGE", "list", "0", "x"), rq("SETRANGE", "list", "-1", "x"), rq("SETRANGE", "list", "0", ""),
		rq("SETRANGE", "k", "1"),

		// INCRBYFLOAT reads the whole string, a NUL byte included.
		rq("SET", "foo", "1"), rq("SETRANGE", "foo", "2", "2"), rq("INCRBYFLOAT", "foo", "1"), rq("INCR", "foo"),

		rq("MSETNX", "a", "1", "b", "2"), rq("MGET", "a", "b"), rq("MSETNX", "c", "3", "a", "x"), rq("EXISTS", "c"),
		rq("MSETNX", "d", "x", "d", "y"), rq("GET", "d"), rq("MSETNX", "e2", "1", "f"), rq("MSETNX", "e2"), rq("MSETNX"),
		rq("MSETNX", "list", "x"),

		rq("APPEND", "list", "x"), rq("APPEND", "a", "23"), rq("GET", "a"), rq("STRLEN", "a"), rq("STRLEN", "list"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// LCS, its options and errors, compared with redis-server (IDX answers a
// map in RESP3).
func TestRedisDiff_LCS(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("MSET", "a", "ohmytext", "b", "mynewtext", "n", "12345", "m", "2340"),
		rq("SET", "v1", "ACCGGTCGAGTGCGCGGAAGCCGGCCGAA"), rq("SET", "v2", "GTCGTTCGGAATGCCGTTGCTCTGTAAA"),
		rq("LCS", "a", "b"), rq("LCS", "a", "b", "LEN"), rq("LCS", "a", "b", "IDX"), rq("LCS", "a", "b", "idx", "withmatchlen"),
		rq("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"), rq("LCS", "a", "b", "IDX", "MINMATCHLEN", "-4"),
		rq("LCS", "v1", "v2"), rq("LCS", "v1", "v2", "IDX", "WITHMATCHLEN"), rq("LCS", "v2", "v1", "IDX", "MINMATCHLEN", "2"),
		rq("LCS", "a", "missing"), rq("LCS", "missing", "a", "IDX"), rq("LCS", "missing", "missing2", "LEN"),
		rq("LCS", "n", "m"), rq("LCS", "a", "a"), rq("LCS", "a", "b", "LEN", "LEN"),
		rq("LCS", "a", "b", "LEN", "IDX"), rq("LCS", "a", "b", "MINMATCHLEN"), rq("LCS", "a", "b", "MINMATCHLEN", "x"),
		rq("LCS", "a", "b", "BOGUS"), rq("LCS", "a"),
		rq("RPUSH", "list", "x"), rq("LCS", "a", "list", "BOGUS"), rq("LCS", "list", "missing"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// SETBIT, GETBIT, BITCOUNT and BITPOS, compared with redis-server.
func TestRedisDiff_Bits(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("SETBIT", "k", "7", "1"), rq("GET", "k"), rq("SETBIT", "k", "7", "1"), rq("SETBIT", "k", "7", "0"),
		rq("SETBIT", "k", "17", "1"), rq("GET", "k"), rq("SETBIT", "k", "30", "0"), rq("STRLEN", "k"),
		rq("GETBIT", "k", "17"), rq("GETBIT", "k", "16"), rq("GETBIT", "k", "1000"), rq("GETBIT", "missing", "0"),
		rq("SET", "n", "1", "EX", "30"), rq("GETBIT", "n", "2"), rq("SETBIT", "n", "6", "1"), rq("GET", "n"), rq("TTL", "n"),
		rq("SETBIT", "k", "-1", "1"), rq("SETBIT", "k", "4294967296", "1"), rq("SETBIT", "k", "x", "1"),
		rq("SETBIT", "k", "0", "2"), rq("SETBIT", "k", "0", "-1"), rq("SETBIT", "k", "0", "x"),
		rq("GETBIT", "k", "4294967296"), rq("GETBIT", "k", "4294967295"), rq("GETBIT", "k", "-1"),
		rq("RPUSH", "list", "a"), rq("SETBIT", "list", "0", "1"), rq("SETBIT", "list", "-1", "1"), rq("GETBIT", "list", "0"),
		rq("GETBIT", "list", "x"), rq("SETBIT", "k", "1"), rq("GETBIT", "k"),

		rq("SET", "s", "foobar"), rq("BITCOUNT", "s"), rq("BITCOUNT", "s", "0", "0"), rq("BITCOUNT", "s", "1", "1"),
		rq("BITCOUNT", "s", "1", "1", "BYTE"), rq("BITCOUNT", "s", "5", "30", "BIT"), rq("BITCOUNT", "s", "0", "-1"),
		rq("BITCOUNT", "s", "-2", "-1"), rq("BITCOUNT", "s", "-1", "-2"), rq("BITCOUNT", "s", "-1", "-2", "BOGUS"),
		rq("BITCOUNT", "s", "3", "1"), rq("BITCOUNT", "s", "0", "1000"), rq("BITCOUNT", "s", "0", "1000", "bit"),
		rq("BITCOUNT", "s", "1", "1", "bit"), rq("BITCOUNT", "s", "9", "14", "BIT"), rq("BITCOUNT", "s", "-9", "-3", "BIT"),
		rq("BITCOUNT", "s", "0"), rq("BITCOUNT", "s", "0", "1", "BIT", "x"), rq("BITCOUNT", "s", "0", "1", "bits"),
		rq("BITCOUNT", "s", "x", "1"), rq("BITCOUNT", "s", "0", "x"), rq("BITCOUNT", "missing", "0"),
		rq("SET", "n7", "7"), rq("BITCOUNT", "n7"), rq("SET", "e", ""), rq("BITCOUNT", "e", "0", "-1"), rq("BITCOUNT", "e"),
		rq("BITCOUNT", "list", "x"), rq("BITCOUNT"),

		rq("SETBIT", "p", "12", "1"), rq("SETBIT", "p", "13", "1"), rq("SETBIT", "p", "23", "1"),
		rq("BITPOS", "p", "1"), rq("BITPOS", "p", "0"), rq("BITPOS", "p", "1", "2"), rq("BITPOS", "p", "1", "2", "-1", "BYTE"),
		rq("BITPOS", "p", "1", "7", "15", "BIT"), rq("BITPOS", "p", "1", "7", "-3", "bit"), rq("BITPOS", "p", "0", "12", "13", "BIT"),
		rq("BITPOS", "p", "0", "9", "20", "BIT"), rq("BITPOS", "p", "1", "3", "1"), rq("BITPOS", "p", "1", "-1", "-2"),
		rq("BITPOS", "p", "1", "14", "22", "BIT"), rq("BITPOS", "p", "1", "14", "23", "BIT"), rq("BITPOS", "p", "0", "-100"),
		rq("SET", "f", "\xff\xff\xff"), rq("BITPOS", "f", "0"), rq("BITPOS", "f", "0", "1"), rq("BITPOS", "f", "0", "0", "-1"),
		rq("BITPOS", "f", "0", "3", "21", "BIT"), rq("BITPOS", "f", "0", "3", "BIT"), rq("BITPOS", "f", "1", "3"),
		rq("BITPOS", "f", "0", "3", "x", "BIT"), rq("BITPOS", "f", "1", "0", "-1", "BOGUS"), rq("BITPOS", "f", "1", "0", "1", "BIT", "x"),
		rq("BITPOS", "f", "1", "x"), rq("BITPOS", "missing", "1"), rq("BITPOS", "missing", "0", "1", "2", "BOGUS"),
		rq("BITPOS", "missing", "2"), rq("BITPOS", "missing", "x"), rq("BITPOS", "e", "0"), rq("BITPOS", "e", "1"),
		rq("BITPOS", "n7", "1"), rq("BITPOS", "list", "1"), rq("BITPOS", "list", "2"), rq("BITPOS", "p"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// BITOP, compared with redis-server.
func TestRedisDiff_BitOp(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	long := strings.Repeat("\xa5\x0f", 40)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("MSET", "a", "\xff\x0f", "b", "\x0f", "n", "1", "long", long),
		rq("BITOP", "AND", "d", "a", "b"), rq("GET", "d"), rq("BITOP", "or", "d", "a", "b"), rq("GET", "d"),
		rq("BITOP", "XOR", "d", "a", "b"), rq("GET", "d"), rq("BITOP", "NOT", "d", "b"), rq("GET", "d"),
		rq("BITOP", "AND", "d", "a", "missing"), rq("GET", "d"), rq("BITOP", "OR", "d", "n", "n"), rq("GET", "d"),
		rq("BITOP", "AND", "d", "long", "long", "a"), rq("GET", "d"), rq("BITOP", "XOR", "d", "long", "a", "b"), rq("GET", "d"),
		rq("BITOP", "NOT", "d", "long"), rq("GET", "d"),
		rq("SET", "d", "v", "EX", "10"), rq("BITOP", "OR", "d", "a"), rq("TTL", "d"),
		rq("BITOP", "OR", "d", "missing", "missing2"), rq("EXISTS", "d"),
		rq("BITOP", "NOT", "d", "a", "b"), rq("BITOP", "NOT", "d"), rq("BITOP", "NAND", "d", "a"), rq("RPUSH", "l", "x"),
		rq("BITOP", "AND", "d", "a", "l"), rq("BITOP", "AND", "l", "a"), rq("TYPE", "l"), rq("BITOP", "AND", "d"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// BITFIELD and BITFIELD_RO, every overflow mode and error, compared with
// redis-server.
func TestRedisDiff_BitField(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("BITFIELD", "k", "SET", "i8", "0", "100", "GET", "i8", "0"), rq("BITFIELD", "k", "INCRBY", "i8", "0", "100"),
		rq("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100"),
		rq("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1", "GET", "i8", "0"),
		rq("BITFIELD", "k", "SET", "u8", "#1", "255", "GET", "u8", "8", "GET", "u4", "8"),
		rq("BITFIELD", "k", "overflow", "sat", "incrby", "u8", "8", "10", "set", "u2", "0", "7"),
		rq("BITFIELD", "k", "GET", "u8", "1000"), rq("GET", "k"),
		rq("BITFIELD", "w", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0", "INCRBY", "i64", "0", "-1"),
		rq("BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1"),
		rq("BITFIELD", "w", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "-9223372036854775808"),
		rq("BITFIELD", "w", "SET", "u63", "1", "-1", "OVERFLOW", "SAT", "SET", "u63", "1", "-1", "GET", "u63", "1"),
		rq("BITFIELD", "w", "OVERFLOW", "WRAP", "INCRBY", "u5", "100", "40", "INCRBY", "u5", "100", "-50", "INCRBY", "i5", "100", "-50"),
		rq("BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "u5", "100", "40", "INCRBY", "u5", "100", "-50", "SET", "i5", "100", "99"),
		rq("BITFIELD", "w", "OVERFLOW", "FAIL", "SET", "u3", "7", "8", "SET", "i3", "7", "-5", "SET", "i3", "7", "-4"),
		rq("GET", "w"), rq("BITFIELD", "w", "GET", "i64", "#1", "GET", "u1", "#5", "GET", "i3", "1"),
		rq("BITFIELD_RO", "k", "GET", "u8", "8"), rq("BITFIELD_RO", "k"), rq("BITFIELD", "missing"), rq("EXISTS", "missing"),
		rq("BITFIELD", "missing", "OVERFLOW", "SAT"), rq("BITFIELD_RO", "missing", "GET", "i8", "0"),
		rq("BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5"), rq("GET", "new"),
		rq("SET", "n", "1"), rq("BITFIELD", "n", "GET", "u8", "0", "SET", "u8", "0", "50"), rq("GET", "n"),
		rq("BITFIELD", "k", "GET", "I8", "0"), rq("BITFIELD", "k", "GET", "u64", "0"), rq("BITFIELD", "k", "GET", "i65", "0"),
		rq("BITFIELD", "k", "GET", "i0", "0"), rq("BITFIELD", "k", "GET", "i", "0"), rq("BITFIELD", "k", "GET", "i8", "-1"),
		rq("BITFIELD", "k", "GET", "i8", "#-1"), rq("BITFIELD", "k", "GET", "i8", "x"), rq("BITFIELD", "k", "GET", "i8", "4294967296"),
		rq("BITFIELD", "k", "GET", "i8", "#536870912"), rq("BITFIELD", "k", "SET", "i8", "0", "x"),
		rq("BITFIELD", "k", "SET", "i8", "0"), rq("BITFIELD", "k", "GET", "i8"), rq("BITFIELD", "k", "OVERFLOW"),
		rq("BITFIELD", "k", "OVERFLOW", "MAYBE"), rq("BITFIELD", "k", "BOGUS"), rq("BITFIELD", "k", "GET", "x8", "0", "BOGUS"),
		rq("BITFIELD_RO", "k", "SET", "i8", "0", "1"), rq("BITFIELD_RO", "k", "INCRBY", "i8", "0", "1", "BOGUS"),
		rq("RPUSH", "l", "x"), rq("BITFIELD_RO", "l", "SET", "i8", "0", "1"), rq("BITFIELD", "l", "GET", "i8", "0"),
		rq("BITFIELD_RO", "l", "GET", "i8", "0"), rq("BITFIELD", "l"), rq("BITFIELD"), rq("BITFIELD_RO"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}
