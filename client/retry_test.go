package client_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// TestClient_UnknownOutcome: without sessions, the connection breaks after
// a non-idempotent write was sent (and applied): the client must not
// resend it.
func TestClient_UnknownOutcome(t *testing.T) {
	store := clienttest.NewStore()
	f := newFaulty(store, cutAfterNth("INCR", 1))
	c := newClient(t, client.Options{DisableSessions: true}, startNode(t, f).Addr)
	ctx := testCtx(t)

	_, err := c.Do(ctx, "INCR", "n")
	if !errors.Is(err, client.ErrUnknownOutcome) {
		t.Fatalf("INCR cut off: err = %v; want ErrUnknownOutcome", err)
	}
	var ue *client.UnknownOutcomeError
	if !errors.As(err, &ue) || ue.Cmd != "INCR" {
		t.Fatalf("err = %#v; want *UnknownOutcomeError for INCR", err)
	}
	if got := f.count("INCR"); got != 1 {
		t.Fatalf("server saw INCR %d times; want 1 (no silent resend)", got)
	}
	if v, _ := store.Value("n"); v.Int() != 1 {
		t.Fatalf("n = %v; want 1", v)
	}
	// The client recovers: the next command gets a fresh connection.
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 2 {
		t.Fatalf("next INCR = %v, %v; want 2", v, err)
	}
}

// TestClient_RetriesIdempotent: the same cut on a read or a SET is retried
// transparently.
func TestClient_RetriesIdempotent(t *testing.T) {
	store := clienttest.NewStore()
	f := newFaulty(store, func(name string, n int) action {
		if n == 1 {
			return cutAfter
		}
		return pass
	})
	c := newClient(t, client.Options{}, startNode(t, f).Addr)
	ctx := testCtx(t)
	if err := c.Set(ctx, "k", "v"); err != nil {
		t.Fatalf("Set with the first reply cut off: %v", err)
	}
	mustGet(t, c, "k", "v")
	if f.count("SET") != 2 || f.count("GET") != 2 {
		t.Fatalf("SET seen %d, GET seen %d times; want 2 each (one cut, one retry)", f.count("SET"), f.count("GET"))
	}
}

// TestClient_ReadTimeout: without sessions, a timeout retries a read, but
// not an INCR.
func TestClient_ReadTimeout(t *testing.T) {
	f := newFaulty(clienttest.NewStore(), func(name string, n int) action {
		if n == 1 {
			return hang
		}
		return pass
	})
	c := newClient(t, client.Options{ReadTimeout: 50 * time.Millisecond, DisableSessions: true}, startNode(t, f).Addr)
	ctx := testCtx(t)
	if v, err := c.Do(ctx, "GET", "k"); err != nil || !v.IsNull() {
		t.Fatalf("GET after a timeout = %v, %v; want nil", v, err)
	}
	_, err := c.Do(ctx, "INCR", "k")
	var ne net.Error
	if !errors.Is(err, client.ErrUnknownOutcome) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("INCR timed out: err = %v; want ErrUnknownOutcome wrapping a timeout", err)
	}
}

// TestClient_ClusterDownThenRecovery: -CLUSTERDOWN backs off and retries
// until the cluster has a leader again.
func TestClient_ClusterDownThenRecovery(t *testing.T) {
	f := newFaulty(clienttest.NewStore(), func(name string, n int) action {
		if n <= 3 {
			return clusterDown
		}
		return pass
	})
	c := newClient(t, client.Options{}, startNode(t, f).Addr)
	if _, err := c.Do(testCtx(t), "INCR", "n"); err != nil {
		t.Fatalf("INCR during an election: %v", err)
	}
	if got := f.count("INCR"); got != 4 {
		t.Fatalf("INCR seen %d times; want 4 (3 CLUSTERDOWN, then served)", got)
	}
}

// TestClient_RetryError: when the context ends while no node can serve, the
// error says what was tried.
func TestClient_RetryError(t *testing.T) {
	down := startNode(t, clienttest.Follower(""))
	dead := deadAddr(t)
	c := newClient(t, client.Options{}, down.Addr, dead)
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, "INCR", "n")
	var re *client.RetryError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v; want *client.RetryError", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want it to match context.DeadlineExceeded", err)
	}
	if re.Cmd != "INCR" || re.Total < 2 || len(re.Attempts) == 0 {
		t.Fatalf("RetryError = %+v; want INCR with several attempts", re)
	}
	var sawDown, sawDead bool
	for _, a := range re.Attempts {
		var rd *resp.RedirectError
		sawDown = sawDown || a.Addr == down.Addr && errors.As(a.Err, &rd) && rd.Leader == ""
		sawDead = sawDead || a.Addr == dead
	}
	if !sawDown || !sawDead {
		t.Fatalf("attempts %v; want both the CLUSTERDOWN node and the dead one", re.Attempts)
	}
	if msg := err.Error(); !strings.Contains(msg, down.Addr) || !strings.Contains(msg, dead) {
		t.Fatalf("message %q should name the nodes tried", msg)
	}
}

// TestClient_MaxRetries bounds the retries without a context deadline.
func TestClient_MaxRetries(t *testing.T) {
	f := newFaulty(nil, func(string, int) action { return clusterDown })
	c := newClient(t, client.Options{MaxRetries: 2}, startNode(t, f).Addr)
	_, err := c.Do(testCtx(t), "GET", "k")
	var re *client.RetryError
	var rd *resp.RedirectError
	if !errors.As(err, &re) || re.Total != 3 || f.count("GET") != 3 || !errors.As(err, &rd) {
		t.Fatalf("err = %v (seen %d); want a RetryError after 3 CLUSTERDOWN attempts", err, f.count("GET"))
	}
}

// TestClient_SkipsDeadSeed: a refused seed is skipped for the next one.
func TestClient_SkipsDeadSeed(t *testing.T) {
	leader := startNode(t, clienttest.NewStore())
	c := newClient(t, client.Options{}, deadAddr(t), leader.Addr)
	if err := c.Set(testCtx(t), "k", "v"); err != nil {
		t.Fatalf("Set with a dead first seed: %v", err)
	}
}

// TestClient_ContextCancel: a call waiting for a reply returns when its
// context is cancelled; a write is then of unknown outcome.
func TestClient_ContextCancel(t *testing.T) {
	f := newFaulty(clienttest.NewStore(), func(string, int) action { return hang })
	c := newClient(t, client.Options{ReadTimeout: -1}, startNode(t, f).Addr)
	for i, tc := range []struct {
		cmd         string
		wantUnknown bool
	}{{"GET", false}, {"INCR", true}} {
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan error, 1)
		go func() {
			_, err := c.Do(ctx, tc.cmd, "k")
			done <- err
		}()
		testcluster.WaitFor(t, tc.cmd+" to reach the server", 5*time.Second, func() bool { return f.hanging() == i+1 })
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) || errors.Is(err, client.ErrUnknownOutcome) != tc.wantUnknown {
			t.Fatalf("%s cancelled: err = %v; want context.Canceled, unknown outcome %v", tc.cmd, err, tc.wantUnknown)
		}
	}
}

// TestClient_PoolSize: no more than PoolSize connections to a node.
func TestClient_PoolSize(t *testing.T) {
	f := newFaulty(clienttest.NewStore(), func(string, int) action { return hang })
	node := startNode(t, f)
	c := newClient(t, client.Options{PoolSize: 2, ReadTimeout: -1}, node.Addr)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { c.Do(ctx, "GET", "k") })
	}
	testcluster.WaitFor(t, "2 requests in flight", 5*time.Second, func() bool { return f.hanging() == 2 })
	if n := node.NumConns(); n != 2 {
		t.Fatalf("%d connections; want PoolSize 2", n)
	}
	close(f.release) // answer the hung ones; the next ones pass
	wg.Wait()
	if n := node.NumConns(); n > 2 {
		t.Fatalf("%d connections after the burst; want at most 2", n)
	}
}

// TestClient_Close: Close interrupts calls in flight, waits for them, is
// idempotent, and later calls fail with ErrClosed.
func TestClient_Close(t *testing.T) {
	f := newFaulty(clienttest.NewStore(), func(string, int) action { return hang })
	c := newClient(t, client.Options{ReadTimeout: -1}, startNode(t, f).Addr)
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), "GET", "k")
		done <- err
	}()
	testcluster.WaitFor(t, "GET to reach the server", 5*time.Second, func() bool { return f.hanging() == 1 })
	c.Close()
	if err := <-done; !errors.Is(err, client.ErrClosed) {
		t.Fatalf("GET interrupted by Close: err = %v; want ErrClosed", err)
	}
	c.Close()
	if _, err := c.Do(context.Background(), "PING"); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Do after Close: err = %v; want ErrClosed", err)
	}
}

// TestClient_RedirectLoop: two nodes naming each other cannot spin: after
// MaxRedirects the client pauses, and the context ends the call.
func TestClient_RedirectLoop(t *testing.T) {
	var bAddr string
	var mu sync.Mutex
	a := &counting{next: resp.HandlerFunc(func(*resp.Conn, []resp.Value) resp.Reply {
		mu.Lock()
		defer mu.Unlock()
		return resp.Now((&resp.RedirectError{Leader: bAddr}).Value())
	})}
	an := startNode(t, a)
	bn := startNode(t, clienttest.Follower(an.Addr))
	mu.Lock()
	bAddr = bn.Addr
	mu.Unlock()
	c := newClient(t, client.Options{MaxRetryBackoff: 10 * time.Millisecond}, an.Addr)
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, "GET", "k")
	var re *client.RetryError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &re) {
		t.Fatalf("err = %v; want a RetryError with the deadline", err)
	}
	var rd *resp.RedirectError
	if !errors.As(re.Attempts[0].Err, &rd) {
		t.Fatalf("first attempt %v; want a redirect", re.Attempts[0])
	}
	if n := a.count(); n > 200 {
		t.Fatalf("node a saw %d requests in 100ms: the redirect loop spins", n)
	}
}

// deadAddr returns an address that refuses connections.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
