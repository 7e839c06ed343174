package chaos

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

// proxy carries one node's inbound Raft traffic: the node advertises the
// proxy's address (--advertise-raft), so every Raft connection to the node,
// from any peer, passes through it. Raft connections are opened by the
// sender of a request (the reply comes back on the same connection), and
// every connection comes from 127.0.0.1, so the proxy learns a
// connection's sender from the RPCHeader of its first request (hashicorp/
// raft's msgpack framing: one type byte, then the request). Knowing both
// ends of every connection, the proxies together can cut any directed link,
// and so isolate a node in both directions: its own proxy refuses every
// sender, and the other proxies refuse it.
//
// A cut link closes the link's open connections and closes new ones once
// their sender is known (a rejecting firewall rather than a silent one).
type proxy struct {
	ln  net.Listener
	to  string // the node's real Raft address
	dst string // the node's id

	mu      sync.Mutex
	blocked map[string]bool          // senders whose connections are refused; "*" is everyone
	delays  map[string]time.Duration // senders whose links are slow, both ways; "*" is everyone
	links   map[*link]bool
	wg      sync.WaitGroup
}

// maxDelay bounds a slow link's delay.
const maxDelay = time.Second

// link is one proxied connection: from the sender (in) to the node (out).
type link struct {
	src     string
	in, out net.Conn
}

// startProxy listens on addr and forwards to the node dst at to, until
// t's cleanup.
func startProxy(t *testing.T, addr, to, dst string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy for %s: %v", dst, err)
	}
	p := &proxy{ln: ln, to: to, dst: dst, blocked: map[string]bool{}, delays: map[string]time.Duration{}, links: map[*link]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

// handle learns c's sender, then forwards both ways unless the link is cut.
func (p *proxy) handle(in net.Conn) {
	defer in.Close()
	in.SetReadDeadline(time.Now().Add(10 * time.Second))
	var first bytes.Buffer
	src, err := sender(io.TeeReader(in, &first))
	in.SetReadDeadline(time.Time{})
	if err != nil {
		return
	}
	l := &link{src: src, in: in}
	p.mu.Lock()
	cut := p.blocked["*"] || p.blocked[src]
	if !cut {
		p.links[l] = true
	}
	p.mu.Unlock()
	if cut {
		return
	}
	defer p.forget(l)
	out, err := net.DialTimeout("tcp", p.to, time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	l.out = out
	_, live := p.links[l]
	p.mu.Unlock()
	defer out.Close()
	if !live { // cut while dialing
		return
	}
	if _, err := out.Write(first.Bytes()); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		p.pipe(in, out, src) // replies
		in.Close()
		close(done)
	}()
	p.pipe(out, in, src) // requests
	out.Close()
	<-done
}

// chunk is one read's bytes, held back until due.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies r to w until r ends or a write fails, holding each chunk
// back by the delay of src's links when it was read (slow), in order: a
// chunk read after the delay ended still waits for the ones before it.
func (p *proxy) pipe(w, r net.Conn, src string) {
	q := make(chan chunk, 256)
	failed := make(chan struct{})
	go func() { // the writer: owned by pipe, which waits for it
		defer close(failed)
		for c := range q {
			time.Sleep(time.Until(c.due)) // the link's delay (a slow fault); at most maxDelay
			if _, err := w.Write(c.b); err != nil {
				r.Close() // stop the reader too
				for range q {
				}
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			c := chunk{b: bytes.Clone(buf[:n]), due: time.Now().Add(p.delay(src))}
			select {
			case q <- c:
			case <-failed:
			}
		}
		if err != nil {
			break
		}
	}
	close(q)
	<-failed
}

// sender reads the first request's type byte and RPCHeader and returns
// the sending node's id.
func sender(r io.Reader) (string, error) {
	var typ [1]byte
	if _, err := io.ReadFull(r, typ[:]); err != nil {
		return "", err
	}
	var req struct{ raft.RPCHeader } // embedded, as in every raft request: its fields are the request's
	if err := codec.NewDecoder(r, &codec.MsgpackHandle{}).Decode(&req); err != nil {
		return "", fmt.Errorf("decode RPC type %d: %w", typ[0], err)
	}
	if len(req.RPCHeader.ID) == 0 {
		return "", fmt.Errorf("RPC type %d without a sender id", typ[0])
	}
	return string(req.RPCHeader.ID), nil
}

func (p *proxy) forget(l *link) {
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// block cuts the links from srcs ("*": every sender) to this node: their
// open connections close and new ones are refused until heal.
func (p *proxy) block(srcs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range srcs {
		p.blocked[s] = true
	}
	for l := range p.links {
		if p.blocked["*"] || p.blocked[l.src] {
			l.in.Close()
			if l.out != nil {
				l.out.Close()
			}
			delete(p.links, l)
		}
	}
}

// slow delays every chunk on the links from srcs ("*": every sender) to
// this node by d, requests and replies, open connections included, until
// heal. d is capped at maxDelay.
func (p *proxy) slow(d time.Duration, srcs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range srcs {
		p.delays[s] = min(d, maxDelay)
	}
}

// delay is the delay of src's link to this node now.
func (p *proxy) delay(src string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.delays["*"], p.delays[src])
}

// heal restores every link to this node: cuts and delays end (chunks
// already held back are still delivered at their time).
func (p *proxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.blocked)
	clear(p.delays)
}

// close stops the proxy and waits for its goroutines.
func (p *proxy) close() {
	p.ln.Close()
	p.block("*")
	p.wg.Wait()
}

// The proxy learns the sender of every kind of Raft request.
func TestProxy_Sender(t *testing.T) {
	h := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("n2"), Addr: []byte("127.0.0.1:1")}
	for typ, req := range []any{
		&raft.AppendEntriesRequest{RPCHeader: h, Term: 3, Entries: []*raft.Log{{Index: 1, Term: 1, Data: []byte("n3 n1")}}},
		&raft.RequestVoteRequest{RPCHeader: h, Term: 3},
		&raft.InstallSnapshotRequest{RPCHeader: h, Term: 3, Size: 10},
		&raft.TimeoutNowRequest{RPCHeader: h},
		&raft.RequestPreVoteRequest{RPCHeader: h, Term: 3},
	} {
		var b bytes.Buffer
		b.WriteByte(byte(typ))
		if err := codec.NewEncoder(&b, &codec.MsgpackHandle{}).Encode(req); err != nil {
			t.Fatal(err)
		}
		if src, err := sender(&b); src != "n2" || err != nil {
			t.Errorf("RPC type %d: sender %q, %v; want n2", typ, src, err)
		}
	}
}

// A slow link holds every chunk back, both ways, and keeps their order;
// heal ends the delay. (Only the delay's lower bound is checked: the
// machine may add any amount to it.)
func TestProxy_SlowLink(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { echo.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { io.Copy(c, c); c.Close() })
		}
	})
	p := startProxy(t, "127.0.0.1:0", echo.Addr().String(), "n1")
	conn, err := net.DialTimeout("tcp", p.ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))

	var first bytes.Buffer // a Raft request's start, so the proxy learns the sender
	first.WriteByte(byte(0))
	h := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("n2"), Addr: []byte("127.0.0.1:1")}
	if err := codec.NewEncoder(&first, &codec.MsgpackHandle{}).Encode(&raft.AppendEntriesRequest{RPCHeader: h, Term: 1}); err != nil {
		t.Fatal(err)
	}
	roundTrip := func(msgs ...string) time.Duration {
		t.Helper()
		began := time.Now()
		var want string
		for _, m := range msgs {
			if _, err := conn.Write([]byte(m)); err != nil {
				t.Fatal(err)
			}
			want += m
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(conn, got); err != nil {
			t.Fatalf("reading back %q: %v", want, err)
		}
		if string(got) != want {
			t.Fatalf("read back %q, want %q", got, want)
		}
		return time.Since(began)
	}
	roundTrip(first.String())

	const d = 60 * time.Millisecond
	p.slow(d, "n2")
	if took := roundTrip("a", "b", "c"); took < 2*d {
		t.Errorf("round trip on a link slowed by %v took %v, want at least %v", d, took, 2*d)
	}
	p.heal()
	p.slow(time.Minute, "n3") // another sender's link: not this one
	roundTrip("after heal")
}
