package door_test

import (
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

func TestTx_MultiExecWatch(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	cn.Do(t, "HELLO", "2")
	expect := func(want string, args ...string) {
		t.Helper()
		if got := cn.Do(t, args...); got.String() != want {
			t.Fatalf("%v = %v, want %s", args, got, want)
		}
	}
	expect(`"OK"`, "MULTI")
	expect(`"QUEUED"`, "SET", "a", "1")
	expect(`"QUEUED"`, "INCR", "a")
	expect(`"QUEUED"`, "RPUSH", "q", "x")
	expect(`["OK", 2, 1]`, "EXEC")

	// A queued error aborts the whole transaction.
	expect(`"OK"`, "MULTI")
	expect(`"QUEUED"`, "SET", "b", "1")
	if v := cn.Do(t, "NOSUCHCMD"); !v.IsError() {
		t.Fatalf("unknown command in MULTI = %v", v)
	}
	if v := cn.Do(t, "EXEC"); v.Code() != "EXECABORT" {
		t.Fatalf("EXEC after a queued error = %v", v)
	}
	if v := cn.Do(t, "GET", "b"); !v.IsNull() {
		t.Fatalf("aborted transaction applied SET b: %v", v)
	}

	// WATCH: a write by another client between WATCH and EXEC aborts it.
	expect(`"OK"`, "WATCH", "a")
	if v := resptest.Do(t, addr, "SET", "a", "changed"); v.IsError() {
		t.Fatal(v)
	}
	expect(`"OK"`, "MULTI")
	expect(`"QUEUED"`, "SET", "a", "mine")
	if v := cn.Do(t, "EXEC"); !v.IsNull() || v.Kind() != resp.KindArray {
		t.Fatalf("EXEC after a watched key changed = %v, want a null array", v)
	}
	if v := cn.Do(t, "GET", "a"); v.Text() != "changed" {
		t.Fatalf("GET a = %v", v)
	}
	// Without an interfering write, the watched transaction applies.
	expect(`"OK"`, "WATCH", "a", "missing")
	expect(`"OK"`, "MULTI")
	expect(`"QUEUED"`, "SET", "a", "mine")
	expect(`["OK"]`, "EXEC")
	if v := cn.Do(t, "DISCARD"); v.Text() != "ERR DISCARD without MULTI" {
		t.Fatalf("DISCARD outside MULTI = %v", v)
	}
}

// A PUBLISH queued in MULTI is delivered once the transaction applies, so
// its subscriber already sees the data written before it (Celery's result
// backend: SETEX then PUBLISH); an aborted transaction publishes nothing.
func TestTx_PublishInMulti(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	sub := resptest.Dial(t, addr)
	defer sub.Close()
	sub.Do(t, "SUBSCRIBE", "done")
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	cn.Do(t, "HELLO", "2")
	cn.Do(t, "WATCH", "w")
	resptest.Do(t, addr, "SET", "w", "changed")
	cn.Do(t, "MULTI")
	cn.Do(t, "PUBLISH", "done", "aborted")
	if v := cn.Do(t, "EXEC"); !v.IsNull() {
		t.Fatalf("EXEC after a watched key changed = %v", v)
	}
	cn.Do(t, "MULTI")
	cn.Do(t, "SET", "result", "42")
	cn.Do(t, "PUBLISH", "done", "result")
	if v := cn.Do(t, "EXEC"); v.String() != `["OK", 1]` {
		t.Fatalf("EXEC = %v, want [OK, 1]", v)
	}
	sub.SetDeadline(time.Now().Add(10 * time.Second))
	if v, err := sub.ReadValue(); err != nil || v.String() != `["message", "done", "result"]` {
		t.Fatalf("message = %v, %v; want the transaction's (the aborted one published nothing)", v, err)
	}
	if v := sub.Do(t, "PING"); v.String() != `["pong", ""]` {
		t.Fatalf("PING = %v", v)
	}
}
