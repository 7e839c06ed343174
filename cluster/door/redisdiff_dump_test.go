package door_test

import (
	"bytes"
	"testing"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// RESTORE's options and errors answer as Redis 7 does (its payloads are
// kvorum's own, so a payload itself is not compared), and DUMP/RESTORE
// round-trips every kind of value with its TTL, REPLACE, ABSTTL and
// BUSYKEY, in RESP2 and RESP3.
func TestRedisDiff_DumpRestore(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, []redisStep{
			rq("FLUSHALL"), rq("SET", "busy", "1"),
			rq("DUMP", "nokey"), rq("DUMP"), rq("RESTORE", "k"),
			rq("RESTORE", "k", "0", "xx"), rq("RESTORE", "k", "-1", "xx"), rq("RESTORE", "k", "0", "xx", "foo"),
			rq("RESTORE", "k", "0", "xx", "IDLETIME", "-1"), rq("RESTORE", "k", "0", "xx", "FREQ", "300"),
			rq("RESTORE", "k", "0", "xx", "IDLETIME", "1", "FREQ", "1"), rq("RESTORE", "k", "x", "xx"),
			rq("RESTORE", "busy", "0", "xx"), rq("RESTORE", "k", "0", "xx", "IDLETIME", "x"),
		})
	}
	c := resptest.Dial(t, kv)
	defer c.Close()
	for _, proto := range []string{"2", "3"} {
		c.Do(t, "HELLO", proto)
		c.Do(t, "FLUSHALL")
		c.Do(t, "SET", "s", "hello")
		c.Do(t, "SET", "n", "12")
		c.Do(t, "RPUSH", "l", "a", "9223372036854775808", "", "c")
		c.Do(t, "HSET", "h", "f1", "v1", "f2", "")
		c.Do(t, "SADD", "set", "b", "a", "3")
		c.Do(t, "ZADD", "z", "1.5", "m1", "-inf", "m0", "2", "m2")
		for _, k := range []string{"s", "n", "l", "h", "set", "z"} {
			dump := c.Do(t, "DUMP", k)
			if v := c.Do(t, "RESTORE", k+"2", "0", dump.Text()); v.IsError() {
				t.Fatalf("RESP%s RESTORE %s2 = %v", proto, k, v)
			}
			if v := c.Do(t, "RESTORE", k+"2", "0", dump.Text()); v.Code() != "BUSYKEY" {
				t.Errorf("RESP%s RESTORE onto an existing key = %v, want BUSYKEY", proto, v)
			}
			if v := c.Do(t, "RESTORE", k+"2", "100000", dump.Text(), "REPLACE"); v.IsError() {
				t.Errorf("RESP%s RESTORE REPLACE = %v", proto, v)
			}
			if ttl := c.Do(t, "TTL", k+"2").Int(); ttl < 99 || ttl > 100 {
				t.Errorf("RESP%s TTL %s2 after RESTORE with 100 s = %d", proto, k, ttl)
			}
			if typ, typ2 := c.Do(t, "TYPE", k), c.Do(t, "TYPE", k+"2"); typ.Text() != typ2.Text() {
				t.Errorf("RESP%s TYPE %s = %v, of its copy %v", proto, k, typ, typ2)
			}
			for _, read := range [][]string{{"GET"}, {"LRANGE", "0", "-1"}, {"HGETALL"}, {"SMEMBERS"}, {"ZRANGE", "0", "-1", "WITHSCORES"}} {
				a := c.Do(t, append([]string{read[0], k}, read[1:]...)...)
				b := c.Do(t, append([]string{read[0], k + "2"}, read[1:]...)...)
				if !bytes.Equal(resp.AppendValue(nil, a), resp.AppendValue(nil, b)) {
					t.Errorf("RESP%s %s of %s = %v, of its restored copy %v", proto, read[0], k, a, b)
				}
			}
		}
		// A past absolute deadline restores nothing and removes what was there.
		dump := c.Do(t, "DUMP", "s").Text()
		if v := c.Do(t, "RESTORE", "s2", "1", dump, "REPLACE", "ABSTTL"); v.IsError() || c.Do(t, "EXISTS", "s2").Int() != 0 {
			t.Errorf("RESP%s RESTORE ABSTTL in the past = %v, EXISTS %v; want OK and gone", proto, v, c.Do(t, "EXISTS", "s2"))
		}
		// A damaged payload is refused.
		bad := []byte(dump)
		bad[0] ^= 1
		if v := c.Do(t, "RESTORE", "x", "0", string(bad)); v.Text() != "ERR DUMP payload version or checksum are wrong" {
			t.Errorf("RESP%s RESTORE of a damaged payload = %v", proto, v)
		}
	}
}
