package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/resp"
)

// queueSetGet queues n pairs of SET p:i i / GET p:i (2n commands).
func queueSetGet(p *client.Pipeline, n int) {
	for i := range n {
		key := "p:" + strconv.Itoa(i)
		p.Do("SET", key, i)
		p.Do("GET", key)
	}
}

// checkSetGet checks the replies of queueSetGet, in order.
func checkSetGet(t *testing.T, vals []resp.Value, n int) {
	t.Helper()
	if len(vals) != 2*n {
		t.Fatalf("%d replies; want %d", len(vals), 2*n)
	}
	for i := range n {
		if set, get := vals[2*i], vals[2*i+1]; set.Int() != 1 || get.Kind() != resp.KindInt || get.Int() != int64(i) {
			t.Fatalf("replies #%d, #%d = %v, %v; want 1, %d", 2*i, 2*i+1, set, get, i)
		}
	}
}

// TestPipeline_OrderAcrossRedirect: 1,000 commands sent to a node that
// has become a follower (after the client's session was opened on it) are
// redirected as a batch and answered by the leader in order.
func TestPipeline_OrderAcrossRedirect(t *testing.T) {
	store := clienttest.NewStore()
	leaderH := &counting{next: store}
	leader := startNode(t, leaderH)
	follower := &counting{next: steppedDown(store, leader.Addr)}
	c := newClient(t, client.Options{}, startNode(t, follower).Addr)

	p := c.Pipeline()
	queueSetGet(p, 500)
	vals, err := p.Exec(testCtx(t))
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	checkSetGet(t, vals, 500)
	if follower.count() != 1000 || leaderH.count() != 1000 {
		t.Fatalf("follower saw %d, leader %d requests; want 1000 each", follower.count(), leaderH.count())
	}
	if p.Len() != 0 {
		t.Fatalf("Len after Exec = %d; want 0", p.Len())
	}
}

// TestPipeline_PartialRedirect: a node that steps down in the middle of a
// batch answers the first part and redirects the rest; the rest is resent
// to the new leader in order.
func TestPipeline_PartialRedirect(t *testing.T) {
	store := clienttest.NewStore()
	newLeaderH := &counting{next: store}
	newLeader := startNode(t, newLeaderH)
	var served atomic.Int64
	redirect := (&resp.RedirectError{Leader: newLeader.Addr}).Value()
	old := startNode(t, resp.HandlerFunc(func(c *resp.Conn, args []resp.Value) resp.Reply {
		switch {
		case strings.EqualFold(args[0].Text(), "KVORUM.SESSION"):
			return store.Serve(c, args) // opened while it led
		case strings.EqualFold(args[0].Text(), "READWRITE"):
			return resp.Now(resp.OK())
		case strings.EqualFold(args[0].Text(), "COMMAND"):
			return store.Serve(c, args)
		}
		if served.Add(1) > 300 {
			return resp.Now(redirect)
		}
		return store.Serve(c, args)
	}))
	c := newClient(t, client.Options{}, old.Addr)
	p := c.Pipeline()
	queueSetGet(p, 500)
	vals, err := p.Exec(testCtx(t))
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	checkSetGet(t, vals, 500)
	if newLeaderH.count() != 700 {
		t.Fatalf("new leader saw %d requests; want the 700 redirected", newLeaderH.count())
	}
	want := make([]string, 0, 700)
	for i := 150; i < 500; i++ {
		want = append(want, "p:"+strconv.Itoa(i), "p:"+strconv.Itoa(i))
	}
	if !slices.Equal(newLeaderH.keys, want) {
		t.Fatalf("the redirected part arrived out of order")
	}
}

// TestPipeline_UnknownOutcome: without sessions, the connection breaks in
// the middle of a batch: answered commands keep their replies, the cut-off
// INCR is of unknown outcome, and the GET after it is retried.
func TestPipeline_UnknownOutcome(t *testing.T) {
	store := clienttest.NewStore()
	f := newFaulty(store, func(name string, n int) action {
		if name == "INCR" {
			return cutAfter
		}
		return pass
	})
	c := newClient(t, client.Options{DisableSessions: true}, startNode(t, f).Addr)
	p := c.Pipeline()
	p.Do("SET", "a", "1")
	p.Do("INCR", "n")
	p.Do("GET", "a")
	vals, err := p.Exec(testCtx(t))
	var pe *client.PipelineError
	if !errors.As(err, &pe) || !errors.Is(err, client.ErrUnknownOutcome) {
		t.Fatalf("Exec err = %v; want a PipelineError with an unknown outcome", err)
	}
	if pe.Errs[0] != nil || !errors.Is(pe.Errs[1], client.ErrUnknownOutcome) || pe.Errs[2] != nil {
		t.Fatalf("per-command errors = %v; want [nil, unknown outcome, nil]", pe.Errs)
	}
	if vals[0].Int() != 1 || vals[2].Text() != "1" {
		t.Fatalf("replies = %v; want SET 1 and GET \"1\"", vals)
	}
	// The server closed the connection before reading the first GET, so
	// the one GET it saw is the client's resend on a new connection.
	if f.count("INCR") != 1 || f.count("GET") != 1 {
		t.Fatalf("INCR seen %d, GET %d times; want 1 each", f.count("INCR"), f.count("GET"))
	}
}

// TestPipeline_Errors: error replies and bad arguments fail only their own
// command.
func TestPipeline_Errors(t *testing.T) {
	c := newClient(t, client.Options{}, startNode(t, clienttest.NewStore()).Addr)
	p := c.Pipeline()
	p.Do("SET", "a", "x")
	p.Do("SET", "b", make(chan int))
	p.Do("INCR", "a")
	p.Do("GET", "a")
	vals, err := p.Exec(testCtx(t))
	var pe *client.PipelineError
	if !errors.As(err, &pe) || len(pe.Errs) != 4 {
		t.Fatalf("Exec err = %v; want a PipelineError for 4 commands", err)
	}
	var re *resp.ReplyError
	if pe.Errs[0] != nil || pe.Errs[1] == nil || !errors.As(pe.Errs[2], &re) || pe.Errs[3] != nil {
		t.Fatalf("per-command errors = %v; want [nil, argument error, reply error, nil]", pe.Errs)
	}
	if vals[3].Text() != "x" || !vals[2].IsError() {
		t.Fatalf("replies = %v", vals)
	}
}

// TestPipeline_ContextCancel: a cancelled context fails every command.
func TestPipeline_ContextCancel(t *testing.T) {
	c := newClient(t, client.Options{}, startNode(t, clienttest.NewStore()).Addr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := c.Pipeline()
	for i := range 10 {
		p.Do("GET", fmt.Sprint(i))
	}
	_, err := p.Exec(ctx)
	var pe *client.PipelineError
	if !errors.As(err, &pe) || !errors.Is(err, context.Canceled) || slices.Contains(pe.Errs, nil) {
		t.Fatalf("Exec with a cancelled context: %v; want every command failed with context.Canceled", err)
	}
}

// steppedDown is a node that led when the client's session was opened and
// has since become a follower of leader: session commands reach store (the
// session is replicated state), everything else is redirected.
func steppedDown(store *clienttest.Store, leader string) resp.Handler {
	follower := clienttest.Follower(leader)
	return resp.HandlerFunc(func(c *resp.Conn, args []resp.Value) resp.Reply {
		if strings.EqualFold(args[0].Text(), "KVORUM.SESSION") {
			return store.Serve(c, args)
		}
		return follower.Serve(c, args)
	})
}
