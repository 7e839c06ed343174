package resptest

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// Conn is one raw RESP connection. Write, SetDeadline and Close are the
// net.Conn's; send a request with Write(resp.AppendCommand(nil, args...))
// and read its reply with ReadValue, or do both with Do. A Conn is for one
// goroutine at a time.
type Conn struct {
	net.Conn
	rd *resp.Reader
}

// Dial connects to addr within 2s, failing t if it cannot. The caller
// closes the Conn.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return &Conn{Conn: nc, rd: resp.NewReader(nc, resp.Limits{})}
}

// Do sends args as one command and returns its reply, failing t if the
// write or the read fails or takes over 10s. It resets c's deadline.
func (c *Conn) Do(t testing.TB, args ...string) resp.Value {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(resp.AppendCommand(nil, args...)); err != nil {
		t.Fatalf("write %v: %v", args, err)
	}
	v, err := c.rd.ReadValue()
	if err != nil {
		t.Fatalf("read reply to %v: %v", args, err)
	}
	return v
}

// ReadValue reads the next reply (or push) from c, under whatever deadline
// c has.
func (c *Conn) ReadValue() (resp.Value, error) { return c.rd.ReadValue() }

// Go sends args as one command and reads its reply on a goroutine of its
// own, which sends it on the returned channel (buffered, so the goroutine
// never waits for a receiver) and ends; a failed read sends the zero Value.
// The goroutine ends at the latest at c's deadline or when c is closed, so
// set one before a command that may block. Until the reply has come, the
// caller must not read from c.
func (c *Conn) Go(args ...string) <-chan resp.Value {
	done := make(chan resp.Value, 1)
	c.Write(resp.AppendCommand(nil, args...)) // a failed write shows as a failed read
	go func() {
		v, _ := c.rd.ReadValue()
		done <- v
	}()
	return done
}

// Do sends one command on a fresh connection to addr and returns the reply,
// failing t as Conn.Do does.
func Do(t testing.TB, addr string, args ...string) resp.Value {
	t.Helper()
	c := Dial(t, addr)
	defer c.Close()
	return c.Do(t, args...)
}

// Ask sends one command on a fresh connection to addr and returns the reply;
// unlike Do, a failed dial or a broken connection is an error to look at or
// retry (a node being killed, a port that refuses), not a failed test.
func Ask(addr string, args ...string) (resp.Value, error) {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return resp.Value{}, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(resp.AppendCommand(nil, args...)); err != nil {
		return resp.Value{}, err
	}
	return resp.NewReader(nc, resp.Limits{}).ReadValue()
}

// BlockedClients returns addr's INFO blocked_clients, failing t if INFO
// has none.
func BlockedClients(t testing.TB, addr string) string {
	t.Helper()
	return InfoField(t, addr, "clients", "blocked_clients")
}

// InfoField returns the value of name in section of addr's INFO, failing t
// if INFO has no such line.
func InfoField(t testing.TB, addr, section, name string) string {
	t.Helper()
	info := Do(t, addr, "INFO", section).Text()
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	t.Fatalf("no %s in INFO %s of %s: %q", name, section, addr, info)
	return ""
}

// WaitBlocked waits up to 10s for addr's blocked_clients to be want.
func WaitBlocked(t testing.TB, addr, want string) {
	t.Helper()
	WaitFor(t, "blocked_clients:"+want+" on "+addr, 10*time.Second, func() bool {
		return BlockedClients(t, addr) == want
	})
}

// WaitFor polls cond every 10ms until it holds, failing t with what was
// awaited if timeout passes first.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
