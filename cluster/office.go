package cluster

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// office is this node's leadership, one tenure (Raft term) at a time, on Consul's
// establishLeadership/revokeLeadership pattern: everything that runs only
// on the leader starts in establish and stops in revoke, and "do I lead?"
// has one answer, current(). The front door's leader-only parts (blocked
// pops, subscribers) follow it through Node.Leading.
type office struct {
	n   *Node
	cur atomic.Pointer[tenure] // the term this node leads and is ready in; nil otherwise
}

// tenure is one term of leadership and what runs while it lasts: the
// proposer, the read gate, the reconcile loop and the expiry sweep.
type tenure struct {
	number  uint64
	barrier uint64        // index of the term's barrier: every entry up to it is applied
	lost    chan struct{} // closed by revoke
	// soleVoter: this leader is the only voter, so no other leader can
	// exist and reads need no quorum round. Set at establish and after
	// every reconcile pass (the only place voters are added).
	soleVoter atomic.Bool
	// items: every server in the configuration applies fsm.EntryItems, so
	// the proposer may write them (Node.configFlags). Set with soleVoter.
	items atomic.Bool
	// runs: every server also applies fsm.ItemWriter's run form.
	runs     atomic.Bool
	proposer *proposer
	reads    *readGate
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// current returns the tenure this node holds, or nil.
func (l *office) current() *tenure { return l.cur.Load() }

// run follows Raft's leadership notifications until ctx ends, then revokes.
func (l *office) run(ctx context.Context) {
	defer l.revoke()
	for {
		select {
		case <-ctx.Done():
			return
		case isLeader := <-l.n.leaderNote:
			l.revoke()
			if isLeader {
				l.establish(ctx)
			}
		}
	}
}

// establish applies a barrier, so that every entry of earlier terms is
// applied before this node serves a read, then starts the term's loops.
func (l *office) establish(ctx context.Context) {
	n := l.n
	number := n.raft.CurrentTerm()
	barrier := n.raft.Barrier(n.cfg.ApplyTimeout)
	if err := barrier.Error(); err != nil {
		n.log.Warn("leader barrier failed", "err", err)
		return
	}
	t := &tenure{number: number, lost: make(chan struct{})}
	if f, ok := barrier.(raft.IndexFuture); ok {
		t.barrier = f.Index()
	}
	t.setFlags(n)
	t.proposer = newProposer(n, &t.items, &t.runs)
	t.reads = newReadGate(n, t.number, t.barrier, &t.soleVoter)
	var tctx context.Context
	tctx, t.cancel = context.WithCancel(ctx)
	for _, loop := range []func(context.Context){t.proposer.run, t.proposer.complete, t.reads.run, n.reconcileLoop(t), t.expiryLoop(n)} {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			loop(tctx)
		}()
	}
	l.cur.Store(t)
	n.log.Info("leader ready", "term", number)
}

// setFlags records the tenure's view of the configuration: whether this
// node is the only voter and whether every server applies fsm.EntryItems
// (Node.configFlags). A leader writes the older batch form while any
// server does not say it applies EntryItems (a rolling upgrade from a
// version without them, a server gossip has not described yet): a node
// that met an entry kind it does not know would skip it, and its state
// would part from the others'.
func (t *tenure) setFlags(n *Node) {
	voters, items, runs := n.configFlags()
	t.soleVoter.Store(voters == 1)
	t.items.Store(items)
	t.runs.Store(runs)
}

// revoke ends the current term, if any: the front door's waits see Leading
// close, then the term's loops stop; writes queued but never sent fail with
// a redirect, and reads waiting for confirmation fail the same way.
func (l *office) revoke() {
	t := l.cur.Swap(nil)
	if t == nil {
		return
	}
	close(t.lost)
	t.cancel()
	t.wg.Wait()
}
