package door_test

import "testing"

// HSTRLEN, HSCAN and HRANDFIELD against redis-server 7, byte for byte in
// RESP2 and RESP3 (a small hash keeps its insertion order in both).
// HRANDFIELD's random picks are compared where they cannot differ: a
// one-field hash, a count covering the whole hash, the errors.
func TestRedisDiff_Hashes(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("HSET", "h", "b", "hello", "a", "12", "c", ""),
		rq("HSET", "one", "f", "v"),
		rq("SET", "str", "x"),
		rq("HSTRLEN", "h", "b"),
		rq("HSTRLEN", "h", "a"),
		rq("HSTRLEN", "h", "c"),
		rq("HSTRLEN", "h", "zz"),
		rq("HSTRLEN", "missing", "a"),
		rq("HSTRLEN", "str", "a"),
		rq("HSTRLEN", "h"),
		rq("HSTRLEN", "h", "a", "b"),
		rq("HINCRBYFLOAT", "h", "a", "1.5"),
		rq("HSTRLEN", "h", "a"),
		rq("HSCAN", "h", "0"),
		rq("HSCAN", "h", "0", "COUNT", "1"),
		rq("HSCAN", "h", "0", "MATCH", "[ab]"),
		rq("HSCAN", "h", "0", "match", "*", "count", "100"),
		rq("HSCAN", "missing", "0"),
		rq("HSCAN", "missing", "0", "COUNT", "0"),
		rq("HSCAN", "str", "0"),
		rq("HSCAN", "str", "x"),
		rq("HSCAN", "h", "x"),
		rq("HSCAN", "h", "-"),
		rq("HSCAN", "h", "0", "COUNT", "0"),
		rq("HSCAN", "h", "0", "COUNT", "x"),
		rq("HSCAN", "h", "0", "NOVALUES"),
		rq("HSCAN", "h", "0", "MATCH"),
		rq("HSCAN", "h"),
		rq("HRANDFIELD", "one"),
		rq("HRANDFIELD", "missing"),
		rq("HRANDFIELD", "str"),
		rq("HRANDFIELD", "h", "0"),
		rq("HRANDFIELD", "h", "0", "WITHVALUES"),
		rq("HRANDFIELD", "missing", "5"),
		rq("HRANDFIELD", "missing", "5", "withvalues"),
		rq("HRANDFIELD", "h", "3"),
		rq("HRANDFIELD", "h", "100"),
		rq("HRANDFIELD", "h", "3", "WITHVALUES"),
		rq("HRANDFIELD", "h", "4", "withvalues"),
		rq("HRANDFIELD", "one", "-3"),
		rq("HRANDFIELD", "one", "-2", "WITHVALUES"),
		rq("HRANDFIELD", "one", "1", "WITHVALUES"),
		rq("HRANDFIELD", "h", "x"),
		rq("HRANDFIELD", "missing", "x", "foo"),
		rq("HRANDFIELD", "missing", "1", "foo"),
		rq("HRANDFIELD", "str", "x"),
		rq("HRANDFIELD", "str", "1"),
		rq("HRANDFIELD", "h", "1", "withvalue"),
		rq("HRANDFIELD", "h", "1", "WITHVALUES", "x"),
		rq("HRANDFIELD", "h", "-9223372036854775808"),
		rq("HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES"),
		rq("HRANDFIELD", "h", "9223372036854770000", "WITHVALUES"),
		rq("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
		rq("HRANDFIELD"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}
