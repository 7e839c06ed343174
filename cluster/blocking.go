package cluster

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX) wait on the leader. Each
// attempt is an ordinary write through the log that pops if it can and
// otherwise changes nothing (fsm/lists.go); between attempts the request
// waits until an applied push touches one of its keys (fsm.Config.OnPush),
// its timeout passes, the client goes away, or this node stops leading,
// which ends the wait with a redirect so the client retries on the new
// leader: a wait is never silently lost.

// waiters maps keys to the blocked requests waiting on them.
type waiters struct {
	mu      sync.Mutex
	byKey   map[string]map[*waiter]struct{}
	blocked atomic.Int64 // requests waiting now (INFO blocked_clients)
}

type waiter struct {
	keys []string
	ch   chan struct{} // closed when a push touches a key
}

func newWaiters() *waiters { return &waiters{byKey: make(map[string]map[*waiter]struct{})} }

func (ws *waiters) register(keys []string) *waiter {
	w := &waiter{keys: keys, ch: make(chan struct{})}
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

// remove unregisters w (after a wake-up, a timeout or success).
func (ws *waiters) remove(w *waiter) {
	ws.mu.Lock()
	for _, k := range w.keys {
		if set := ws.byKey[k]; set != nil {
			delete(set, w)
			if len(set) == 0 {
				delete(ws.byKey, k)
			}
		}
	}
	ws.mu.Unlock()
}

// notify wakes every waiter on keys. It runs on the FSM goroutine and never
// blocks.
func (ws *waiters) notify(keys []string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, k := range keys {
		for w := range ws.byKey[k] {
			select {
			case <-w.ch:
			default:
				close(w.ch)
			}
		}
	}
}

// blockingPop is the future of one blocking command.
type blockingPop struct {
	n       *Node
	c       *resp.Conn
	cmd     *fsm.Command
	args    []resp.Value
	keys    []resp.Value
	timeout time.Duration // 0: forever
}

// block starts a blocking command, or answers at once for a timeout that
// Redis refuses (negative, not a number) before it would block.
func (n *Node) block(c *resp.Conn, cmd *fsm.Command, args []resp.Value) resp.Reply {
	ms, errv, ok := cmd.BlockArgs(args)
	if !ok {
		return resp.Now(errv)
	}
	sessionOf(c).reads++ // answered at its turn, like a read (door.go)
	return resp.Blocked(&blockingPop{n: n, c: c, cmd: cmd, args: args, keys: cmd.SourceKeys(args), timeout: time.Duration(ms) * time.Millisecond})
}

var errConnClosed = resp.Err(resp.CodeTryAgain + " connection closed")

// Wait blocks until an attempt pops something (or answers an error), the
// timeout passes, leadership is lost, or the client goes away. The server
// watches the socket meanwhile (resp.Blocked), so a client that disconnects
// ends the wait at once: it is unregistered, is never woken again and never
// proposes another attempt. If it leaves while its attempt is in the log,
// what the attempt took is given back (giveBack).
func (b *blockingPop) Wait() resp.Value {
	n := b.n
	sessionOf(b.c).reads--
	lost := n.leaderLost.Load()
	if lost == nil {
		return n.redirect().Value()
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
	n.waiters.blocked.Add(1)
	defer n.waiters.blocked.Add(-1)
	for {
		// Register before looking, so a push applied in between still wakes us.
		w := n.waiters.register(keys)
		if !closed(gone) && n.fsm.AnyToPop(b.cmd, b.keys, time.Now().UnixMilli()) {
			v := n.propose(b.c, b.args).Wait()
			if !v.IsNull() {
				n.waiters.remove(w)
				if closed(gone) && v.Kind() != resp.KindError {
					b.giveBack(v)
					return errConnClosed
				}
				return v // popped, or an error
			}
			// Another client popped first: wait for the next push.
		}
		select {
		case <-w.ch:
			n.waiters.remove(w)
		case <-expired:
			n.waiters.remove(w)
			return nullFor(b.args)
		case <-*lost:
			n.waiters.remove(w)
			return n.redirect().Value()
		case <-gone:
			n.waiters.remove(w)
			return errConnClosed
		}
	}
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
	r := b.n.proposer.propose(b.c.Mode(), undo).Wait()
	if r.Kind() == resp.KindError {
		b.n.log.Warn("could not give back what a blocking pop took for a client that left",
			"command", b.cmd.Name, "undo", undo[0].Text(), "reply", r.Text())
		return
	}
	b.n.log.Debug("gave back what a blocking pop took for a client that left", "command", b.cmd.Name)
}

// nullFor is a blocking command's timeout reply: a null bulk string for
// BLMOVE and BRPOPLPUSH, a null array for the pops (as Redis answers).
func nullFor(args []resp.Value) resp.Value {
	if name := args[0].Text(); strings.EqualFold(name, "BLMOVE") || strings.EqualFold(name, "BRPOPLPUSH") {
		return resp.NullBulk()
	}
	return resp.NullArray()
}
