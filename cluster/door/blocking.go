package door

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX,
// BLMPOP, BZMPOP) wait on the leader. Each attempt is an ordinary write
// through the log that pops if it can and otherwise changes nothing
// (fsm/blocking.go); between attempts the request waits until an applied
// push touches one of its keys (fsm.Config.OnPush), its timeout passes,
// the client goes away, or this node stops leading, which ends the wait
// with a redirect so the client retries on the new leader: a wait is never
// silently lost. Only the first look answers WRONGTYPE for a key of
// another kind; a blocked request keeps waiting on it, as in Redis
// (blockingPop.attempt).
//
// A write that wakes waiters answers only once their attempts are applied
// (a wake), so its client never sees the state in between: after an RPUSH
// that feeds a chain of BLMOVEs, an LRANGE sees where the element ended up,
// as in Redis, where the woken pops run inside the push.

// waiters maps keys to the blocked requests waiting on them.
//
// The requests one wake wakes make their attempts one after another, in
// the order they blocked (waiter.seq): as in Redis, where the clients
// blocked on a key are served first come, first served, the first to block
// gets the first items. Each proposes its attempt (or finds nothing to
// take) only once the one before it has proposed (waiter.after, .turn), so
// their attempts reach the log in that order.
type waiters struct {
	mu      sync.Mutex
	seq     atomic.Uint64 // the last blocking request's turn number
	byKey   map[string]map[*waiter]struct{}
	wakes   []*wake       // the newest wakes, oldest first
	newest  atomic.Uint64 // the last index of the newest wake: claim's lock-free look
	blocked atomic.Int64  // requests waiting now (INFO blocked_clients)
	// unblocks are the blocked requests CLIENT UNBLOCK can end, by their
	// connection's id (under mu): each reads its channel while it waits.
	unblocks map[uint64]chan resp.Value
}

type waiter struct {
	keys []string
	seq  uint64        // when its request blocked
	ch   chan struct{} // closed when a push touches a key
	woke *wake         // the wake that closed ch (under waiters.mu)
	// after is closed when the waiter the same wake woke before this one
	// has had its turn (nil: none); turn is closed when this one has. Both
	// are set by notify, before ch is closed.
	after  <-chan struct{}
	turn   chan struct{}
	passed sync.Once
}

// awaitTurn waits until the waiter woken before w has had its turn, at
// most limit, or until the client is gone. A nil w has no turn to wait for.
func (w *waiter) awaitTurn(limit time.Duration, gone <-chan struct{}) {
	if w == nil || w.after == nil {
		return
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-w.after:
	case <-gone:
	case <-t.C:
	}
}

// pass ends w's turn (once; nil, or never woken: nothing to do). It is
// called after w's request has proposed its attempt or looked and found
// nothing, and after w was removed, so notify no longer touches w.turn.
func (w *waiter) pass() {
	if w != nil && w.turn != nil {
		w.passed.Do(func() { close(w.turn) })
	}
}

// wake is what the entries first..last woke: their writers answer once
// each woken waiter has made its attempt (or given up).
type wake struct {
	first, last uint64
	pending     atomic.Int64
	done        chan struct{}
}

// finish is called once by each waiter the wake woke.
func (wk *wake) finish() {
	if wk != nil && wk.pending.Add(-1) == 0 {
		close(wk.done)
	}
}

// wait waits for the woken attempts, at most limit: an attempt that cannot
// commit in time must not hold the writer's reply for longer.
func (wk *wake) wait(limit time.Duration) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-wk.done:
	case <-t.C:
	}
}

// maxWakes bounds the wakes kept for their writers to claim.
const maxWakes = 64

func newWaiters() *waiters {
	return &waiters{byKey: make(map[string]map[*waiter]struct{}), unblocks: make(map[uint64]chan resp.Value)}
}

// listen makes connection id's blocked request one that CLIENT UNBLOCK
// can end; the returned function forgets it.
func (ws *waiters) listen(id uint64) (<-chan resp.Value, func()) {
	ch := make(chan resp.Value, 1)
	ws.mu.Lock()
	ws.unblocks[id] = ch
	ws.mu.Unlock()
	return ch, func() {
		ws.mu.Lock()
		if ws.unblocks[id] == ch {
			delete(ws.unblocks, id)
		}
		ws.mu.Unlock()
	}
}

// unblock hands connection id's blocked request the reply v to end with,
// and reports whether it was blocked. A request in the middle of an
// attempt takes it when it next waits, unless the attempt pops.
func (ws *waiters) unblock(id uint64, v resp.Value) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ch, ok := ws.unblocks[id]
	if !ok {
		return false
	}
	select {
	case ch <- v:
	default: // already asked
	}
	return true
}

func (ws *waiters) register(keys []string, seq uint64) *waiter {
	w := &waiter{keys: keys, seq: seq, ch: make(chan struct{})}
	ws.mu.Lock()
	for _, k := range keys {
		set := ws.byKey[k]
		if set == nil {
			set = make(map[*waiter]struct{})
			ws.byKey[k] = set
		}
		set[w] = struct{}{}
	}
	ws.mu.Unlock()
	return w
}

// remove unregisters w and returns the wake that woke it, if any: the
// caller owes it a finish once its attempt is done.
func (ws *waiters) remove(w *waiter) *wake {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, k := range w.keys {
		if set := ws.byKey[k]; set != nil {
			delete(set, w)
			if len(set) == 0 {
				delete(ws.byKey, k)
			}
		}
	}
	return w.woke
}

// notify wakes every waiter on keys, pushed to by the entries first..last.
// It runs on the FSM goroutine and never blocks.
func (ws *waiters) notify(first, last uint64, keys []string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var wk *wake
	var woken []*waiter
	for _, k := range keys {
		for w := range ws.byKey[k] {
			if w.woke != nil {
				continue
			}
			if wk == nil {
				wk = &wake{first: first, last: last, done: make(chan struct{})}
			}
			wk.pending.Add(1)
			w.woke = wk
			woken = append(woken, w)
		}
	}
	// First come, first served: each takes its turn after the one before.
	slices.SortFunc(woken, func(a, b *waiter) int { return cmp.Compare(a.seq, b.seq) })
	for i, w := range woken {
		w.turn = make(chan struct{})
		if i > 0 {
			w.after = woken[i-1].turn
		}
	}
	for _, w := range woken {
		close(w.ch)
	}
	if wk != nil {
		if len(ws.wakes) == maxWakes {
			ws.wakes = ws.wakes[1:]
		}
		ws.wakes = append(ws.wakes, wk)
		ws.newest.Store(last)
	}
}

// claim returns the wake of the entry at index, if it woke anyone. Every
// write of the entry claims the same wake, whenever its connection gets to
// wait for it; the newest maxWakes wakes are kept for that.
func (ws *waiters) claim(index uint64) *wake {
	if index > ws.newest.Load() {
		return nil // the common case: the entry woke nobody (notify ran before its writers wait)
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for i := len(ws.wakes) - 1; i >= 0; i-- {
		if wk := ws.wakes[i]; wk.first <= index && index <= wk.last {
			return wk
		} else if wk.last < index {
			return nil
		}
	}
	return nil
}

// blockingPop is the future of one blocking command.
type blockingPop struct {
	d       *Door
	c       *resp.Conn
	cmd     *fsm.Command
	args    []resp.Value // the command
	request []resp.Value // what each attempt proposes: args, or args in a session's KVORUM.SEQ
	keys    []resp.Value
	timeout time.Duration // 0: forever
}

// block starts a blocking command, or answers at once for a timeout that
// Redis refuses (negative, not a number) before it would block.
//
// request is what each attempt proposes: args itself, or args wrapped in a
// session's KVORUM.SEQ (sessions.go).
func (d *Door) block(c *resp.Conn, cmd *fsm.Command, args, request []resp.Value) resp.Reply {
	ms, errv, ok := cmd.BlockArgs(args)
	if !ok {
		return resp.Now(errv)
	}
	sessionOf(c).reads++ // answered at its turn, like a read (door.go)
	return resp.Blocked(&blockingPop{d: d, c: c, cmd: cmd, args: args, request: request, keys: cmd.SourceKeys(args),
		timeout: time.Duration(ms) * time.Millisecond})
}

var errConnClosed = resp.TryAgain("connection closed").Value()

// Wait blocks until an attempt pops something (or answers an error), the
// timeout passes, leadership is lost, or the client goes away. The server
// watches the socket meanwhile (resp.Blocked), so a client that disconnects
// ends the wait at once: it is unregistered, is never woken again and never
// proposes another attempt. If it leaves while its attempt is in the log,
// what the attempt took is given back (giveBack).
func (b *blockingPop) Wait() resp.Value {
	d := b.d
	s := sessionOf(b.c)
	s.reads--
	lost := d.lead(b.c, s)
	if lost == nil {
		return d.notLeading()
	}
	var expired <-chan time.Time
	if b.timeout > 0 {
		t := time.NewTimer(b.timeout)
		defer t.Stop()
		expired = t.C
	}
	keys := make([]string, len(b.keys))
	for i, k := range b.keys {
		keys[i] = k.Text()
	}
	gone := b.c.Gone()
	// INFO's blocked_clients counts the request from its first look that
	// found nothing, as Redis counts a client once it has blocked: a
	// client that sees the count may rely on this request having looked,
	// so it is served in the order it blocked (a request still on its way
	// to its first look would take what is there ahead of the others).
	counted := false
	defer func() {
		if counted {
			d.waiters.blocked.Add(-1)
		}
	}()
	unblocked, forget := d.waiters.listen(b.c.ID())
	defer forget()
	var owed *wake   // the wake that woke us last, finished after our attempt
	var turn *waiter // the waiter that wake woke: our attempt takes its turn
	resend := len(b.request) != len(b.args)
	blocked := false // the first look is over: a key of another kind no longer answers
	seq := d.waiters.seq.Add(1)
	defer func() { owed.finish(); turn.pass() }()
	for {
		// Register before looking, so a push applied in between still wakes us.
		w := d.waiters.register(keys, seq)
		turn.awaitTurn(d.cfg.WakeTimeout, gone)
		if request, ok := b.attempt(resend, blocked, gone); ok {
			resend, blocked = false, true
			// Unregistered while the attempt is in the log, so that its own
			// push (BLMOVE q q) cannot wake it and make it wait for itself.
			again := d.waiters.remove(w) // woken since we looked: this attempt serves that wake too
			f := d.propose(b.c, request)
			turn.pass() // proposed: the next waiter's attempt goes after ours
			w.pass()
			turn = nil
			v := f.Wait()
			owed.finish()
			again.finish()
			owed = nil
			if !v.IsNull() {
				if closed(gone) && v.Kind() != resp.KindError {
					// In a session the item waits in the session's cached
					// reply for the client's resend; otherwise nobody will
					// ever ask for it.
					if len(b.request) == len(b.args) {
						b.giveBack(v)
					}
					return errConnClosed
				}
				return v // popped, or an error
			}
			continue // another client popped first: look again
		}
		owed.finish()
		owed = nil
		turn.pass()
		turn = nil
		blocked = true
		if !counted {
			d.waiters.blocked.Add(1)
			counted = true
		}
		var v resp.Value
		select {
		case <-w.ch:
			owed = d.waiters.remove(w)
			turn = w
			continue
		case <-expired:
			v = b.cmd.TimeoutReply
		case v = <-unblocked:
			if !v.IsError() {
				v = b.cmd.TimeoutReply
			}
		case <-lost:
			v = d.notLeading()
			if s.tenure == lost {
				// A plain client is closed with the leadership (tenure.go),
				// not answered a redirect it cannot follow: close it now,
				// so that the redirect is never written ahead of the close.
				b.c.Close()
			}
		case <-gone:
			v = errConnClosed
		}
		owed = d.waiters.remove(w)
		w.pass() // woken meanwhile: the next waiter need not wait for us
		return v
	}
}

// attempt returns the request of the attempt to propose now, if there is
// one. A session's first attempt is always proposed: it may be a resend
// whose answer waits in the session, whatever the lists hold now. The
// first look proposes the request if any key has something to pop or is of
// another kind (which Redis answers WRONGTYPE before it blocks). Once
// blocked, a key of another kind is nothing to pop yet, as in Redis: the
// attempt takes only from the keys that hold something now
// (fsm.FSM.Poppable, fsm.Command.Retry). A key that changes kind between
// that look and the attempt's apply still answers WRONGTYPE.
func (b *blockingPop) attempt(resend, blocked bool, gone <-chan struct{}) ([]resp.Value, bool) {
	switch {
	case closed(gone):
		return nil, false
	case resend:
		return b.request, true
	case !blocked:
		return b.request, b.d.fsm.AnyToPop(b.cmd, b.keys, time.Now().UnixMilli())
	}
	from := b.d.fsm.Poppable(b.cmd, b.keys, time.Now().UnixMilli())
	if len(from) == 0 {
		return nil, false
	}
	wrap := b.request[:len(b.request)-len(b.args)] // a session's KVORUM.SEQ id seq floor
	return append(slices.Clone(wrap), b.cmd.Retry(b.args, from)...), true
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// giveBack proposes the command's Undo for reply v: the client left while
// its attempt was in the log, so nobody will ever read v, and the item goes
// back where it was, in one log entry. Losing leadership first leaves the
// item taken: the write's outcome is then unknown here, the case client
// sessions exist for.
func (b *blockingPop) giveBack(v resp.Value) {
	undo := b.cmd.Undo(b.args, v)
	r := b.d.propose(b.c, undo).Wait()
	if r.Kind() == resp.KindError {
		b.d.log.Warn("could not give back what a blocking pop took for a client that left",
			"command", b.cmd.Name, "undo", undo[0].Text(), "reply", r.Text())
		return
	}
	b.d.log.Debug("gave back what a blocking pop took for a client that left", "command", b.cmd.Name)
}
