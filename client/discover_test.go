package client_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/resp"
)

// proxy forwards connections to a backend, as Docker's userland proxy does
// for a container's published port; once killed it accepts connections
// and closes them at once, as that proxy does when the container is dead.
type proxy struct {
	Addr    string
	ln      net.Listener
	backend string
	wg      sync.WaitGroup

	mu      sync.Mutex
	dead    bool
	accepts int // connections accepted since kill
	conns   map[net.Conn]struct{}
}

// startProxy forwards to backend until the test ends.
func startProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{Addr: ln.Addr().String(), ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.kill()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) accept() {
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.dead {
			p.accepts++
			p.mu.Unlock()
			nc.Close()
			continue
		}
		p.conns[nc] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.forward(nc) })
	}
}

func (p *proxy) forward(nc net.Conn) {
	defer nc.Close()
	bc, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer bc.Close()
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return
	}
	p.conns[bc] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(bc, nc); done <- struct{}{} }()
	go func() { io.Copy(nc, bc); done <- struct{}{} }()
	<-done
	nc.Close()
	bc.Close()
	<-done
}

// kill cuts every forwarded connection; later ones are closed at once.
func (p *proxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) acceptsSinceKill() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

// TestDiscover_RefusedLeader: the cached leader's address refuses
// connections. The client asks the other node it knows, which names the
// new leader, and sends the write there without waiting for a redirect.
func TestDiscover_RefusedLeader(t *testing.T) {
	store := clienttest.NewStore() // replicated state: whoever leads serves it
	old := startNode(t, store)
	next := startNode(t, store)
	replica := clienttest.NewReplica(old.Addr, 1)
	rec := &recorder{next: replica}
	c := newClient(t, client.Options{}, startNode(t, rec).Addr)
	ctx := testCtx(t)
	if err := c.Set(ctx, "a", "1"); err != nil || c.Leader() != old.Addr {
		t.Fatalf("Set via the replica: %v (leader %q); want the old leader", err, c.Leader())
	}

	old.Close()
	replica.SetLeader(next.Addr, 2)
	store.SetTerm(2)
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 1 {
		t.Fatalf("INCR after the leader died = %v, %v; want 1", v, err)
	}
	if c.Leader() != next.Addr {
		t.Fatalf("Leader() = %q; want the new leader %q", c.Leader(), next.Addr)
	}
	if sets, incrs := rec.named("SET"), rec.named("INCR"); len(sets)+len(incrs) != 0 {
		t.Fatalf("the replica saw writes %v %v; want none (the leader was asked for, not redirected to)", sets, incrs)
	}
	if role := rec.named("ROLE"); len(role) != 1 {
		t.Fatalf("the replica was asked ROLE %d times; want 1", len(role))
	}
	st := c.Stats()
	if st.LeaderSearches != 1 || st.LeaderChanges != 1 || st.Redirects != 1 {
		t.Fatalf("Stats = %+v; want 1 search, 1 leader change, 1 redirect (the first)", st)
	}
}

// TestDiscover_AcceptThenClose: the cached leader sits behind a proxy that,
// once the leader is dead, accepts connections and closes them at once.
// That counts as the address failing: the proxy is not dialled again, the
// new leader is found through the replica, and the write cut off by the
// proxy is resent under its session and applied once.
func TestDiscover_AcceptThenClose(t *testing.T) {
	store := clienttest.NewStore()
	old := startProxy(t, startNode(t, store).Addr)
	next := startNode(t, store)
	replica := clienttest.NewReplica(old.Addr, 1)
	c := newClient(t, client.Options{}, startNode(t, replica).Addr)
	ctx := testCtx(t)
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 1 || c.Leader() != old.Addr {
		t.Fatalf("INCR via the proxy = %v, %v (leader %q); want 1 at the proxy", v, err, c.Leader())
	}

	old.kill()
	replica.SetLeader(next.Addr, 2)
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 2 {
		t.Fatalf("INCR after the leader died = %v, %v; want 2", v, err)
	}
	if c.Leader() != next.Addr {
		t.Fatalf("Leader() = %q; want %q", c.Leader(), next.Addr)
	}
	if n := old.acceptsSinceKill(); n > 1 {
		t.Fatalf("the dead proxy accepted %d connections; want at most 1", n)
	}
	if st := c.Stats(); st.LeaderSearches != 1 || st.LeaderChanges != 1 || st.UnknownOutcomes != 0 {
		t.Fatalf("Stats = %+v; want 1 search, 1 leader change, no unknown outcome", st)
	}
}

// TestDiscover_HighestTerm: after the leader dies, one replica (in term 3,
// refusing ROLE so that CLUSTER SHARDS is asked) names the new leader; a
// replica still in term 2 and a stale node claiming to lead in term 1
// name another. The answer of the highest term wins over the majority.
func TestDiscover_HighestTerm(t *testing.T) {
	store := clienttest.NewStore()
	old := startNode(t, store)
	next := &recorder{next: store}
	nextNode := startNode(t, next)
	staleStore := clienttest.NewStore()
	stale := &recorder{next: staleStore}
	staleNode := startNode(t, stale)
	b := clienttest.NewReplica(old.Addr, 1)
	d := clienttest.NewReplica(old.Addr, 1)
	c := newClient(t, client.Options{}, startNode(t, noRole(b)).Addr, startNode(t, d).Addr, staleNode.Addr)
	ctx := testCtx(t)
	if err := c.Set(ctx, "a", "1"); err != nil || c.Leader() != old.Addr {
		t.Fatalf("Set: %v (leader %q); want the old leader", err, c.Leader())
	}

	old.Close()
	b.SetLeader(nextNode.Addr, 3)
	store.SetTerm(3)
	d.SetLeader(staleNode.Addr, 2)
	if err := c.Set(ctx, "a", "2"); err != nil {
		t.Fatalf("Set after the leader died: %v", err)
	}
	if c.Leader() != nextNode.Addr {
		t.Fatalf("Leader() = %q; want the term-3 leader %q (stale %q)", c.Leader(), nextNode.Addr, staleNode.Addr)
	}
	if sets := stale.named("SET"); len(sets) != 0 {
		t.Fatalf("the stale node got %v", sets)
	}
	if sets := next.named("SET"); len(sets) != 1 {
		t.Fatalf("the new leader got SETs %v; want 1", sets)
	}
}

// noRole answers ROLE with an error, as a server without it would, and
// passes every other command to h.
func noRole(h resp.Handler) resp.Handler {
	return resp.HandlerFunc(func(c *resp.Conn, args []resp.Value) resp.Reply {
		if strings.EqualFold(args[0].Text(), "ROLE") {
			return resp.Now(resp.Err("ERR unknown command 'ROLE'"))
		}
		return h.Serve(c, args)
	})
}
