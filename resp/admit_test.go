package resp

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// refusing serves like mapHandler but refuses every connection.
type refusing struct{ *mapHandler }

func (refusing) Admit(net.Addr) error { return errors.New("DENIED not from here") }

// A Handler that is an Admitter refuses a connection at accept: the
// client reads the refusal as an error reply, then the end of the stream,
// and no request of it is served.
func TestAdmitter_RefusesAtAccept(t *testing.T) {
	h := refusing{newMapHandler()}
	srv, addr := startServer(t, nil, Config{}, h)
	c := dial(t, addr)
	c.send(string(AppendCommand(nil, "SET", "k", "v")))
	c.nc.SetReadDeadline(time.Now().Add(patience))
	v, err := c.r.ReadValue()
	if err != nil || v.Text() != "DENIED not from here" || !v.IsError() {
		t.Fatalf("first reply = %v, %v; want the refusal", v, err)
	}
	if v, err := c.r.ReadValue(); err != io.EOF {
		t.Fatalf("after the refusal: %v, %v; want EOF", v, err)
	}
	if _, ok := h.data["k"]; ok || srv.NumConns() != 0 {
		t.Fatalf("a refused connection was served (%d conns)", srv.NumConns())
	}
}
