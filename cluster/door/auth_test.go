package door_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// A users file in the subset of Redis's ACL syntax the door reads.
const testUsers = `# workers read their jobs and nothing else
user default on >secret ~* +@all
user worker on >pw ~jobs:* +@read
user off-user off >pw ~* +@all
user writer on >pw2 ~* +@all -@dangerous
`

func startAuthDoor(t *testing.T, users *door.Users) string {
	t.Helper()
	s := newFakeStore()
	return serve(t, s, door.New(door.Config{Store: s, Users: users}))
}

func mustUsers(t *testing.T, text, requirepass string) *door.Users {
	t.Helper()
	u, err := door.ParseUsers(text, requirepass)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The replies that Redis 7 gives, compared byte for byte with a
// redis-server started with the same password and users.
func TestRedisDiff_AuthAndACL(t *testing.T) {
	t.Parallel()
	var args []string
	for _, u := range []string{"default on >secret ~* +@all", "worker on >pw ~jobs:* +@read", "off-user off >pw ~* +@all"} {
		args = append(append(args, "--user"), strings.Fields(u)...)
	}
	rd := redisServer(t, args...)
	kv := startAuthDoor(t, mustUsers(t, testUsers, ""))
	any := func(args ...string) redisStep { return redisStep{args: args, any: true} }
	script := []redisStep{
		rq("SET", "k", "v"), rq("GET", "k"), rq("PING"), rq("MULTI"),
		rq("HELLO", "3"),
		rq("AUTH", "wrong"), rq("AUTH", "worker", "nope"), rq("AUTH", "nobody", "pw"), rq("AUTH", "off-user", "pw"),
		rq("AUTH", "a", "b", "c"),
		rq("HELLO", "2", "AUTH", "worker", "nope"),
		any("HELLO", "2", "AUTH", "worker", "pw"),
		rq("GET", "jobs:1"), rq("GET", "other"), rq("SET", "jobs:1", "x"), rq("FLUSHALL"),
		rq("MULTI"), rq("SET", "jobs:1", "x"), rq("GET", "jobs:1"), rq("EXEC"),
		rq("MGET", "jobs:1", "other"), rq("ACL", "WHOAMI"),
		rq("SORT_RO", "jobs:l"), rq("SORT_RO", "jobs:l", "BY", "nosort"), rq("SORT_RO", "jobs:l", "BY", "w_*"),
		rq("SORT_RO", "jobs:l", "GET", "#"), rq("SORT_RO", "other"), rq("SORT", "jobs:l"),
		rq("AUTH", "secret"), rq("SET", "jobs:1", "x"), rq("ACL", "WHOAMI"),
	}
	for _, proto := range []string{"2", "3"} {
		kc, rc := resptest.Dial(t, kv), resptest.Dial(t, rd)
		defer kc.Close()
		defer rc.Close()
		if proto == "3" {
			script[11] = any("HELLO", "3", "AUTH", "worker", "pw")
		}
		playSame(t, kc, rc, proto, script)
	}
}

// With a password the door answers -NOAUTH until AUTH; the default door
// (no password) is open, and AUTH there says no password is set.
func TestAuth_RequirePass(t *testing.T) {
	t.Parallel()
	addr := startAuthDoor(t, mustUsers(t, "", "secret"))
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	if v := cn.Do(t, "SET", "k", "v"); v.Text() != "NOAUTH Authentication required." {
		t.Fatalf("SET before AUTH = %v", v)
	}
	start := time.Now()
	for i := 0; i < 3; i++ {
		if v := cn.Do(t, "AUTH", "wrong"); v.Code() != "WRONGPASS" {
			t.Fatalf("AUTH wrong = %v", v)
		}
	}
	if took := time.Since(start); took < 70*time.Millisecond {
		t.Fatalf("three failed AUTHs answered in %v: not slowed down", took)
	}
	if v := cn.Do(t, "AUTH", "secret"); v.Text() != "OK" {
		t.Fatalf("AUTH secret = %v", v)
	}
	if v := cn.Do(t, "SET", "k", "v"); v.IsError() {
		t.Fatalf("SET after AUTH = %v", v)
	}
	// A session-wrapped command is checked as the command it wraps.
	hc := resptest.Dial(t, addr)
	defer hc.Close()
	if v := hc.Do(t, fsm.SeqCommand, "1", "1", "1", "SET", "k", "v"); v.Code() != "NOAUTH" {
		t.Fatalf("KVORUM.SEQ before AUTH = %v", v)
	}
	if v := hc.Do(t, "HELLO", "3", "AUTH", "default", "secret", "SETNAME", "w1"); v.Kind() != resp.KindDict {
		t.Fatalf("HELLO 3 AUTH = %v", v)
	}
	if v := hc.Do(t, "CLIENT", "GETNAME"); v.Text() != "w1" {
		t.Fatalf("CLIENT GETNAME after HELLO SETNAME = %v", v)
	}

	open := startAuthDoor(t, nil)
	if v := resptest.Do(t, open, "AUTH", "x"); !strings.HasPrefix(v.Text(), "ERR AUTH <password> called without any password") {
		t.Fatalf("AUTH with no password set = %v", v)
	}
	if v := resptest.Do(t, open, "SET", "k", "v"); v.IsError() {
		t.Fatalf("SET on an open door = %v", v)
	}
}

// ACL users: categories, key patterns, off users, and refusals inside
// MULTI (the transaction aborts) and under a session.
func TestAuth_ACLUsers(t *testing.T) {
	t.Parallel()
	addr := startAuthDoor(t, mustUsers(t, testUsers, ""))
	w := resptest.Dial(t, addr)
	defer w.Close()
	w.Do(t, "AUTH", "writer", "pw2")
	for _, args := range [][]string{{"FLUSHALL"}, {"KEYS", "*"}, {"INFO"}} {
		if v := w.Do(t, args...); v.Code() != "NOPERM" {
			t.Fatalf("writer %v = %v, want NOPERM (-@dangerous)", args, v)
		}
	}
	if v := w.Do(t, "SET", "jobs:1", "x"); v.IsError() {
		t.Fatalf("writer SET = %v", v)
	}
	r := resptest.Dial(t, addr)
	defer r.Close()
	r.Do(t, "AUTH", "worker", "pw")
	if v := r.Do(t, fsm.SeqCommand, "1", "1", "1", "SET", "jobs:1", "y"); v.Code() != "NOPERM" {
		t.Fatalf("worker KVORUM.SEQ SET = %v, want NOPERM", v)
	}
	if v := r.Do(t, "GET", "jobs:1"); v.Text() != "x" {
		t.Fatalf("worker GET jobs:1 = %v", v)
	}
	if v := r.Do(t, "ACL", "WHOAMI"); v.Code() != "NOPERM" {
		t.Fatalf("worker ACL WHOAMI = %v", v)
	}
	a := resptest.Dial(t, addr)
	defer a.Close()
	a.Do(t, "AUTH", "default", "secret")
	if v := a.Do(t, "ACL", "LIST"); !strings.Contains(v.String(), "user worker on #") || !strings.Contains(v.String(), "~jobs:* +@read") {
		t.Fatalf("ACL LIST = %v", v)
	}
	if v := a.Do(t, "ACL", "CAT", "dangerous"); !strings.Contains(v.String(), `"flushall"`) || !strings.Contains(v.String(), `"keys"`) {
		t.Fatalf("ACL CAT dangerous = %v", v)
	}
}

// Bad users files are refused with the line and the reason.
func TestAuth_ParseUsersErrors(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"user a on +nosuchcmd":        `unknown command "nosuchcmd"`,
		"user a on +@nosuch":          `unknown category "nosuch"`,
		"user a on sideways":          `unknown rule "sideways"`,
		"user a on #abc":              "SHA-256",
		"user a\nuser a":              "defined twice",
		"usr a":                       "want \"user <name>",
		"user default on >x ~* +@all": "requirepass",
	} {
		_, err := door.ParseUsers(text, "pass")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseUsers(%q) = %v, want an error with %q", text, err, want)
		}
	}
}

// Protected mode admits loopback's 127.0.0.1 and ::1 only.
func TestAuth_ProtectedModeAdmit(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	d := door.New(door.Config{Store: s, ProtectedMode: true})
	defer d.Close()
	for addr, ok := range map[string]bool{"127.0.0.1:5000": true, "[::1]:5000": true, "127.0.0.2:5000": false,
		"10.0.0.7:5000": false, "[2001:db8::1]:5000": false} {
		ta, _ := net.ResolveTCPAddr("tcp", addr)
		if err := d.Admit(ta); (err == nil) != ok {
			t.Errorf("Admit(%s) = %v, want admitted %v", addr, err, ok)
		}
	}
	if err := d.Admit(&net.UnixAddr{Name: "/tmp/k.sock", Net: "unix"}); err != nil {
		t.Errorf("Admit(unix socket) = %v", err)
	}
	open := door.New(door.Config{Store: s})
	defer open.Close()
	ta, _ := net.ResolveTCPAddr("tcp", "10.0.0.7:5000")
	if err := open.Admit(ta); err != nil {
		t.Errorf("without protected mode Admit = %v", err)
	}
}

// End to end: a client whose socket is bound to 127.0.0.2 is refused
// with the explanation; one from 127.0.0.1 is served.
func TestAuth_ProtectedModeRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	s := newFakeStore()
	addr := serve(t, s, door.New(door.Config{Store: s, ProtectedMode: true}))
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 2 * time.Second}
	nc, err := dialer.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot bind a client socket to 127.0.0.2 here: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write(resp.AppendCommand(nil, "PING"))
	v, err := resp.NewReader(nc, resp.Limits{}).ReadValue()
	if err != nil || v.Code() != "DENIED" || !strings.Contains(v.Text(), "protected mode") {
		t.Fatalf("from 127.0.0.2: %v, %v; want DENIED", v, err)
	}
	if v := resptest.Do(t, addr, "PING"); v.Text() != "PONG" {
		t.Fatalf("from 127.0.0.1: %v", v)
	}
}
