package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/resp"
)

// readGate makes leader reads linearizable at the cost of one leadership
// confirmation per batch of concurrent reads (ReadIndex style): the gate
// records the commit index, confirms with a quorum that this node is still
// leader (VerifyLeader), and every read of the batch then waits until the
// FSM has applied that index and runs against local state. Reads that
// arrive while a confirmation is in flight join the next batch. A gate
// lives as long as its term. One round at a time measured as well as two
// in flight or rounds spaced out to gather more reads (docs/BENCHMARKS.md,
// "Reads"): on this kind of machine a read is bound by CPU, not by the
// round.
type readGate struct {
	n *Node
	// The term's number, barrier index and sole-voter flag (term).
	number    uint64
	barrier   uint64
	soleVoter *atomic.Bool

	mu      sync.Mutex
	next    *readBatch
	stopped bool
	kick    chan struct{}
	// confirmed is a closed channel: the done of batches that need no round.
	confirmed chan struct{}
}

type readBatch struct {
	done    chan struct{}
	expired chan struct{} // closed when the batch's reads time out (Config.ReadTimeout after it formed)
	timer   *time.Timer   // closes expired; stopped once the batch is confirmed
	index   uint64        // commit index recorded before leadership was confirmed
	err     error
	reads   int // reads that joined it (under readGate.mu), for the accounting
}

func newReadGate(n *Node, term, barrier uint64, soleVoter *atomic.Bool) *readGate {
	g := &readGate{n: n, number: term, barrier: barrier, soleVoter: soleVoter, kick: make(chan struct{}, 1), confirmed: make(chan struct{})}
	close(g.confirmed)
	return g
}

// join returns the batch that the next confirmation round will serve.
func (g *readGate) join() *readBatch {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return &readBatch{done: g.confirmed, err: errNotSent}
	}
	b := g.next
	if b == nil {
		expired := make(chan struct{})
		b = &readBatch{done: make(chan struct{}), expired: expired,
			timer: time.AfterFunc(g.n.cfg.ReadTimeout, func() { close(expired) })}
		g.next = b
	}
	b.reads++
	g.mu.Unlock()
	select {
	case g.kick <- struct{}{}:
	default:
	}
	return b
}

// take hands the waiting batch to the caller; with stop, no batch forms again.
func (g *readGate) take(stop bool) *readBatch {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = g.stopped || stop
	b := g.next
	g.next = nil
	return b
}

// run is the gate's loop, one confirmation round at a time.
func (g *readGate) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			if b := g.take(true); b != nil {
				b.err = errNotSent
				close(b.done)
				b.timer.Stop()
			}
			return
		case <-g.kick:
		}
		b := g.take(false)
		if b == nil {
			continue
		}
		r := g.n.raft
		start := time.Now()
		st := &g.n.reads
		st.inflight.Add(1)
		b.index = r.CommitIndex()
		if !g.soleVoter.Load() {
			b.err = r.VerifyLeader().Error()
		}
		if b.err == nil && r.CurrentTerm() != g.number {
			b.err = raft.ErrLeadershipLost
		}
		close(b.done)
		b.timer.Stop()
		st.inflight.Add(-1)
		st.rounds.Add(1)
		if b.err == nil {
			st.reads.Add(uint64(b.reads))
		}
		st.roundNanos.Add(uint64(time.Since(start)))
	}
}

// read returns the wait of one linearizable read (door.ReadIndex). A sole
// voter's batch is confirmed already: no other node can lead, so the commit
// index alone orders the read.
func (g *readGate) read() door.ReadIndex {
	r := g.n.raft
	if g.soleVoter.Load() && r.State() == raft.Leader && r.CurrentTerm() == g.number {
		return &readWait{g: g, b: &readBatch{done: g.confirmed, index: r.CommitIndex()}}
	}
	return &readWait{g: g, b: g.join()}
}

type readWait struct {
	g *readGate
	b *readBatch
}

// Wait returns once the batch is confirmed and its index applied. The
// common case needs no timer of its own: the batch is confirmed (a sole
// voter's always is) and its index applied by the time it is. A batch's
// reads share one deadline, Config.ReadTimeout after it formed (expired),
// rather than a timer each; only a read whose index is not yet applied
// when its batch is confirmed starts one. ctx is the client's connection:
// a read of a client that left gives up.
func (w *readWait) Wait(ctx context.Context) error {
	n, b := w.g.n, w.b
	select {
	case <-b.done:
	case <-b.expired: // nil for a batch confirmed from the start
	case <-ctx.Done():
	}
	select {
	case <-b.done: // confirmed, whatever else fired with it
	default:
		return resp.TryAgain("read timed out waiting for leadership confirmation")
	}
	if b.err != nil {
		return n.NotLeading()
	}
	// At or below the term's barrier the index was applied when the barrier
	// completed (the FSM never sees no-ops and barriers).
	if b.index <= n.fsm.Applied() || b.index <= w.g.barrier {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
	defer cancel()
	if err := n.fsm.WaitApplied(ctx, b.index); err != nil {
		return resp.TryAgain("read timed out waiting for the log to apply")
	}
	return nil
}

// failedRead is the read wait of a node that does not lead.
type failedRead struct{ err error }

func (f failedRead) Wait(context.Context) error { return f.err }
