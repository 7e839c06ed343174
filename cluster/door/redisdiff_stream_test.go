package door_test

import "testing"

// Streams: XADD with explicit, partial and automatic IDs (the automatic
// ones differ by clock, so only their shape is compared through XLEN and
// XRANGE counts), NOMKSTREAM, MAXLEN and MINID trims, XRANGE/XREVRANGE
// bounds, exclusive bounds and COUNT, XDEL, XTRIM, TYPE and the errors,
// as Redis 7.0 answers them.
func TestRedisDiff_Streams(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, []redisStep{
			rq("FLUSHALL"),
			rq("XADD", "s", "1-1", "a", "1"), rq("XADD", "s", "1-2", "b", "2", "c", "3"), rq("XADD", "s", "5", "d", "4"),
			rq("XADD", "s", "5-*", "e", "5"), rq("XADD", "s", "7-*", "f", "6"), rq("XADD", "s", "3-0", "x", "1"),
			rq("XADD", "s", "7-1", "x", "1"), rq("XADD", "s", "0-0", "x", "1"), rq("XADD", "s", "x-1", "x", "1"),
			rq("XADD", "s", "8-1", "x"), rq("XADD", "s", "8-1"), rq("XADD", "new", "0-*", "a", "1"),
			rq("XLEN", "s"), rq("XLEN", "nokey"), rq("TYPE", "s"), rq("OBJECT", "ENCODING", "s"),
			rq("XRANGE", "s", "-", "+"), rq("XREVRANGE", "s", "+", "-"), rq("XRANGE", "s", "1", "5"),
			rq("XRANGE", "s", "(1-1", "(5-1"), rq("XRANGE", "s", "-", "+", "COUNT", "2"), rq("XREVRANGE", "s", "+", "-", "COUNT", "1"),
			rq("XRANGE", "s", "-", "+", "COUNT", "0"), rq("XRANGE", "s", "5", "1"), rq("XRANGE", "s", "x", "+"),
			rq("XRANGE", "s", "-", "+", "FOO", "1"), rq("XRANGE", "s", "-", "+", "COUNT", "x"), rq("XRANGE", "nokey", "-", "+"),
			rq("XRANGE", "s", "(-", "+"), rq("XRANGE", "s", "-", "(+"),
			rq("XDEL", "s", "1-2", "9-9"), rq("XDEL", "s", "x"), rq("XDEL", "nokey", "1-1"), rq("XLEN", "s"),
			rq("XADD", "s", "MAXLEN", "2", "9-1", "g", "7"), rq("XRANGE", "s", "-", "+"),
			rq("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "5", "9-2", "h", "8"), rq("XLEN", "s"),
			rq("XADD", "s", "MAXLEN", "1", "LIMIT", "5", "9-3", "h", "8"), rq("XADD", "s", "MAXLEN", "-1", "9-3", "h", "8"),
			rq("XADD", "s", "MAXLEN", "x", "9-3", "h", "8"), rq("XADD", "s", "MINID", "9-2", "9-3", "i", "9"), rq("XRANGE", "s", "-", "+"),
			rq("XADD", "nokey2", "NOMKSTREAM", "1-1", "a", "1"), rq("EXISTS", "nokey2"),
			rq("XADD", "t", "1-1", "a", "1"), rq("XADD", "t", "2-1", "a", "1"), rq("XADD", "t", "3-1", "a", "1"),
			rq("XTRIM", "t", "MAXLEN", "1"), rq("XTRIM", "t", "MINID", "=", "4"), rq("XLEN", "t"), rq("XTRIM", "t", "FOO", "1"),
			rq("XTRIM", "t", "MAXLEN", "1", "x"), rq("XTRIM", "nokey", "MAXLEN", "1"),
			rq("SET", "str", "x"), rq("XADD", "str", "1-1", "a", "1"), rq("XLEN", "str"), rq("XRANGE", "str", "-", "+"),
			rq("GET", "s"), rq("LPUSH", "s", "x"),
		})
	}
}
