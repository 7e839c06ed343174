package resp

import (
	"net"
	"testing"
	"time"
)

// goneFuture is a blocked request that waits for its client to leave, or
// for a release.
type goneFuture struct {
	c       *Conn
	release chan Value
	left    chan struct{}
}

func (f goneFuture) Wait() Value {
	select {
	case v := <-f.release:
		return v
	case <-f.c.Gone():
		close(f.left)
		return Err("ERR gone")
	}
}

type blockedHandler struct {
	release chan Value
	left    chan struct{}
}

func (h blockedHandler) Serve(c *Conn, args []Value) Reply {
	if args[0].Text() == "BLOCK" {
		return Blocked(goneFuture{c: c, release: h.release, left: h.left})
	}
	return Now(Simple("PONG"))
}

// A client that closes while its request is Blocked is noticed at once:
// Gone closes while the future still waits (the server does not read the
// socket otherwise until the batch's replies are out).
func TestServer_BlockedSeesClientLeave(t *testing.T) {
	h := blockedHandler{release: make(chan Value), left: make(chan struct{})}
	_, addr := startServer(t, nil, Config{}, h)
	c := dial(t, addr)
	c.send("BLOCK\r\n")
	c.nc.Close()
	select {
	case <-h.left:
	case <-time.After(patience):
		t.Fatal("the blocked request did not see its client leave")
	}
}

// Requests pipelined behind a Blocked one are served after it, and a
// client that half-closes after its release still gets every reply: Gone
// does not throw away replies already decided.
func TestServer_BlockedKeepsPipelineAndReplies(t *testing.T) {
	h := blockedHandler{release: make(chan Value), left: make(chan struct{})}
	_, addr := startServer(t, nil, Config{}, h)
	c := dial(t, addr)
	c.send("BLOCK\r\nPING\r\nPING\r\n")
	h.release <- Simple("RELEASED")
	c.expect("+RELEASED\r\n")
	c.expect("+PONG\r\n")
	c.send("BLOCK\r\n")
	c.nc.(*net.TCPConn).CloseWrite()
	<-h.left
	c.expect("+PONG\r\n-ERR gone\r\n")
}
