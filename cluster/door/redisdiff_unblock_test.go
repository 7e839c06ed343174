package door_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// CLIENT UNBLOCK ends another connection's blocking command as its timeout
// would, or with -UNBLOCKED, and answers as Redis 7 does: 1 if it was
// blocked, 0 if not, and Redis's errors.
func TestRedisDiff_ClientUnblock(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, proto := range []string{"2", "3"} {
		for _, c := range []struct {
			block  []string
			reason []string
		}{
			{[]string{"BLPOP", "nolist", "0"}, nil},
			{[]string{"BLPOP", "nolist", "0"}, []string{"TIMEOUT"}},
			{[]string{"BRPOP", "nolist", "0"}, []string{"ERROR"}},
			{[]string{"BLMOVE", "nolist", "dst", "LEFT", "RIGHT", "0"}, []string{"timeout"}},
			{[]string{"BZPOPMIN", "nozset", "0"}, []string{"error"}},
			{[]string{"BLMPOP", "0", "1", "nolist", "LEFT"}, nil},
		} {
			want, got := unblock(t, rd, proto, c.block, c.reason), unblock(t, kv, proto, c.block, c.reason)
			for i := range want {
				w, g := resp.AppendValue(nil, want[i]), resp.AppendValue(nil, got[i])
				if !bytes.Equal(w, g) {
					t.Errorf("RESP%s %v unblocked with %v, reply %d:\nkvorum %q\nredis  %q", proto, c.block, c.reason, i, g, w)
				}
			}
		}
		sameAsRedis(t, kv, rd, proto, []redisStep{
			rq("CLIENT", "UNBLOCK", "999999"), rq("CLIENT", "UNBLOCK", "999999", "ERROR"),
			rq("CLIENT", "UNBLOCK", "x"), rq("CLIENT", "UNBLOCK", "1", "FOO"), rq("CLIENT", "UNBLOCK"),
			rq("CLIENT", "UNBLOCK", "1", "ERROR", "x"),
		})
	}
}

// unblock blocks a connection to addr in block, unblocks it from another
// with reason, and returns CLIENT UNBLOCK's reply and the blocked one's.
func unblock(t *testing.T, addr, proto string, block, reason []string) []resp.Value {
	t.Helper()
	a, b := resptest.Dial(t, addr), resptest.Dial(t, addr)
	defer a.Close()
	defer b.Close()
	a.Do(t, "HELLO", proto)
	b.Do(t, "HELLO", proto)
	id := a.Do(t, "CLIENT", "ID").Int()
	a.SetDeadline(time.Now().Add(10 * time.Second))
	reply := a.Go(block...)
	resptest.WaitFor(t, "the connection to block", 5*time.Second, func() bool {
		return strings.Contains(resptest.Do(t, addr, "INFO", "clients").Text(), "blocked_clients:1")
	})
	out := []resp.Value{b.Do(t, append([]string{"CLIENT", "UNBLOCK", strconv.FormatInt(id, 10)}, reason...)...)}
	select {
	case v := <-reply:
		return append(out, v)
	case <-time.After(5 * time.Second):
		t.Fatalf("%v on %s still blocked 5 s after CLIENT UNBLOCK", block, addr)
	}
	return nil
}
