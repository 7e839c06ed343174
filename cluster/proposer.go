package cluster

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// proposer batches writes from every connection into Raft log entries.
//
// hashicorp/raft groups Apply calls that are queued at the same instant,
// but with single-command clients each arriving write would be dispatched
// almost alone: one leader fsync, and one follower round, per write. The
// proposer instead keeps at most maxInflight entries in flight and gathers
// everything that arrives meanwhile into the next entry (fsm.EntryItems),
// so the batch size adapts to the commit latency: one log entry, one disk
// write on each node and one replication round for many writes.
type proposer struct {
	n *Node
	// items says whether the batches may be fsm.EntryItems (the tenure's
	// flag, Node.configFlags); otherwise they are the older fsm.EntryBatch.
	items *atomic.Bool
	// runs says whether they may hold the run form of session writes.
	runs *atomic.Bool

	mu       sync.Mutex
	stopped  bool        // the term ended: propose fails at once
	queue    []*proposal // batches waiting to be sent, oldest first
	inflight int
	kick     chan struct{}
	sent     chan *proposal // in flight, in log order, for the completer
	runDone  chan struct{}  // closed when run returns: nothing more is sent
}

const (
	// maxInflight 1 measured best here (docs/BENCHMARKS.md): while one
	// entry commits, every write that arrives joins the next.
	maxInflight   = 1
	maxBatchItems = 1024
	maxBatchBytes = 1 << 20
)

// proposal is one batch entry being built, then in flight.
type proposal struct {
	items   bool           // EntryItems, else EntryBatch: fixed when the batch starts
	w       fsm.ItemWriter // writes an EntryItems body; its Runs is fixed then too
	body    []byte
	count   int
	done    chan struct{}
	replies []resp.Value // set before done closes
	err     error        // set before done closes
	f       raft.ApplyFuture
	started time.Time // its first write, then when it was sent (cycleStats)
}

func newProposer(n *Node, items, runs *atomic.Bool) *proposer {
	return &proposer{n: n, items: items, runs: runs, kick: make(chan struct{}, 1), sent: make(chan *proposal, maxInflight), runDone: make(chan struct{})}
}

// propose adds a write to the batch being built and returns its future.
// Writes proposed in order (one connection's pipeline) are applied in order.
func (p *proposer) propose(mode resp.Mode, args []resp.Value) *batchedWrite {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return &batchedWrite{n: p.n, b: &proposal{err: errNotSent}}
	}
	var b *proposal
	if len(p.queue) > 0 {
		b = p.queue[len(p.queue)-1]
	}
	if b == nil || b.count >= maxBatchItems || len(b.body) >= maxBatchBytes {
		b = &proposal{items: p.items.Load(), w: fsm.ItemWriter{Runs: p.runs.Load()}, done: make(chan struct{}), started: time.Now()}
		p.queue = append(p.queue, b)
	}
	i := b.count
	if b.items {
		b.body = b.w.Append(b.body, mode, args)
	} else {
		b.body = fsm.AppendPairsItem(b.body, mode, args)
	}
	b.count++
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return &batchedWrite{n: p.n, b: b, i: i}
}

// run sends batches while fewer than maxInflight are in flight. It is one
// of the node's loops; complete is the other half.
func (p *proposer) run(ctx context.Context) {
	defer close(p.runDone)
	for {
		select {
		case <-ctx.Done():
			p.failQueued()
			return
		case <-p.kick:
		}
		for {
			p.mu.Lock()
			if len(p.queue) == 0 || p.inflight >= maxInflight {
				p.mu.Unlock()
				break
			}
			b := p.queue[0]
			p.queue = p.queue[1:]
			p.inflight++
			p.mu.Unlock()
			appendEntry := fsm.AppendPairsEntry
			if b.items {
				appendEntry = fsm.AppendBatchEntry
			}
			data := appendEntry(make([]byte, 0, len(b.body)+32), time.Now().UnixMilli(), b.count, b.body)
			b.body = nil
			now := time.Now()
			p.n.cycle.queueNanos.Add(uint64(now.Sub(b.started)))
			b.started = now
			p.n.cycle.inflight.Add(1)
			b.f = p.n.raft.Apply(data, p.n.cfg.ApplyTimeout)
			p.n.batches.Add(1)
			p.n.commands.Add(uint64(b.count))
			p.sent <- b // never blocks: at most maxInflight are in flight
		}
	}
}

// complete resolves in-flight batches in log order and lets run send more.
func (p *proposer) complete(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			// Once run has stopped sending, resolve what is still in
			// flight: a batch it sent after this loop saw ctx end must not
			// be left with writers waiting on it forever.
			<-p.runDone
			for {
				select {
				case b := <-p.sent:
					p.resolve(b)
				default:
					return
				}
			}
		case b := <-p.sent:
			p.resolve(b)
			p.mu.Lock()
			p.inflight--
			p.mu.Unlock()
			select {
			case p.kick <- struct{}{}:
			default:
			}
		}
	}
}

func (p *proposer) resolve(b *proposal) {
	err := b.f.Error()
	p.n.cycle.commitNanos.Add(uint64(time.Since(b.started)))
	p.n.cycle.inflight.Add(-1)
	if err != nil {
		b.err = err
	} else if replies, ok := b.f.Response().([]resp.Value); ok && len(replies) == b.count {
		b.replies = replies
	} else {
		b.err = errNoReply
	}
	close(b.done)
}

var errNoReply = errors.New("state machine returned no reply for the write")

// failQueued stops the proposer and fails the batches never sent.
func (p *proposer) failQueued() {
	p.mu.Lock()
	p.stopped = true
	q := p.queue
	p.queue = nil
	p.mu.Unlock()
	for _, b := range q {
		b.err = errNotSent
		close(b.done)
	}
}

// batchedWrite is one write's share of a batch: the i-th reply.
type batchedWrite struct {
	n *Node
	b *proposal
	i int
}

// Wait returns the write's reply and its entry's index once the entry is
// applied (door.Proposal), or an error that tells the client whether a
// retry is safe (writeError).
func (w *batchedWrite) Wait() (resp.Value, uint64, error) {
	if w.b.done != nil {
		<-w.b.done
	}
	if w.b.err != nil {
		return resp.Value{}, 0, w.n.writeError(w.b.err)
	}
	return w.b.replies[w.i], w.b.f.Index(), nil
}
