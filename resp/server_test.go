package resp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// patience bounds every wait in these tests: nothing here should take
// more than a fraction of it.
const patience = 10 * time.Second

// mapHandler is a small map store for driving a Server:
//
//	PING, ECHO x, SET k v (:1), GET k, BIG n (a bulk of n bytes),
//	KINDS (a reply of every mode-dependent kind), HELLO 2|3, QUIT,
//	WAIT id (a reply future that release(id, v) completes),
//	SUB (remembers the connection for Push),
//	TUNNEL (hands the connection to a tunnel that upper-cases what follows),
//	EXEMPT (exempts the connection from the idle timeout);
//
// anything else is echoed back as an array of its arguments.
type mapHandler struct {
	mu      sync.Mutex
	data    map[string]Value
	waits   map[string]chan Value
	sub     *Conn
	started atomic.Int64 // WAIT futures handed out
}

func newMapHandler() *mapHandler {
	return &mapHandler{data: map[string]Value{}, waits: map[string]chan Value{}}
}

// chanFuture is a reply that arrives on ch, or an error once the
// connection closes.
type chanFuture struct {
	ch  chan Value
	ctx context.Context
}

func (f chanFuture) Wait() Value {
	select {
	case v := <-f.ch:
		return v
	case <-f.ctx.Done():
		return Err("ERR connection closed")
	}
}

func (h *mapHandler) Serve(c *Conn, args []Value) Reply {
	h.mu.Lock()
	defer h.mu.Unlock()
	req := args
	for len(args) < 3 { // missing arguments are null
		args = append(args, Null())
	}
	switch strings.ToUpper(args[0].Text()) {
	case "PING":
		return Now(Simple("PONG"))
	case "ECHO":
		return Now(args[1])
	case "SET":
		h.data[args[1].Text()] = args[2].Clone()
		return Now(Int(1))
	case "GET":
		if v, ok := h.data[args[1].Text()]; ok {
			return Now(v)
		}
		return Now(NullBulk())
	case "BIG":
		n, _ := strconv.Atoi(args[1].Text())
		return Now(Bulk(bytes.Repeat([]byte{'b'}, n)))
	case "KINDS":
		return Now(Array(Dict(BulkString("f"), Int(1)), Bool(true), Double(1.5), Null()))
	case "HELLO":
		if args[1].Text() == "3" {
			c.SetMode(RESP3)
		} else {
			c.SetMode(RESP2)
		}
		return Now(Dict(BulkString("proto"), args[1]))
	case "QUIT":
		c.CloseAfterReply()
		return Now(OK())
	case "WAIT":
		ch := make(chan Value, 1)
		h.waits[args[1].Text()] = ch
		h.started.Add(1)
		return Later(chanFuture{ch: ch, ctx: c.Context()})
	case "SUB":
		h.sub = c
		return Now(OK())
	case "TUNNEL":
		return Handoff(upperTunnel)
	case "EXEMPT":
		c.SetIdleExempt(true)
		return Now(OK())
	}
	return Now(Array(req...).Clone())
}

// release completes the future of WAIT id with v.
func (h *mapHandler) release(id string, v Value) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waits[id] <- v
}

// startServer serves h on ln (a fresh 127.0.0.1:0 listener if nil) until
// the test ends, and returns the server and its address.
func startServer(t *testing.T, ln net.Listener, cfg Config, h Handler) (*Server, string) {
	t.Helper()
	if ln == nil {
		ln = listen(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t, nil)
	}
	srv := NewServer(cfg, h)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; err != ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, ln.Addr().String()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// testLogger logs through t.Log, and into record if it is not nil.
func testLogger(t *testing.T, record *lockedBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t, record}, nil))
}

type logWriter struct {
	t      *testing.T
	record *lockedBuffer
}

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	if w.record != nil {
		w.record.Write(p)
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client is a raw connection to a test server.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, r: NewReader(nc, Limits{})}
}

// send writes raw bytes in one write.
func (c *client) send(raw string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("sending %q: %v", clip([]byte(raw)), err)
	}
}

// read reads one reply.
func (c *client) read() Value {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(patience))
	v, err := c.r.ReadValue()
	if err != nil {
		c.t.Fatalf("reading a reply: %v", err)
	}
	return v
}

// expect reads exactly len(want) raw bytes and compares them.
func (c *client) expect(want string) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, len(want))
	n, err := io.ReadFull(c.r.br, got)
	if err != nil || string(got) != want {
		c.t.Fatalf("read %q, %v; want %q", clip(got[:n]), err, clip([]byte(want)))
	}
}

// do sends raw and expects the raw reply want.
func (c *client) do(raw, want string) {
	c.t.Helper()
	c.send(raw)
	c.expect(want)
}

// rest reads everything until the server closes the connection.
func (c *client) rest() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(patience))
	b, err := io.ReadAll(c.r.br)
	if err != nil {
		c.t.Fatalf("reading to the end after %q: %v", clip(b), err)
	}
	return string(b)
}

// waitFor polls cond until it holds, failing after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", patience, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// countingListener hands out connections that count the server's reads
// (those that got data) and writes.
type countingListener struct {
	net.Listener
	conns chan *countingConn
}

func (l countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &countingConn{Conn: nc}
	l.conns <- c
	return c, nil
}

type countingConn struct {
	net.Conn
	reads, writes atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads.Add(1)
	}
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1) // before the bytes can reach the client
	return c.Conn.Write(p)
}

func (c *countingConn) CloseWrite() error { return c.Conn.(*net.TCPConn).CloseWrite() }

// startCountingServer starts a server whose accepted connections count
// their reads and writes.
func startCountingServer(t *testing.T, h Handler) (string, chan *countingConn) {
	ln := countingListener{Listener: listen(t), conns: make(chan *countingConn, 16)}
	_, addr := startServer(t, ln, Config{}, h)
	return addr, ln.conns
}

// wantOneWrite checks that the server answered each batch it read with
// one write.
func wantOneWrite(t *testing.T, sc *countingConn) {
	t.Helper()
	reads, writes := sc.reads.Load(), sc.writes.Load()
	if reads == 1 && writes != 1 || writes > reads {
		t.Errorf("the server answered %d reads of requests with %d writes, want one write per batch", reads, writes)
	}
}

func TestServer_PipelineOneWrite(t *testing.T) {
	addr, conns := startCountingServer(t, newMapHandler())
	c := dial(t, addr)
	big := strings.Repeat("x", 3000)
	req := "PING\r\n" +
		string(AppendCommand(nil, "SET", "k", "v")) +
		"*2\r\n$4\r\nECHO\r\n:5\r\n" +
		"get k\r\n" +
		"ECHO \"a b\"\r\n" +
		string(AppendCommand(nil, "ECHO", big)) +
		"*3\r\n+MIX\r\n%1\r\n+f\r\n#t\r\n_\r\n" +
		"GET nope\r\n"
	want := "+PONG\r\n:1\r\n:5\r\n$1\r\nv\r\n$3\r\na b\r\n$3000\r\n" + big + "\r\n" +
		"*3\r\n+MIX\r\n%1\r\n+f\r\n:1\r\n$-1\r\n$-1\r\n"
	c.do(req, want)
	wantOneWrite(t, <-conns)

	// A longer pipeline, all answered in order.
	c2 := dial(t, addr)
	req, want = "", ""
	for i := range 200 {
		req += fmt.Sprintf("ECHO %d\r\n", i)
		want += fmt.Sprintf("$%d\r\n%d\r\n", len(strconv.Itoa(i)), i)
	}
	c2.do(req, want)
	wantOneWrite(t, <-conns)
}

func TestServer_FuturesInOrder(t *testing.T) {
	h := newMapHandler()
	addr, conns := startCountingServer(t, h)
	c := dial(t, addr)
	c.send("WAIT a\r\nWAIT b\r\nPING\r\nWAIT c\r\n")
	waitFor(t, "the handler to start all three futures", func() bool { return h.started.Load() == 3 })
	// Completed out of order, answered in request order.
	h.release("c", Int(3))
	h.release("b", Int(2))
	h.release("a", Int(1))
	c.expect(":1\r\n:2\r\n+PONG\r\n:3\r\n")
	wantOneWrite(t, <-conns)
}

func TestServer_Modes(t *testing.T) {
	const (
		native = "*4\r\n%1\r\n$1\r\nf\r\n:1\r\n:1\r\n$3\r\n1.5\r\n$-1\r\n"
		resp2  = "*4\r\n*2\r\n$1\r\nf\r\n:1\r\n:1\r\n$3\r\n1.5\r\n$-1\r\n"
		resp3  = "*4\r\n%1\r\n$1\r\nf\r\n:1\r\n#t\r\n,1.5\r\n_\r\n"
	)
	_, addr := startServer(t, nil, Config{}, newMapHandler())
	c := dial(t, addr)
	c.do("KINDS\r\n", native)
	c.do("HELLO 3\r\n", "%1\r\n$5\r\nproto\r\n$1\r\n3\r\n") // HELLO answers in the new mode
	c.do("KINDS\r\n", resp3)
	c.do("HELLO 2\r\nKINDS\r\n", "*2\r\n$5\r\nproto\r\n$1\r\n2\r\n"+resp2)

	_, addr = startServer(t, nil, Config{Mode: RESP2}, newMapHandler())
	dial(t, addr).do("KINDS\r\n", resp2)
}

func TestServer_ManyClients(t *testing.T) {
	const n = 1000
	srv, addr := startServer(t, nil, Config{}, newMapHandler())
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial(t, addr).nc
	}
	waitFor(t, "1,000 connections to be served", func() bool { return srv.NumConns() == n })
	var wg sync.WaitGroup
	for i, nc := range conns {
		wg.Go(func() {
			if err := roundTrip(nc, fmt.Sprintf("ECHO client-%d\r\n", i), fmt.Sprintf("client-%d", i)); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if len(srv.Conns()) != n {
		t.Errorf("Conns() lists %d connections, want %d", len(srv.Conns()), n)
	}
}

// roundTrip sends req on nc and checks that the reply's text is want. It
// is safe from any goroutine.
func roundTrip(nc net.Conn, req, want string) error {
	nc.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(nc, req); err != nil {
		return err
	}
	v, err := NewReader(nc, Limits{}).ReadValue()
	if err != nil {
		return err
	}
	if v.Text() != want {
		return fmt.Errorf("reply %v, want %q", v, want)
	}
	return nil
}

func TestServer_Quit(t *testing.T) {
	_, addr := startServer(t, nil, Config{}, newMapHandler())
	c := dial(t, addr)
	c.send("PING\r\nQUIT\r\nPING\r\n")
	if got := c.rest(); got != "+PONG\r\n+OK\r\n" {
		t.Errorf("got %q, want PONG and OK, then the end", got)
	}
}

func TestServer_Push(t *testing.T) {
	h := newMapHandler()
	_, addr := startServer(t, nil, Config{}, h)
	c := dial(t, addr)
	c.do("SUB\r\n", "+OK\r\n")
	h.mu.Lock()
	conn := h.sub
	h.mu.Unlock()
	if conn.ID() == 0 || conn.RemoteAddr().String() != c.nc.LocalAddr().String() || time.Since(conn.Created()) > patience {
		t.Errorf("connection id %d, address %v, created %v", conn.ID(), conn.RemoteAddr(), conn.Created())
	}
	conn.SetName("worker")
	if conn.Name() != "worker" {
		t.Errorf("Name() = %q", conn.Name())
	}
	// Pushes from another goroutine while the handler switches modes.
	pushed := make(chan bool)
	go func() { pushed <- conn.Push(Array(BulkString("message"), BulkString("hi"))) }()
	c.send("HELLO 3\r\n")
	if !<-pushed {
		t.Fatal("Push to a live connection failed")
	}
	got := []string{c.read().String(), c.read().String()}
	if !(got[0] == `["message", "hi"]` || got[1] == `["message", "hi"]`) {
		t.Errorf("replies %q do not include the pushed message", got)
	}
	c.nc.Close()
	waitFor(t, "Push to fail once the client is gone", func() bool { return !conn.Push(Simple("x")) })
}

func TestServer_CloseLeavesNoGoroutines(t *testing.T) {
	before := goleak.IgnoreCurrent()
	h := newMapHandler()
	srv := NewServer(Config{Logger: testLogger(t, nil)}, h)
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	addr := ln.Addr().String()

	idle := dial(t, addr)
	idle.do("PING\r\n", "+PONG\r\n")
	dial(t, addr).send("*2\r\n$4\r\nECHO\r\n$5\r\nab") // in the middle of a frame
	dial(t, addr).send("WAIT never\r\n")               // waiting on a future
	waitFor(t, "the future to start", func() bool { return h.started.Load() == 1 })
	bad := dial(t, addr) // lingering after a protocol error
	bad.send("*x\r\n")
	waitFor(t, "all four clients to be served", func() bool { return srv.NumConns() == 4 })

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != ErrServerClosed {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := srv.Serve(listen(t)); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close returned %v", err)
	}
	if srv.NumConns() != 0 {
		t.Errorf("%d connections left after Close", srv.NumConns())
	}
	goleak.VerifyNone(t, before)
}

// A client may send a whole pipeline before it reads any reply (redis-py's
// pipeline does): the server keeps reading its requests while their
// replies wait to be written, so neither side blocks the other, even when
// the replies are larger than the sockets' buffers. The client here sends
// one request at a time and waits, through another connection, until the
// server has served it, so that every request ends a batch of its own.
func TestServer_ClientThatReadsOnlyAfterSending(t *testing.T) {
	_, addr := startServer(t, nil, Config{OutputLimit: 256 << 20}, newMapHandler())
	c := dial(t, addr)
	c.nc.(*net.TCPConn).SetReadBuffer(16 << 10)
	other := dial(t, addr)
	payload := strings.Repeat("p", 64<<10)
	const n = 256 // 16 MiB of replies: more than the sockets' buffers hold
	for i := range n {
		c.send(string(AppendCommand(nil, "ECHO", payload)) + string(AppendCommand(nil, "SET", "served", strconv.Itoa(i))))
		waitFor(t, fmt.Sprintf("the server to serve request %d while the replies before it wait", i), func() bool {
			other.send("GET served\r\n")
			return other.read().Text() == strconv.Itoa(i)
		})
	}
	want := "$65536\r\n" + payload + "\r\n"
	for range n {
		c.expect(want)
		c.expect(":1\r\n")
	}
}
