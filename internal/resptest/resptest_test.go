package resptest_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// serve answers ECHO with its argument and INFO with blocked_clients:2 on
// a loopback port until t's cleanup, and returns the address.
func serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := resp.NewServer(resp.Config{}, resp.HandlerFunc(func(_ *resp.Conn, args []resp.Value) resp.Reply {
		switch strings.ToUpper(args[0].Text()) {
		case "ECHO":
			return resp.Now(resp.BulkString(args[1].Text()))
		case "INFO":
			return resp.Now(resp.BulkString("# Clients\r\nconnected_clients:1\r\nblocked_clients:2\r\n"))
		}
		return resp.Now(resp.Err("ERR unknown command"))
	}))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return ln.Addr().String()
}

func TestConn_DoAndGo(t *testing.T) {
	addr := serve(t)
	if v := resptest.Do(t, addr, "ECHO", "a"); v.Text() != "a" {
		t.Fatalf("Do ECHO a = %v", v)
	}
	cn := resptest.Dial(t, addr)
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(10 * time.Second))
	if v := <-cn.Go("ECHO", "b"); v.Text() != "b" {
		t.Fatalf("Go ECHO b = %v", v)
	}
	if v := cn.Do(t, "ECHO", "c"); v.Text() != "c" {
		t.Fatalf("Conn.Do ECHO c after Go = %v", v)
	}
}

func TestBlockedClients(t *testing.T) {
	addr := serve(t)
	if got := resptest.BlockedClients(t, addr); got != "2" {
		t.Fatalf("BlockedClients = %q, want 2", got)
	}
	resptest.WaitBlocked(t, addr, "2")
}
