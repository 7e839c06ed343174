package door_test

import "testing"

// SORT and SORT_RO: numeric and ALPHA, DESC, LIMIT, BY (a key, a hash
// field, a constant), GET (#, keys, hash fields, missing), STORE into a
// list (and deleting it when empty), sets and sorted sets, and the errors,
// as Redis 7.0 answers them.
func TestRedisDiff_Sort(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("RPUSH", "l", "3", "1", "10", "2", "-1.5", "2"),
		rq("SORT", "l"), rq("SORT", "l", "DESC"), rq("SORT", "l", "ALPHA"), rq("SORT", "l", "ALPHA", "DESC"),
		rq("SORT", "l", "LIMIT", "1", "2"), rq("SORT", "l", "LIMIT", "-5", "2"), rq("SORT", "l", "LIMIT", "4", "-1"),
		rq("SORT", "l", "LIMIT", "9", "2"), rq("SORT", "l", "LIMIT", "0", "0"), rq("SORT", "l", "limit", "x", "1"),
		rq("SORT", "l", "BY", "nosort"), rq("SORT", "l", "BY", "nosort", "DESC"), rq("SORT", "l", "BY", "nosort", "LIMIT", "1", "3"),
		rq("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3"),
		rq("MSET", "w_3", "1", "w_1", "30", "w_10", "2", "w_2", "-4"),
		rq("SORT", "l", "BY", "w_*"), rq("SORT", "l", "BY", "w_*", "ALPHA"), rq("SORT", "l", "BY", "w_*", "DESC", "LIMIT", "0", "3"),
		rq("HSET", "h_3", "f", "z"), rq("HSET", "h_1", "f", "a"), rq("HSET", "h_10", "f", "m"),
		rq("SORT", "l", "BY", "h_*->f", "ALPHA", "GET", "#", "GET", "h_*->f", "GET", "w_*"),
		rq("SORT", "l", "GET", "nosuch_*"), rq("SORT", "l", "GET", "#", "GET", "x"),
		rq("SORT", "l", "BY", "h_*->f", "GET", "h_*->"), rq("SORT", "l", "BY", "h_*->nof"),
		rq("SORT", "l", "STORE", "dst"), rq("LRANGE", "dst", "0", "-1"), rq("TYPE", "dst"),
		rq("SORT", "l", "GET", "w_*", "GET", "nosuch_*", "STORE", "dst"), rq("LRANGE", "dst", "0", "-1"),
		rq("SET", "dst2", "x"), rq("SORT", "nokey", "STORE", "dst2"), rq("EXISTS", "dst2"),
		rq("SORT", "nokey"), rq("SORT_RO", "nokey"),
		rq("RPUSH", "bad", "1", "x"), rq("SORT", "bad"), rq("SORT", "bad", "ALPHA"),
		rq("RPUSH", "sp", "", " 1", "1e400"), rq("SORT", "sp"),
		rq("SADD", "s", "5", "b", "a", "1"), rq("SORT", "s", "ALPHA"), rq("SORT", "s", "ALPHA", "DESC"),
		rq("SORT", "s", "BY", "nosort", "STORE", "sdst"), rq("LRANGE", "sdst", "0", "-1"),
		rq("ZADD", "z", "3", "c", "1", "a", "2", "b"), rq("SORT", "z", "BY", "nosort"), rq("SORT", "z", "BY", "nosort", "DESC"),
		rq("SORT", "z", "ALPHA", "DESC"), rq("SORT", "z", "BY", "nosort", "LIMIT", "1", "1"),
		rq("SET", "str", "x"), rq("SORT", "str"), rq("HSET", "hh", "a", "1"), rq("SORT", "hh"),
		rq("SORT", "l", "FOO"), rq("SORT", "l", "LIMIT", "1"), rq("SORT", "l", "STORE"), rq("SORT"),
		rq("SORT_RO", "l"), rq("SORT_RO", "l", "STORE", "x"), rq("SORT_RO", "l", "BY", "w_*", "GET", "#"),
		rq("SORT", "str", "FOO"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}
