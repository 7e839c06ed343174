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
// entry commits, the next one may linger briefly for the clients just
// answered (linger), so that they do not split into two groups that take
// turns.
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
	linger   linger // the next batch's wait for the clients just answered
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
	// minReturnShare is the share of an entry's clients that must, on
	// average, send their next writes before the following commit for the
	// proposer to linger for them.
	minReturnShare = 0.75
	// returnWeight is the weight of the latest commit in that average.
	returnWeight = 0.25
)

// linger is the next batch's wait, after an entry commits, for the clients
// that entry answered. With one entry in flight, the writes that arrive
// while it commits form the next entry, which would be sent the moment the
// first is applied: before the first entry's clients, answered at that
// moment, can send their next write. Clients that each keep one write (or
// one pipeline) outstanding would so split into two groups that take turns,
// each entry carrying half of them (two clients would never share an entry
// at all), and every command would cost twice the disk syncs it needs.
// Waiting for those clients lets one entry carry them all
// (docs/BENCHMARKS.md, "Lever: linger": redis-benchmark's 50 clients, SET
// P1 +45%).
//
// Waiting only pays when the answered clients do come back at once. Writes
// from elsewhere (clients that think between writes, or many independent
// ones) arrive as they would without the wait, which would only add to
// their latency. So the proposer knows each write's client (its
// connection), scores at each commit the share of the last entry's clients
// whose writes all came again before it, and lingers only while that share
// averages minReturnShare or more. A linger ends when every answered
// client's writes are back (so a lone sequential client never waits), when
// none of them has sent anything for half the last commit, or after one
// commit's time: it adapts to the disk, and at worst doubles a write's
// latency.
type linger struct {
	owed     map[uint64]int // answered clients not back yet: writes still to come
	clients  int            // distinct clients in the answered entry
	back     int            // of those, the ones whose writes all came again
	share    float64        // moving average of back/clients at each commit
	on       bool           // the next batch lingers
	deadline time.Time      // the wait's end at the latest
	gap      time.Duration
	last     time.Time // the latest arrival from an answered client, or the commit
}

// arrive records a write from client; now is read only for a client the
// linger waits for, so other writes cost a map lookup.
func (l *linger) arrive(client uint64, now func() time.Time) {
	n, ok := l.owed[client]
	if !ok {
		return
	}
	l.last = now()
	if n > 1 {
		l.owed[client] = n - 1
		return
	}
	delete(l.owed, client)
	l.back++
}

// left returns how much longer the next batch may wait; 0 means send it.
func (l *linger) left(now time.Time) time.Duration {
	if !l.on || l.back >= l.clients || !now.Before(l.deadline) {
		return 0
	}
	idle := l.last.Add(l.gap).Sub(now)
	if idle <= 0 {
		return 0
	}
	return min(idle, l.deadline.Sub(now))
}

// start scores the clients that came back since the last commit, then sets
// the wait that follows an entry, committed in commit, whose writes came
// from clients (runs of writes per client; client 0 is kvorum's own).
func (l *linger) start(clients []clientRun, commit time.Duration, now time.Time) {
	if l.clients > 0 {
		l.share += (float64(l.back)/float64(l.clients) - l.share) * returnWeight
	}
	if l.owed == nil {
		l.owed = make(map[uint64]int)
	}
	clear(l.owed)
	for _, r := range clients {
		if r.client != 0 {
			l.owed[r.client] += r.writes
		}
	}
	l.clients, l.back = len(l.owed), 0
	wait := min(commit, maxLinger)
	l.on = l.clients > 0 && l.share >= minReturnShare
	l.deadline, l.gap, l.last = now.Add(wait), wait/2, now
}

// clientRun is a run of consecutive writes from one client in a batch.
type clientRun struct {
	client uint64
	writes int
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
	started time.Time   // its first write, then when it was sent (cycleStats)
	clients []clientRun // who sent its writes, for the linger after it commits
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
func (p *proposer) propose(client uint64, mode resp.Mode, args []resp.Value) *batchedWrite {
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
	p.linger.arrive(client, time.Now)
	if n := len(b.clients); n > 0 && b.clients[n-1].client == client {
		b.clients[n-1].writes++
	} else {
		b.clients = append(b.clients, clientRun{client, 1})
	}
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
				if wait := p.linger.left(now); wait > 0 {
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
			p.linger.on = false // the next linger follows the next commit
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
			p.linger.start(b.clients, commit, time.Now())
			p.n.cycle.returnShare.Store(uint64(p.linger.share * 1000))
			b.clients = nil
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
