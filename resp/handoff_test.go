package resp

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"time"
)

// upperTunnel writes back, upper-cased, each line the client sends after
// TUNNEL, until the client half-closes.
func upperTunnel(in io.Reader, out io.Writer) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		out.Write(append(bytes.ToUpper(sc.Bytes()), '\n'))
	}
}

// A Handoff answers the requests before it as usual, then gives the tunnel
// every byte after it, the ones pipelined in the same write included, and
// the server writes nothing of its own afterwards.
func TestHandoff_TunnelTakesTheRestOfTheStream(t *testing.T) {
	h := newMapHandler()
	srv, addr := startServer(t, nil, Config{IdleTimeout: 50 * time.Millisecond}, h)
	c := dial(t, addr)
	c.send(string(AppendCommand(nil, "PING")) + string(AppendCommand(nil, "TUNNEL")) + "first line\n")
	c.nc.SetReadDeadline(time.Now().Add(patience))
	br := bufio.NewReader(c.nc)
	want := "+PONG\r\nFIRST LINE\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
		t.Fatalf("read %q (%v), want %q", got, err, want)
	}
	// Past the idle timeout: the tunnel's connection is not the server's to time out.
	time.Sleep(100 * time.Millisecond)
	c.send("PING\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "PING\n" {
		t.Fatalf("after handoff read %q (%v), want the tunnel's PING", line, err)
	}
	c.nc.(interface{ CloseWrite() error }).CloseWrite()
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the tunnel returned: %q, %v; want a clean close", rest, err)
	}
	waitFor(t, "the connection to close", func() bool { return srv.NumConns() == 0 })
}

// Closing the server ends a running tunnel: its input fails.
func TestHandoff_ServerCloseEndsTunnel(t *testing.T) {
	h := newMapHandler()
	srv, addr := startServer(t, nil, Config{}, h)
	c := dial(t, addr)
	c.send(string(AppendCommand(nil, "TUNNEL")) + "x\n")
	c.nc.SetReadDeadline(time.Now().Add(patience))
	br := bufio.NewReader(c.nc)
	if line, err := br.ReadString('\n'); err != nil || line != "X\n" {
		t.Fatalf("read %q (%v)", line, err)
	}
	closed := make(chan struct{})
	go func() {
		srv.Close() // waits for every goroutine, the tunnel's included
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(patience):
		t.Fatal("Server.Close did not return: the tunnel outlived it")
	}
}
