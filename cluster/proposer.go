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
// write on each node and one replication round for many writes. After an
// entry commits, the next one lingers briefly for the writers just
// answered (linger), so that clients do not split into two groups that
// take turns.
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
	linger   linger // the next batch's wait for returning writers
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
	// maxLinger bounds a linger on a slow disk; it is otherwise as long
	// as the commit just observed.
	maxLinger = 10 * time.Millisecond
	// maxLingerSkip bounds how many batches in a row go without a linger
	// after lingers that no write joined.
	maxLingerSkip = 63
)

// linger is the next batch's wait, after an entry commits, for the writers
// that entry answered. With one entry in flight, the writes that arrive
// while it commits form the next entry, which would be sent the moment the
// first is applied: before the first entry's writers, answered at that
// moment, can send their next write. Clients that each keep one write (or
// one pipeline) outstanding would so split into two groups that take turns,
// each entry carrying half of them (two clients would never share an entry
// at all), and every command would cost twice the disk syncs it needs.
// Waiting for those writers lets one entry carry them all
// (docs/BENCHMARKS.md, "Lever: linger": redis-benchmark's 50 clients, SET
// P1 +45%).
//
// The wait ends when the batch holds as many writes as the answered entry
// and the queued writes together (everyone is back; a single sequential
// writer so never waits), when no write has arrived for half the last
// commit (the rest are not coming soon), or after one commit's time: it
// adapts to the disk, and at worst doubles a write's latency. A linger that
// no write joined (writers that do not come back: one write, then reads)
// makes the next 1, 3, 7, ... up to maxLingerSkip batches go without one.
type linger struct {
	target    int       // writes the batch waits for
	deadline  time.Time // the wait's end at the latest
	gap       time.Duration
	last      time.Time // the latest arrival, or the commit
	fruitless int       // lingers in a row that no write joined
	skip      int       // batches still to send without a linger
}

// left returns how much longer batch b may wait; 0 means send it now.
func (l *linger) left(b *proposal, now time.Time) time.Duration {
	if b.count >= l.target || !now.Before(l.deadline) {
		return 0
	}
	idle := l.last.Add(l.gap).Sub(now)
	if idle <= 0 {
		return 0
	}
	return min(idle, l.deadline.Sub(now))
}

// start sets the wait that follows an entry of answered writes, committed
// in commit, with queued writes already waiting for the next.
func (l *linger) start(answered, queued int, commit time.Duration, now time.Time) {
	l.last = now
	if l.skip > 0 {
		l.skip--
		l.deadline = now
		return
	}
	wait := min(commit, maxLinger)
	l.target = answered + queued
	l.deadline = now.Add(wait)
	l.gap = wait / 2
}

// joined records what a linger brought: n writes joined the batch while it
// waited.
func (l *linger) joined(n int) {
	if n > 0 {
		l.fruitless = 0
		return
	}
	l.fruitless++
	l.skip = min(1<<min(l.fruitless, 6)-1, maxLingerSkip)
}

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
	// When it began to linger and how many writes it held then; set and
	// read by run only.
	lingered   time.Time
	lingerFrom int
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
	p.linger.last = time.Now()
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

// run sends batches while fewer than maxInflight are in flight, each after
// its linger. It is one of the node's loops; complete is the other half.
func (p *proposer) run(ctx context.Context) {
	defer close(p.runDone)
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	defer wake.Stop()
	for {
		select {
		case <-ctx.Done():
			p.failQueued()
			return
		case <-p.kick:
		case <-wake.C:
		}
		for {
			p.mu.Lock()
			if len(p.queue) == 0 || p.inflight >= maxInflight {
				p.mu.Unlock()
				break
			}
			b := p.queue[0]
			now := time.Now()
			if len(p.queue) == 1 { // a full batch goes now
				if wait := p.linger.left(b, now); wait > 0 {
					if b.lingered.IsZero() {
						b.lingered, b.lingerFrom = now, b.count
					}
					p.mu.Unlock()
					wake.Reset(wait)
					break
				}
			}
			p.queue = p.queue[1:]
			p.inflight++
			if !b.lingered.IsZero() {
				p.linger.joined(b.count - b.lingerFrom)
			}
			p.mu.Unlock()
			wake.Stop()
			p.send(b, now)
		}
	}
}

// send proposes batch b, taken off the queue at now, to Raft.
func (p *proposer) send(b *proposal, now time.Time) {
	appendEntry := fsm.AppendPairsEntry
	if b.items {
		appendEntry = fsm.AppendBatchEntry
	}
	data := appendEntry(make([]byte, 0, len(b.body)+32), now.UnixMilli(), b.count, b.body)
	b.body = nil
	st := &p.n.cycle
	st.queueNanos.Add(uint64(now.Sub(b.started)))
	if !b.lingered.IsZero() {
		st.lingered.Add(1)
		st.lingerNanos.Add(uint64(now.Sub(b.lingered)))
		st.lingerJoined.Add(uint64(b.count - b.lingerFrom))
	}
	b.started = now
	st.inflight.Add(1)
	b.f = p.n.raft.Apply(data, p.n.cfg.ApplyTimeout)
	p.n.batches.Add(1)
	p.n.commands.Add(uint64(b.count))
	p.sent <- b // never blocks: at most maxInflight are in flight
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
			commit := p.resolve(b)
			p.mu.Lock()
			p.inflight--
			queued := 0
			for _, q := range p.queue {
				queued += q.count
			}
			p.linger.start(b.count, queued, commit, time.Now())
			p.mu.Unlock()
			select {
			case p.kick <- struct{}{}:
			default:
			}
		}
	}
}

// resolve waits for b's outcome, hands it to b's writers and returns how
// long b took to commit.
func (p *proposer) resolve(b *proposal) time.Duration {
	err := b.f.Error()
	commit := time.Since(b.started)
	p.n.cycle.commitNanos.Add(uint64(commit))
	p.n.cycle.inflight.Add(-1)
	if err != nil {
		b.err = err
	} else if replies, ok := b.f.Response().([]resp.Value); ok && len(replies) == b.count {
		b.replies = replies
	} else {
		b.err = errNoReply
	}
	close(b.done)
	return commit
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
