package resp

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A connection exempt from the idle timeout (a subscriber) stays open.
func TestServer_IdleExempt(t *testing.T) {
	_, addr := startServer(t, nil, Config{IdleTimeout: 20 * time.Millisecond}, newMapHandler())
	c := dial(t, addr)
	c.do("EXEMPT\r\n", "+OK\r\n")
	time.Sleep(100 * time.Millisecond) // five idle timeouts pass
	c.do("PING\r\n", "+PONG\r\n")
}

// MaxClientsPerIP refuses one IP's connection beyond the bound, with an
// error, and admits it again once one of the others has left.
func TestServer_MaxClientsPerIP(t *testing.T) {
	srv, addr := startServer(t, nil, Config{MaxClientsPerIP: 2}, newMapHandler())
	a, b := dial(t, addr), dial(t, addr)
	a.do("PING\r\n", "+PONG\r\n")
	b.do("PING\r\n", "+PONG\r\n")
	c := dial(t, addr)
	c.send("PING\r\n")
	c.nc.SetReadDeadline(time.Now().Add(patience))
	if v, err := c.r.ReadValue(); err != nil || v.Text() != "ERR max number of clients from 127.0.0.1 reached" {
		t.Fatalf("third connection from one IP: %v, %v", v, err)
	}
	a.nc.Close()
	waitFor(t, "the first client to leave", func() bool { return srv.NumConns() == 1 })
	dial(t, addr).do("PING\r\n", "+PONG\r\n")
}

func TestServer_MaxClients(t *testing.T) {
	srv, addr := startServer(t, nil, Config{MaxClients: 2}, newMapHandler())
	c1, c2 := dial(t, addr), dial(t, addr)
	c1.do("PING\r\n", "+PONG\r\n")
	c2.do("PING\r\n", "+PONG\r\n")
	if got := dial(t, addr).rest(); got != "-ERR max number of clients reached\r\n" {
		t.Errorf("the third client got %q", got)
	}
	c2.do("PING\r\n", "+PONG\r\n")
	c1.nc.Close()
	waitFor(t, "the closed client to leave", func() bool { return srv.NumConns() == 1 })
	dial(t, addr).do("PING\r\n", "+PONG\r\n")
}

func TestServer_OutputLimit(t *testing.T) {
	var log lockedBuffer
	srv, addr := startServer(t, nil, Config{OutputLimit: 1 << 20, Logger: testLogger(t, &log)}, newMapHandler())
	good := dial(t, addr)
	good.do("PING\r\n", "+PONG\r\n")

	// A reading client may fetch more than the limit, a batch at a time.
	big := "$65536\r\n" + strings.Repeat("b", 65536) + "\r\n"
	for range 6 {
		good.do(strings.Repeat("BIG 65536\r\n", 4), strings.Repeat(big, 4))
	}

	// The slow client asks for 256 KiB of replies per write and never reads.
	slow := dial(t, addr)
	slow.nc.(*net.TCPConn).SetReadBuffer(16 << 10) // so the kernel does not absorb megabytes
	waitFor(t, "both clients to be served", func() bool { return srv.NumConns() == 2 })
	batch := strings.Repeat("BIG 65536\r\n", 4)
	deadline := time.Now().Add(patience)
	writes := 0
	for ; srv.NumConns() == 2; writes++ {
		if time.Now().After(deadline) {
			t.Fatal("the non-reading client was never cut off")
		}
		slow.nc.SetWriteDeadline(deadline)
		if _, err := io.WriteString(slow.nc, batch); err != nil {
			break // the server has closed it
		}
		good.do("PING\r\n", "+PONG\r\n") // and the other client keeps working meanwhile
	}
	waitFor(t, "the slow client to be cut off", func() bool { return srv.NumConns() == 1 })
	t.Logf("the slow client was cut off after %d writes of 4 requests", writes)
	good.do("BIG 100000\r\n", "$100000\r\n"+strings.Repeat("b", 100000)+"\r\n")
	if !strings.Contains(log.String(), "client output limit reached") {
		t.Errorf("the log does not say why the client was cut off: %q", log.String())
	}
}

func TestServer_IdleTimeout(t *testing.T) {
	srv, addr := startServer(t, nil, Config{IdleTimeout: 20 * time.Millisecond}, newMapHandler())
	c := dial(t, addr)
	c.do("PING\r\n", "+PONG\r\n")
	if got := c.rest(); got != "" {
		t.Errorf("idle client got %q before the close", got)
	}
	c.nc.Close()
	waitFor(t, "the idle client to leave", func() bool { return srv.NumConns() == 0 })
}
