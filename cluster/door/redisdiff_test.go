package door_test

import (
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// These tests send the same requests to kvorum and to a real redis-server
// (Redis 7) and require the same replies, byte for byte as the codec
// re-encodes them. They skip when redis-server is not on PATH.

// redisServer starts a redis-server on a free loopback port, without
// persistence, stopped by t.Cleanup, and returns its address once it
// answers.
func redisServer(t *testing.T, extra ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not on PATH: install it (apt-get install redis-server) to compare replies with Redis")
	}
	port := freePort(t)
	var out bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--loglevel", "warning"}, extra...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("redis-server output:\n%s", out.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	resptest.WaitFor(t, "redis-server to answer PING on "+addr, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("redis-server exited before answering: %v\n%s", waitErr, out.String())
		default:
		}
		return pingOK(addr)
	})
	return addr
}

// freePort returns a loopback port that was free a moment ago (redis-server
// cannot be told to pick one itself).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// pingOK reports whether addr answers PING with +PONG (or, with a
// password required, -NOAUTH: it is up).
func pingOK(addr string) bool {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write(resp.AppendCommand(nil, "PING")); err != nil {
		return false
	}
	v, err := resp.NewReader(nc, resp.Limits{}).ReadValue()
	return err == nil && (v.Text() == "PONG" || v.Code() == "NOAUTH")
}

// redisStep is one request of a comparison script and how many replies it
// gets (0 means one; SUBSCRIBE a b gets two).
type redisStep struct {
	args    []string
	replies int
	any     bool // the replies may differ (HELLO's server description)
}

func rq(args ...string) redisStep { return redisStep{args: args} }

// replies sends one step on c and reads its replies.
func replies(t *testing.T, c *resptest.Conn, s redisStep) []resp.Value {
	t.Helper()
	out := []resp.Value{c.Do(t, s.args...)}
	for len(out) < max(s.replies, 1) {
		v, err := c.ReadValue()
		if err != nil {
			t.Fatalf("read reply %d to %q: %v", len(out)+1, s.args, err)
		}
		out = append(out, v)
	}
	return out
}

// sameAsRedis plays script on a new connection to kvorum at kvAddr and one
// to redis-server at redisAddr, both switched to protocol proto ("2" or
// "3") by HELLO, and fails at the first reply that differs.
func sameAsRedis(t *testing.T, kvAddr, redisAddr, proto string, script []redisStep) {
	t.Helper()
	kv, rd := resptest.Dial(t, kvAddr), resptest.Dial(t, redisAddr)
	defer kv.Close()
	defer rd.Close()
	for _, c := range []*resptest.Conn{kv, rd} {
		if v := c.Do(t, "HELLO", proto); v.IsError() {
			t.Fatalf("HELLO %s to %s = %v", proto, c.RemoteAddr(), v)
		}
	}
	playSame(t, kv, rd, proto, script)
}

// playSame plays script on kv and rd and fails at the first reply that
// differs.
func playSame(t *testing.T, kv, rd *resptest.Conn, proto string, script []redisStep) {
	t.Helper()
	for i, s := range script {
		want, got := replies(t, rd, s), replies(t, kv, s)
		for j := range want {
			if s.any {
				continue
			}
			w, g := resp.AppendValue(nil, want[j]), resp.AppendValue(nil, got[j])
			if !bytes.Equal(g, w) {
				t.Fatalf("RESP%s step %d %q, reply %d:\nkvorum %q\nredis  %q", proto, i, s.args, j+1, g, w)
			}
		}
	}
}

// startForDiff starts a door on a fake store and a redis-server and
// returns their client addresses.
func startForDiff(t *testing.T) (kvAddr, redisAddr string) {
	t.Helper()
	redisAddr = redisServer(t)
	_, kvAddr = startDoor(t)
	return kvAddr, redisAddr
}

// ZPOPMIN and ZPOPMAX with a count answer [member, score] pairs in RESP3
// and a flat array in RESP2; without a count, flat in both.
func TestRedisDiff_ZPopCount(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6.5", "f"),
		rq("ZPOPMAX", "z", "1"),
		rq("ZPOPMIN", "z", "2"),
		rq("ZPOPMIN", "z"),
		rq("ZPOPMAX", "z"),
		rq("ZPOPMIN", "z", "0"),
		rq("ZPOPMAX", "nokey", "2"),
		rq("ZPOPMIN", "nokey"),
		rq("ZPOPMAX", "z", "9"),
		rq("ZPOPMIN", "z", "1"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// PUNSUBSCRIBE confirms with the kind "punsubscribe". (RESP2 only: Redis
// sends RESP3 confirmations as '>' pushes, which the codec does not read.)
func TestRedisDiff_Punsubscribe(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	sameAsRedis(t, kv, rd, "2", []redisStep{
		{args: []string{"PSUBSCRIBE", "p*", "q*"}, replies: 2},
		rq("SUBSCRIBE", "ch"),
		rq("PUNSUBSCRIBE", "p*"),
		rq("PUNSUBSCRIBE", "nope*"),
		rq("UNSUBSCRIBE", "ch"),
		rq("PUNSUBSCRIBE"), // the one pattern left
		rq("PUNSUBSCRIBE"), // none left
		rq("UNSUBSCRIBE"),
		rq("PING"),
	})
}

// PING, ECHO and SELECT inside MULTI are queued and answered in their
// place in EXEC's reply; a watched key's change still aborts the whole
// transaction, and a refused ECHO aborts it at EXEC.
func TestRedisDiff_ConnectionCommandsInMulti(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("MULTI"), rq("PING"), rq("PING", "hi"), rq("ECHO", "x"), rq("SET", "a", "1"), rq("SELECT", "0"),
		rq("INCR", "a"), rq("PING", "a", "b"), rq("ECHO", "y"), rq("EXEC"),
		rq("MULTI"), rq("PING"), rq("EXEC"),
		rq("MULTI"), rq("EXEC"),
		rq("WATCH", "a"), rq("SET", "a", "2"), rq("MULTI"), rq("PING"), rq("INCR", "a"), rq("EXEC"),
		rq("GET", "a"),
		rq("MULTI"), rq("PING"), rq("ECHO"), rq("INCR", "a"), rq("EXEC"),
		rq("GET", "a"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// PUBLISH inside MULTI is queued and answers its receivers in EXEC's
// reply, as Celery's Redis result backend relies on (MULTI, SETEX,
// PUBLISH, EXEC); a watched key's change publishes nothing.
func TestRedisDiff_PublishInMulti(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("MULTI"), rq("SETEX", "celery-task-meta-1", "60", "{}"), rq("PUBLISH", "celery-task-meta-1", "{}"), rq("EXEC"),
		rq("WATCH", "a"), rq("SET", "a", "2"), rq("MULTI"), rq("PUBLISH", "c", "m"), rq("EXEC"),
		rq("MULTI"), rq("PUBLISH", "c"), rq("EXEC"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// FUNCTION answers as a Redis 7 server with no functions loaded.
func TestRedisDiff_FunctionWithNoFunctions(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FUNCTION", "FLUSH"), rq("FUNCTION", "FLUSH", "ASYNC"), rq("FUNCTION", "FLUSH", "sync"), rq("FUNCTION", "FLUSH", "BAD"),
		rq("FUNCTION", "LIST"), rq("FUNCTION", "LIST", "WITHCODE"), rq("FUNCTION", "LIST", "LIBRARYNAME", "x*"),
		rq("FUNCTION", "LIST", "LIBRARYNAME"), rq("FUNCTION", "LIST", "BOGUS"),
		rq("FUNCTION", "DELETE", "nolib"), rq("FUNCTION", "NOSUCH"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// RENAME of a list onto a key a client is blocked on wakes it, in Redis
// and in kvorum alike.
func TestRedisDiff_RenameWakesBlockedPop(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	want := renameWakes(t, rd)
	if got := renameWakes(t, kv); got.String() != want.String() {
		t.Fatalf("BLPOP woken by RENAME: kvorum %v, redis %v", got, want)
	}
}

// renameWakes blocks a client in BLPOP dst at addr, renames a list onto
// dst from another client, and returns the blocked client's reply.
func renameWakes(t *testing.T, addr string) resp.Value {
	t.Helper()
	other := resptest.Dial(t, addr)
	defer other.Close()
	for _, args := range [][]string{{"HELLO", "2"}, {"FLUSHALL"}, {"RPUSH", "src", "a", "b"}} {
		if v := other.Do(t, args...); v.IsError() {
			t.Fatalf("%s %q = %v", addr, args, v)
		}
	}
	blocked := resptest.Dial(t, addr)
	defer blocked.Close()
	blocked.Do(t, "HELLO", "2")
	blocked.SetDeadline(time.Now().Add(20 * time.Second))
	blocked.Write(resp.AppendCommand(nil, "BLPOP", "dst", "10"))
	resptest.WaitBlocked(t, addr, "1")
	if v := other.Do(t, "RENAME", "src", "dst"); v.IsError() {
		t.Fatalf("%s RENAME = %v", addr, v)
	}
	v, err := blocked.ReadValue()
	if err != nil {
		t.Fatalf("%s: read BLPOP reply: %v", addr, err)
	}
	return v
}

// What Redis refuses before it blocks is refused, with Redis's words,
// without blocking.
func TestRedisDiff_BlockingRefusals(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	script := []redisStep{
		rq("FLUSHALL"),
		rq("SET", "strkey", "v"),
		rq("BLPOP", "strkey", "1"),
		rq("BRPOP", "empty", "strkey", "1"),
		rq("BZPOPMIN", "strkey", "1"),
		rq("BLMOVE", "strkey", "d", "LEFT", "LEFT", "1"),
		rq("BLPOP", "k", "-10"),
		rq("BLPOP", "k", "abc"),
		rq("BLMOVE", "k", "d", "LEFT", "UP", "1"),
		rq("RPUSH", "q", "a"),
		rq("BLPOP", "q", "strkey", "1"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// A client that disconnects while blocked takes nothing: the next push
// stays in the list, and blocked_clients falls to 0, in both servers.
func TestRedisDiff_VanishedWaiterTakesNothing(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, addr := range []string{rd, kv} {
		other := resptest.Dial(t, addr)
		other.Do(t, "FLUSHALL")
		blocked := resptest.Dial(t, addr)
		blocked.Write(resp.AppendCommand(nil, "BLPOP", "q", "0"))
		resptest.WaitBlocked(t, addr, "1")
		blocked.Close()
		resptest.WaitBlocked(t, addr, "0")
		other.Do(t, "RPUSH", "q", "job-1")
		if v := other.Do(t, "LLEN", "q"); v.Int() != 1 {
			t.Fatalf("%s: LLEN q after a vanished waiter = %v, want 1", addr, v)
		}
		other.Close()
	}
}

// Redis's "Linked LMOVEs": after an RPUSH that feeds two chained BLMOVEs,
// a read sees the element at the end of the chain, in both servers.
func TestRedisDiff_LinkedMoves(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	for _, addr := range []string{rd, kv} {
		other := resptest.Dial(t, addr)
		other.Do(t, "FLUSHALL")
		rd1, rd2 := resptest.Dial(t, addr), resptest.Dial(t, addr)
		rd1.Write(resp.AppendCommand(nil, "BLMOVE", "list1", "list2", "RIGHT", "LEFT", "0"))
		rd2.Write(resp.AppendCommand(nil, "BLMOVE", "list2", "list3", "LEFT", "RIGHT", "0"))
		resptest.WaitBlocked(t, addr, "2")
		other.Do(t, "RPUSH", "list1", "foo")
		got := []int64{other.Do(t, "LLEN", "list1").Int(), other.Do(t, "LLEN", "list2").Int(), other.Do(t, "LLEN", "list3").Int()}
		if got[0] != 0 || got[1] != 0 || got[2] != 1 {
			t.Fatalf("%s: LLEN list1 list2 list3 right after the RPUSH = %v, want [0 0 1]", addr, got)
		}
		for _, c := range []*resptest.Conn{rd1, rd2, other} {
			c.Close()
		}
	}
}

// An unknown command answers Redis 7's text, with the arguments it began
// with (quoted, cut at 128 bytes, CR and LF as spaces, a NUL ending one),
// also inside MULTI, where it aborts the transaction.
func TestRedisDiff_UnknownCommand(t *testing.T) {
	t.Parallel()
	kv, rd := startForDiff(t)
	long := strings.Repeat("a", 200)
	script := []redisStep{
		rq("foo"),
		rq("foo", "a", "b"),
		rq("FOO", ""),
		rq(strings.Repeat("x", 300), "y"),
		rq("foo", long, "b"),
		rq("foo", long[:100], strings.Repeat("b", 100), "c"),
		rq("foo", "a\r\nb", "c\x00d", "e"),
		rq("f\x00oo", "a"),
		rq("MULTI"), rq("nosuch", "k", "v"), rq("SET", "k", "v"), rq("EXEC"),
	}
	for _, proto := range []string{"2", "3"} {
		sameAsRedis(t, kv, rd, proto, script)
	}
}

// Loading a function is refused with a clear error: kvorum has no
// scripting yet.
func TestFunction_LoadRefused(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	v := resptest.Do(t, addr, "FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)")
	if !v.IsError() || !strings.Contains(v.Text(), "does not run scripts") {
		t.Fatalf("FUNCTION LOAD = %v, want a refusal", v)
	}
}
