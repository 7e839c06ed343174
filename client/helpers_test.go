package client_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/resp"
)

// startNode serves h on 127.0.0.1:0 until the test ends.
func startNode(t testing.TB, h resp.Handler) *clienttest.Node {
	t.Helper()
	n, err := clienttest.Start(h)
	if err != nil {
		t.Fatalf("start fake node: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// newClient returns a client on addrs, closed when the test ends, logging
// through t. Short backoffs keep retry tests quick.
func newClient(t testing.TB, o client.Options, addrs ...string) *client.Client {
	t.Helper()
	o.Addrs = addrs
	if o.MinRetryBackoff == 0 {
		o.MinRetryBackoff = time.Millisecond
	}
	if o.MaxRetryBackoff == 0 {
		o.MaxRetryBackoff = 20 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := client.New(o)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testCtx is a context that ends with the test, at the latest in 10s.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// action is what a faulty handler does with one request.
type action int

const (
	pass        action = iota // serve it
	cutBefore                 // close the connection without serving or replying
	cutAfter                  // serve it, then close the connection without replying
	clusterDown               // answer -CLUSTERDOWN
	hang                      // never answer (until the node closes or release)
)

// faulty wraps a handler and applies script to each request; n counts the
// requests of that command name seen so far, from 1. A write wrapped in
// KVORUM.SEQ goes by its own name; KVORUM.SESSION requests are counted but
// always served.
type faulty struct {
	next    resp.Handler
	script  func(name string, n int) action
	release chan struct{} // closing it answers hung requests with an error

	mu     sync.Mutex
	counts map[string]int
	hung   int
}

func newFaulty(next resp.Handler, script func(name string, n int) action) *faulty {
	return &faulty{next: next, script: script, release: make(chan struct{}), counts: map[string]int{}}
}

// cutAfterNth is a script for newFaulty: it serves the nth request named
// name and then closes the connection without replying (cutAfter), and
// passes every other request.
func cutAfterNth(name string, nth int) func(string, int) action {
	return func(got string, n int) action {
		if got == name && n == nth {
			return cutAfter
		}
		return pass
	}
}

func (f *faulty) Serve(c *resp.Conn, args []resp.Value) resp.Reply {
	name := strings.ToUpper(unwrap(args)[0].Text())
	f.mu.Lock()
	f.counts[name]++
	n := f.counts[name]
	f.mu.Unlock()
	switch {
	case name == "READWRITE":
		return resp.Now(resp.OK())
	case name == "COMMAND":
		return resp.Now(clienttest.CommandInfo())
	case name == "KVORUM.SESSION":
		return f.next.Serve(c, args)
	}
	switch f.script(name, n) {
	case cutBefore:
		c.CloseAfterReply()
		return resp.NoReply()
	case cutAfter:
		f.next.Serve(c, args)
		c.CloseAfterReply()
		return resp.NoReply()
	case clusterDown:
		return resp.Now(resp.ErrNoLeader.Value())
	case hang:
		f.mu.Lock()
		f.hung++
		f.mu.Unlock()
		return resp.Later(waiter{c.Context(), f.release})
	}
	return f.next.Serve(c, args)
}

// count returns how many requests named name arrived.
func (f *faulty) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[name]
}

// hanging returns how many requests were left unanswered.
func (f *faulty) hanging() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hung
}

type waiter struct {
	ctx     context.Context
	release chan struct{}
}

func (w waiter) Wait() resp.Value {
	select {
	case <-w.ctx.Done():
	case <-w.release:
	}
	return resp.Err("ERR released")
}

// counting counts the requests a handler serves, but for KVORUM.SESSION
// ones (sessions counts those) and the READWRITE and COMMAND INFO of each
// new connection.
type counting struct {
	next     resp.Handler
	mu       sync.Mutex
	n        int
	sessions int
	keys     []string // second argument of each request (of the wrapped command), in arrival order
}

func (h *counting) Serve(c *resp.Conn, args []resp.Value) resp.Reply {
	inner := unwrap(args)
	h.mu.Lock()
	switch {
	case strings.EqualFold(inner[0].Text(), "KVORUM.SESSION"):
		h.sessions++
	case strings.EqualFold(inner[0].Text(), "READWRITE"), strings.EqualFold(inner[0].Text(), "COMMAND"):
	default:
		h.n++
		if len(inner) > 1 {
			h.keys = append(h.keys, inner[1].Text())
		}
	}
	h.mu.Unlock()
	return h.next.Serve(c, args)
}

func (h *counting) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// unwrap returns the command a KVORUM.SEQ request wraps, or args.
func unwrap(args []resp.Value) []resp.Value {
	if len(args) >= 5 && strings.EqualFold(args[0].Text(), "KVORUM.SEQ") {
		return args[4:]
	}
	return args
}

func (h *counting) sessionCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions
}
