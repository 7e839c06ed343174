package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// readGate makes leader reads linearizable at the cost of one leadership
// confirmation per batch of concurrent reads (ReadIndex style): the gate
// records the commit index, confirms with a quorum that this node is still
// leader (VerifyLeader), and every read of the batch then waits until the
// FSM has applied that index and runs against local state. Reads that
// arrive while a confirmation is in flight join the next batch.
type readGate struct {
	n    *Node
	mu   sync.Mutex
	next *readBatch
	kick chan struct{}
	// confirmed is a closed channel: the done of batches that need no round.
	confirmed chan struct{}
}

type readBatch struct {
	done  chan struct{}
	index uint64 // commit index recorded before leadership was confirmed
	err   error
}

func newReadGate(n *Node) *readGate {
	g := &readGate{n: n, kick: make(chan struct{}, 1), confirmed: make(chan struct{})}
	close(g.confirmed)
	return g
}

// join returns the batch that the next confirmation round will serve.
func (g *readGate) join() *readBatch {
	g.mu.Lock()
	b := g.next
	if b == nil {
		b = &readBatch{done: make(chan struct{})}
		g.next = b
	}
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
	return b
}

var errNotReady = errors.New("leader has not applied its term's barrier")

// run is the gate's loop, one confirmation round at a time.
func (g *readGate) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			g.mu.Lock()
			b := g.next
			g.next = nil
			g.mu.Unlock()
			if b != nil {
				b.err = raft.ErrRaftShutdown
				close(b.done)
			}
			return
		case <-g.kick:
		}
		g.mu.Lock()
		b := g.next
		g.next = nil
		g.mu.Unlock()
		if b == nil {
			continue
		}
		r := g.n.raft
		term := r.CurrentTerm()
		switch {
		case r.State() != raft.Leader:
			b.err = raft.ErrNotLeader
		case g.n.readyTerm.Load() != term:
			b.err = errNotReady
		default:
			b.index = r.CommitIndex()
			if !g.n.soleVoter.Load() {
				b.err = r.VerifyLeader().Error()
			}
			if b.err == nil && r.CurrentTerm() != term {
				b.err = raft.ErrLeadershipLost
			}
		}
		close(b.done)
	}
}

// read returns the future of one linearizable read.
func (g *readGate) read(c *resp.Conn, cmd *fsm.Command, args []resp.Value) resp.Future {
	b := g.soleVoterBatch()
	if b == nil {
		b = g.join()
	}
	return &readFuture{g: g, b: b, c: c, cmd: cmd, args: args, mode: c.Mode()}
}

// soleVoterBatch returns an already-confirmed batch when this node is a
// ready leader and the only voter: no other node can lead, so the commit
// index alone orders the read. Otherwise nil.
func (g *readGate) soleVoterBatch() *readBatch {
	n := g.n
	if !n.soleVoter.Load() || !n.Ready() {
		return nil
	}
	return &readBatch{done: g.confirmed, index: n.raft.CommitIndex()}
}

type readFuture struct {
	g    *readGate
	b    *readBatch
	c    *resp.Conn
	cmd  *fsm.Command
	args []resp.Value
	mode resp.Mode
}

// Wait runs the read once its batch is confirmed and applied. It runs on
// the connection's goroutine in request order, so a read after a write in
// the same pipeline sees that write.
func (f *readFuture) Wait() resp.Value {
	n := f.g.n
	sessionOf(f.c).reads--
	// The common case needs no timer: the batch is confirmed (a sole
	// voter's always is) and its index applied.
	select {
	case <-f.b.done:
		if f.b.err == nil && (f.b.index <= n.fsm.Applied() || f.b.index <= n.barrierIndex.Load()) {
			return n.fsm.Read(f.cmd, f.args, time.Now().UnixMilli(), f.mode)
		}
	default:
	}
	ctx, cancel := context.WithTimeout(f.c.Context(), n.cfg.ReadTimeout)
	defer cancel()
	select {
	case <-f.b.done:
	case <-ctx.Done():
		return resp.Err(resp.CodeTryAgain + " read timed out waiting for leadership confirmation")
	}
	switch {
	case f.b.err == nil:
	case errors.Is(f.b.err, errNotReady):
		// A new leader that has not applied its barrier yet: ask again shortly.
		return resp.Err(resp.CodeTryAgain + " new leader is catching up; retry")
	default:
		return n.redirect().Value()
	}
	index := f.b.index
	if index <= n.barrierIndex.Load() {
		index = 0 // applied when the barrier completed (the FSM never sees no-ops and barriers)
	}
	if err := n.fsm.WaitApplied(ctx, index); err != nil {
		return resp.Err(resp.CodeTryAgain + " read timed out waiting for the log to apply")
	}
	return n.fsm.Read(f.cmd, f.args, time.Now().UnixMilli(), f.mode)
}
