package door_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
)

// When leadership ends, the connections it served plainly are closed, as
// Sentinel's failover closes a demoted master's clients; a connection
// that only asked local questions, or whose client follows redirects
// (READONLY, READWRITE, CLUSTER), stays and is redirected.
func TestTenure_LeadershipEndClosesPlainClients(t *testing.T) {
	t.Parallel()
	s, addr := startDoor(t)
	conns := map[string]*resptest.Conn{}
	for _, name := range []string{"plain", "reader", "local", "readonly", "readwrite", "cluster"} {
		cn := resptest.Dial(t, addr)
		defer cn.Close()
		conns[name] = cn
	}
	conns["plain"].Do(t, "SET", "k", "v")
	conns["reader"].Do(t, "GET", "k")
	conns["local"].Do(t, "PING")
	conns["readonly"].Do(t, "READONLY")
	conns["readonly"].Do(t, "GET", "k")
	conns["readwrite"].Do(t, "READWRITE")
	conns["readwrite"].Do(t, "SET", "k", "w")
	conns["cluster"].Do(t, "CLUSTER", "SLOTS")
	conns["cluster"].Do(t, "SET", "k", "x")
	const next = "127.0.0.1:7001"
	s.stepDown(next)
	for _, name := range []string{"plain", "reader"} {
		wantClosed(t, conns[name], name+" connection of a deposed leader")
	}
	for _, name := range []string{"local", "readonly", "readwrite", "cluster"} {
		if v := conns[name].Do(t, "SET", "k", "y"); v.Text() != "MOVED 0 "+next {
			t.Fatalf("%s connection after the leadership ended: SET = %v, want a redirect", name, v)
		}
	}
	// Under the next leadership the binding starts again.
	s.lead()
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	cn.Do(t, "SET", "k", "z")
	s.stepDown(next)
	wantClosed(t, cn, "plain connection of the second leadership")
}

// wantClosed fails t unless the server closes cn within 10s (a timeout is
// not a close).
func wantClosed(t *testing.T, cn *resptest.Conn, what string) {
	t.Helper()
	cn.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := cn.ReadValue()
	var ne net.Error
	switch {
	case err == nil:
		t.Fatalf("%s: read %v, want the connection closed", what, v)
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("%s: still open after 10s", what)
	}
}
