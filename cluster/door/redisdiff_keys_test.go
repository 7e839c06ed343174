package door_test

import (
	"strconv"
	"testing"
	"time"
)

// EXPIRE and its kin with NX, XX, GT and LT, their errors, and
// EXPIRETIME/PEXPIRETIME, compared with redis-server. Absolute deadlines
// are a day from now, the same for both.
func TestRedisDiff_ExpireOptions(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	day := time.Now().Add(24 * time.Hour)
	at, pat := strconv.FormatInt(day.Unix(), 10), strconv.FormatInt(day.UnixMilli(), 10)
	later := strconv.FormatInt(day.Unix()+100, 10)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("SET", "k", "v"),
		rq("EXPIRE", "k", "100", "XX"), rq("EXPIRE", "k", "100", "GT"), rq("EXPIRE", "k", "100", "NX"),
		rq("EXPIRE", "k", "200", "NX"), rq("TTL", "k"), rq("EXPIRE", "k", "200", "XX"), rq("EXPIRE", "k", "100", "GT"),
		rq("EXPIRE", "k", "300", "gt"), rq("TTL", "k"), rq("EXPIRE", "k", "400", "LT"), rq("EXPIRE", "k", "50", "LT", "XX"),
		rq("TTL", "k"), rq("PERSIST", "k"), rq("EXPIRE", "k", "50", "LT", "XX"), rq("EXPIRE", "k", "50", "LT"),
		rq("EXPIREAT", "k", at), rq("EXPIRETIME", "k"), rq("PEXPIRETIME", "k"),
		rq("EXPIREAT", "k", later, "LT"), rq("EXPIREAT", "k", later, "GT"), rq("EXPIRETIME", "k"),
		rq("PEXPIREAT", "k", pat, "GT"), rq("PEXPIREAT", "k", pat, "LT"), rq("PEXPIRETIME", "k"), rq("EXPIRETIME", "k"),
		rq("EXPIRE", "k", "-1", "LT"), rq("EXISTS", "k"), rq("EXPIRE", "missing", "10", "NX"),
		rq("SET", "k", "v"), rq("EXPIRE", "k", "-5"), rq("EXISTS", "k"),
		rq("SET", "k", "v"), rq("EXPIREAT", "k", "1"), rq("EXISTS", "k"),
		rq("SET", "k", "v"), rq("PEXPIRE", "k", "0", "NX"), rq("EXISTS", "k"),

		rq("SET", "k", "v"),
		rq("EXPIRE", "k", "10", "NX", "XX"), rq("EXPIRE", "k", "10", "NX", "GT"), rq("EXPIRE", "k", "10", "LT", "NX"),
		rq("EXPIRE", "k", "10", "GT", "LT"), rq("EXPIRE", "k", "10", "NX", "GT", "LT"), rq("EXPIRE", "k", "10", "XX", "GT", "LT"),
		rq("EXPIRE", "k", "10", "AB"), rq("EXPIRE", "k", "10", "nx", "ab"), rq("EXPIRE", "k", "x", "AB"),
		rq("EXPIRE", "k", "x", "GT", "LT"), rq("EXPIRE", "k", "x", "NX"), rq("EXPIRE", "k", "1.5"),
		rq("EXPIRE", "k", "9223372036854775807", "NX"), rq("EXPIRE", "k", "-9223372036854775808"),
		rq("expire", "k", "9223370399119966"), rq("PEXPIRE", "k", "9223372036854775807"), rq("pexpire", "k", "9223372036854770000"),
		rq("EXPIREAT", "k", "9223372036854776"), rq("TTL", "k"),
		rq("PEXPIREAT", "k", "9223372036854775807"), rq("PEXPIRETIME", "k"), rq("EXPIRETIME", "k"),
		rq("EXPIRE"), rq("EXPIRE", "k"), rq("PEXPIREAT", "k"),
		rq("EXPIRETIME", "missing"), rq("PEXPIRETIME", "missing"), rq("SET", "p", "v"), rq("EXPIRETIME", "p"),
		rq("PEXPIRETIME", "p"), rq("EXPIRETIME"), rq("PEXPIRETIME", "a", "b"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// RENAMENX, COPY and RANDOMKEY, compared with redis-server. Only database
// 0 exists in kvorum: COPY to another one is compared only where Redis too
// refuses it (a database past its 16).
func TestRedisDiff_RenameNXCopyRandomKey(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("RANDOMKEY"),
		rq("SET", "a", "1", "EX", "40"), rq("SET", "b", "2"),
		rq("RENAMENX", "a", "b"), rq("MGET", "a", "b"), rq("RENAMENX", "a", "c"), rq("MGET", "a", "c"), rq("TTL", "c"),
		rq("RENAMENX", "c", "c"), rq("RENAMENX", "missing", "missing"), rq("RENAMENX", "missing", "x"),
		rq("RENAME", "c", "c"), rq("GET", "c"), rq("RENAME", "missing", "missing"), rq("RENAMENX", "c"),
		rq("DEL", "b"), rq("RANDOMKEY"), rq("RANDOMKEY", "x"),

		rq("SET", "s", "foobar"), rq("COPY", "s", "s2"), rq("GET", "s2"), rq("DBSIZE"),
		rq("SET", "s3", "x"), rq("COPY", "s", "s3"), rq("GET", "s3"), rq("COPY", "s", "s3", "REPLACE"), rq("GET", "s3"),
		rq("COPY", "missing", "s3", "REPLACE"), rq("COPY", "s", "s", "REPLACE"), rq("COPY", "s", "s", "DB", "0"),
		rq("COPY", "s", "s4", "DB", "0"), rq("COPY", "s", "s5", "db", "16"), rq("COPY", "s", "s5", "DB", "-1"),
		rq("COPY", "s", "s5", "DB", "notanumber"), rq("COPY", "s", "s5", "DB", "4294967296"), rq("COPY", "s", "s5", "DB"),
		rq("COPY", "s", "s5", "BOGUS"), rq("COPY", "s", "s5", "DB", "99", "BOGUS"), rq("COPY", "s", "s5", "BOGUS", "DB", "99"),
		rq("EXISTS", "s5"), rq("COPY", "s"),
		rq("SET", "e", "v", "EX", "100"), rq("COPY", "e", "s3", "REPLACE"), rq("TTL", "s3"),
		rq("COPY", "s", "s3", "REPLACE"), rq("TTL", "s3"),

		rq("RPUSH", "l", "a", "b", "c"), rq("COPY", "l", "l2"), rq("RPUSH", "l2", "d"), rq("LRANGE", "l", "0", "-1"),
		rq("LRANGE", "l2", "0", "-1"), rq("TYPE", "l2"),
		rq("HSET", "h", "f", "1", "g", "2"), rq("COPY", "h", "h2"), rq("HDEL", "h2", "f"), rq("HGETALL", "h"), rq("HGETALL", "h2"),
		rq("SADD", "set", "x", "y"), rq("COPY", "set", "set2"), rq("SREM", "set2", "x"), rq("SCARD", "set"), rq("SCARD", "set2"),
		rq("ZADD", "z", "1", "a", "2", "b"), rq("COPY", "z", "z2"), rq("ZREM", "z2", "a"), rq("ZCARD", "z"), rq("TYPE", "z2"),
		rq("COPY", "z", "l", "REPLACE"), rq("TYPE", "l"), rq("ZSCORE", "l", "b"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// TOUCH, and MOVE's errors where Redis too has no such database or the
// same one, compared with redis-server.
func TestRedisDiff_TouchMove(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"), rq("MSET", "a", "1", "b", "2"),
		rq("TOUCH", "a", "a", "missing", "b"), rq("TOUCH"),
		rq("MOVE", "a", "0"), rq("MOVE", "missing", "0"), rq("MOVE", "a", "16"), rq("MOVE", "a", "-1"),
		rq("MOVE", "a", "x"), rq("MOVE", "a", "4294967296"), rq("MOVE", "a"), rq("GET", "a"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}
