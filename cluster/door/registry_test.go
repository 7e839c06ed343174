package door_test

import (
	"strings"
	"testing"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// COMMAND answers from the registry routing uses: its count and rows are
// the registry's.
func TestRegistry_Command(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	d := door.New(door.Config{Store: s})
	addr := serve(t, s, d)
	if v := resptest.Do(t, addr, "COMMAND", "COUNT"); v.Int() != int64(d.Registry().Len()) || v.Int() == 0 {
		t.Fatalf("COMMAND COUNT = %v, want %d", v, d.Registry().Len())
	}
	if v := resptest.Do(t, addr, "COMMAND"); v.Len() != d.Registry().Len() {
		t.Fatalf("COMMAND lists %d rows, want %d", v.Len(), d.Registry().Len())
	}
	want := map[string]int64{"multi": 1, "exec": 1, "watch": -2, "subscribe": -2, "publish": 3, "blpop": -3}
	names := []string{"multi", "exec", "watch", "subscribe", "publish", "blpop"}
	v := resptest.Do(t, addr, append([]string{"COMMAND", "INFO"}, append(names, "nosuchcmd")...)...)
	rows := v.Elems()
	if len(rows) != len(names)+1 {
		t.Fatalf("COMMAND INFO %v = %v, want %d rows", names, v, len(names)+1)
	}
	for i, name := range names {
		row := rows[i].Elems()
		if len(row) != 6 || row[0].Text() != name || row[1].Int() != want[name] {
			t.Errorf("COMMAND INFO %s = %v, want name %s and arity %d", name, rows[i], name, want[name])
		}
		if cmd := d.Registry().Lookup([]byte(name)); cmd == nil || int64(cmd.Arity) != want[name] {
			t.Errorf("Registry().Lookup(%q) = %+v, want arity %d", name, cmd, want[name])
		}
	}
	if last := rows[len(names)]; !last.IsNull() || last.Kind() != resp.KindArray {
		t.Errorf("COMMAND INFO nosuchcmd = %v, want a null array", last)
	}
}

// A name registered twice fails at construction, whether it clashes with
// a data command or with another row of the door's own.
func TestRegistry_DuplicateFails(t *testing.T) {
	t.Parallel()
	answer := func(*door.Door, *resp.Conn, []resp.Value) resp.Value { return resp.OK() }
	if _, err := door.NewRegistry(fsm.NewTable(), []door.Command{{Name: "GET", Kind: door.Local, Arity: 2, Answer: answer}}); err == nil {
		t.Fatal("NewRegistry with a second GET row succeeded")
	}
	twice := []door.Command{{Name: "KVORUM.TEST", Kind: door.Local, Arity: 1, Answer: answer}}
	if _, err := door.NewRegistry(fsm.NewTable(), twice, twice); err == nil {
		t.Fatal("NewRegistry with KVORUM.TEST in two families succeeded")
	}
	r, err := door.NewRegistry(fsm.NewTable(), twice)
	if err != nil {
		t.Fatalf("NewRegistry with one new row: %v", err)
	}
	if cmd := r.Lookup([]byte("kvorum.test")); cmd == nil || cmd.Kind != door.Local {
		t.Fatalf("Lookup(kvorum.test) = %+v", cmd)
	}
	if cmd := r.Lookup([]byte("get")); cmd == nil || cmd.Kind != door.Read || cmd.Data == nil {
		t.Fatalf("Lookup(get) = %+v, want fsm's GET as a Read", cmd)
	}
	if _, err := door.NewRegistry(fsm.NewTable(), []door.Command{{Name: "KVORUM.NONE", Kind: door.Local, Arity: 1}}); err == nil {
		t.Fatal("NewRegistry with a Local row that has neither Answer nor Run succeeded")
	}
}

// Routing refuses what no row serves, or serves with other arguments, with
// Redis's words, before anything reaches the store.
func TestRouting_UnknownAndWrongArity(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	long := strings.Repeat("x", 40) // longer than the lookup's stack buffer
	for _, tc := range []struct {
		args []string
		want resp.Value
	}{
		{[]string{"NOSUCH", "a"}, fsm.UnknownCommand([]byte("NOSUCH"), resp.BulkString("a"))},
		{[]string{"nosuch"}, fsm.UnknownCommand([]byte("nosuch"))},
		{[]string{long}, fsm.UnknownCommand([]byte(long))},
		{[]string{"GET"}, fsm.WrongArity("GET")},
		{[]string{"get", "a", "b"}, fsm.WrongArity("GET")},
		{[]string{"MULTI", "x"}, fsm.WrongArity("MULTI")},
		{[]string{"PUBLISH", "ch"}, fsm.WrongArity("PUBLISH")},
		{[]string{"BLPOP", "q"}, fsm.WrongArity("BLPOP")},
		{[]string{"WATCH"}, fsm.WrongArity("WATCH")},
	} {
		if got := resptest.Do(t, addr, tc.args...); got.String() != tc.want.String() {
			t.Errorf("%q = %v, want %v", tc.args, got, tc.want)
		}
	}
	// Names are matched case-insensitively.
	if v := resptest.Do(t, addr, "sEt", "k", "v"); v.IsError() {
		t.Fatalf("sEt = %v", v)
	}
	if v := resptest.Do(t, addr, "get", "k"); v.Text() != "v" {
		t.Fatalf("get = %v", v)
	}
}

// A node that does not lead answers writes, reads and leader-only commands
// with the redirect, and Local commands itself; a READONLY connection
// reads its state, but still has writes redirected.
func TestRouting_Follower(t *testing.T) {
	t.Parallel()
	s, addr := startDoor(t)
	if v := resptest.Do(t, addr, "SET", "color", "blue"); v.IsError() {
		t.Fatalf("SET on the leader = %v", v)
	}
	const leader = "127.0.0.1:7001"
	s.stepDown(leader)
	moved := (&resp.RedirectError{Leader: leader}).Value()
	if moved.Text() != "MOVED 0 "+leader {
		t.Fatalf("redirect text = %q", moved.Text())
	}
	for _, args := range [][]string{
		{"SET", "x", "1"}, {"GET", "color"}, {"BLPOP", "q", "0"}, {"PUBLISH", "ch", "m"}, {"WATCH", "color"},
	} {
		if v := resptest.Do(t, addr, args...); v.String() != moved.String() {
			t.Errorf("follower %q = %v, want %v", args, v, moved)
		}
	}
	if v := resptest.Do(t, addr, "PING"); v.Text() != "PONG" {
		t.Fatalf("follower PING = %v", v)
	}
	if v := resptest.Do(t, addr, "ROLE"); v.Len() == 0 || v.Elems()[0].Text() != "slave" {
		t.Fatalf("follower ROLE = %v", v)
	}

	cn := resptest.Dial(t, addr)
	defer cn.Close()
	if v := cn.Do(t, "READONLY"); v.Text() != "OK" {
		t.Fatalf("READONLY = %v", v)
	}
	if v := cn.Do(t, "GET", "color"); v.Text() != "blue" {
		t.Fatalf("READONLY GET on a follower = %v, want blue", v)
	}
	if v := cn.Do(t, "SET", "x", "1"); v.String() != moved.String() {
		t.Fatalf("READONLY follower must still redirect writes, got %v", v)
	}
	// A transaction queues on a follower, and EXEC answers the redirect.
	for _, args := range [][]string{{"MULTI"}, {"SET", "x", "1"}} {
		if v := cn.Do(t, args...); v.IsError() {
			t.Fatalf("follower %q = %v", args, v)
		}
	}
	if v := cn.Do(t, "EXEC"); v.String() != moved.String() {
		t.Fatalf("follower EXEC = %v, want %v", v, moved)
	}
	if v := cn.Do(t, "READWRITE"); v.Text() != "OK" {
		t.Fatalf("READWRITE = %v", v)
	}
	if v := cn.Do(t, "GET", "color"); v.String() != moved.String() {
		t.Fatalf("GET after READWRITE on a follower = %v, want %v", v, moved)
	}

	// With no leader known, the redirect says so.
	s.stepDown("")
	if v := resptest.Do(t, addr, "SET", "x", "1"); v.String() != resp.ErrNoLeader.Value().String() {
		t.Fatalf("SET with no leader = %v, want CLUSTERDOWN", v)
	}
	s.lead()
	if v := resptest.Do(t, addr, "SET", "x", "1"); v.IsError() {
		t.Fatalf("SET after leading again = %v", v)
	}
	if v := resptest.Do(t, addr, "GET", "x"); v.Text() != "1" {
		t.Fatalf("GET after leading again = %v", v)
	}
}

// A RESP2 connection in subscribe mode is refused every command but the
// subscription ones, PING and QUIT, with Redis's words; it leaves the mode
// when its last subscription goes.
func TestRouting_SubscribeModeRefusesGetInRESP2(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	cn.Do(t, "HELLO", "2")
	if v := cn.Do(t, "SUBSCRIBE", "ch"); v.String() != `["subscribe", "ch", 1]` {
		t.Fatalf("SUBSCRIBE = %v", v)
	}
	const want = "ERR Can't execute 'get': only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
	if v := cn.Do(t, "GET", "x"); !v.IsError() || v.Text() != want {
		t.Fatalf("GET in subscribe mode = %v, want %s", v, want)
	}
	if v := cn.Do(t, "PING"); v.String() != `["pong", ""]` {
		t.Fatalf("PING in subscribe mode = %v", v)
	}
	if v := cn.Do(t, "UNSUBSCRIBE", "ch"); v.String() != `["unsubscribe", "ch", 0]` {
		t.Fatalf("UNSUBSCRIBE = %v", v)
	}
	if v := cn.Do(t, "GET", "x"); v.IsError() || !v.IsNull() {
		t.Fatalf("GET after leaving subscribe mode = %v", v)
	}
}
