package client

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// Client talks to a kvorum cluster through any of its nodes. It is safe for
// concurrent use by many goroutines. The only goroutines it starts are a
// leader search's probes, one per node asked, which the call that runs the
// search waits for.
type Client struct {
	opt  Options
	log  *slog.Logger
	done chan struct{} // closed by Close

	leader atomic.Pointer[string] // the leader learned from a redirect or a search; nil if unknown
	last   atomic.Pointer[string] // the last leader known, kept when leader is forgotten

	sess  sessions  // the write session (session.go)
	disc  discovery // the leader search in progress (discover.go)
	stats counters  // Stats' counters (stats.go)

	mu     sync.RWMutex
	closed bool
	pools  map[string]*pool
	nodes  []string             // seeds, then learned nodes; pick rotates through them
	next   int                  // pick's position in nodes
	down   map[string]time.Time // nodes that failed (refused, reset, closed at once): pick skips them until then
	ndown  atomic.Int32         // len(down), read without the lock
	calls  sync.WaitGroup       // calls in flight, which Close waits for

	closeOnce sync.Once
}

// New returns a Client for the nodes in o.Addrs. It does not connect:
// connections are made when calls need them. It returns an error only for
// invalid options (see Options.Validate).
func New(o Options) (*Client, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	c := &Client{
		opt:   o,
		log:   o.Logger,
		done:  make(chan struct{}),
		pools: make(map[string]*pool),
		down:  make(map[string]time.Time),
	}
	for _, a := range o.Addrs {
		if !contains(c.nodes, a) {
			c.nodes = append(c.nodes, a)
		}
	}
	return c, nil
}

// Close ends the client's write session on the servers (best effort,
// waiting at most a second for it), closes every connection, makes calls
// in flight fail (with errors wrapping ErrClosed, or an
// *UnknownOutcomeError for a write cut off mid-flight) and waits for them
// to return. Later calls fail with ErrClosed. It is idempotent and safe to
// call concurrently.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closeSession()
		c.mu.Lock()
		c.closed = true
		close(c.done)
		for _, p := range c.pools {
			p.close()
		}
		c.mu.Unlock()
	})
	c.calls.Wait()
	return nil
}

// Leader returns the leader's address learned from the last redirect or
// leader search, or "" while the client knows none (it then tries the
// nodes in turn).
func (c *Client) Leader() string {
	if p := c.leader.Load(); p != nil {
		return *p
	}
	return ""
}

// Do sends one command (name first; arguments converted by ToValue) and
// returns its reply. An error reply is returned as the error: a
// *resp.ReplyError (e.g. WRONGTYPE, ERR ...), which errors.Is matches
// against resp's named errors (errors.Is(err, resp.ErrWrongType)), and the
// reply value is also returned. Redirects and retryable failures are handled as the package
// documentation says; what is left is a *RetryError, an error matching
// ErrUnknownOutcome, ErrClosed, or an argument conversion error. The reply
// refers to memory no one else uses; the caller may keep it.
func (c *Client) Do(ctx context.Context, args ...any) (resp.Value, error) {
	cmd, err := newCommand(args)
	if err != nil {
		return resp.Value{}, err
	}
	c.process(ctx, []*command{cmd})
	return cmd.reply, cmd.err
}

// enter registers a call, or fails with ErrClosed after Close.
func (c *Client) enter() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	c.calls.Add(1)
	return nil
}

// pool returns addr's pool, creating it; nil after Close.
func (c *Client) pool(addr string) *pool {
	c.mu.RLock()
	p := c.pools[addr]
	c.mu.RUnlock()
	if p != nil {
		return p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	if p = c.pools[addr]; p == nil {
		p = newPool(addr, &c.opt, c.done)
		c.pools[addr] = p
	}
	return p
}

// pick returns the node to try next and whether it is the known leader:
// the leader if known, else the known nodes in turn, skipping those marked
// down unless every one is.
func (c *Client) pick() (addr string, leading bool) {
	if l := c.Leader(); l != "" {
		return l, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.nodes)
	if c.ndown.Load() > 0 {
		now := time.Now()
		for i := range n {
			a := c.nodes[(c.next+i)%n]
			if until, ok := c.down[a]; !ok || !now.Before(until) {
				c.next += i + 1
				return a, false
			}
		}
	}
	a := c.nodes[c.next%n]
	c.next++
	return a, false
}

// setLeader remembers addr as the leader and as a known node, counting a
// change from the last leader known.
func (c *Client) setLeader(addr string) {
	c.leader.Store(&addr)
	if old := c.last.Swap(&addr); old != nil && *old != addr {
		c.stats.leaderChanges.Add(1)
		c.log.Debug("kvorum client: leader changed", "from", *old, "to", addr)
	}
	c.learn(addr)
}

// learn adds addrs to the known nodes.
func (c *Client) learn(addrs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range addrs {
		if a != "" && !contains(c.nodes, a) {
			c.nodes = append(c.nodes, a)
		}
	}
}

// knownNodes returns a copy of the known nodes.
func (c *Client) knownNodes() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]string(nil), c.nodes...)
}

// forgetLeader drops addr as the leader, if it still is.
func (c *Client) forgetLeader(addr string) {
	if p := c.leader.Load(); p != nil && *p == addr {
		c.leader.CompareAndSwap(p, nil)
	}
}

// markDown makes pick skip addr for a while (four maximum backoffs): it
// refused a connection, reset or closed one, or closed one at once.
func (c *Client) markDown(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down[addr] = time.Now().Add(4 * c.opt.MaxRetryBackoff)
	c.ndown.Store(int32(len(c.down)))
}

// markUp clears addr's down mark after it answered.
func (c *Client) markUp(addr string) {
	if c.ndown.Load() == 0 {
		return
	}
	c.mu.RLock()
	_, down := c.down[addr]
	c.mu.RUnlock()
	if !down { // another node is down: nothing to do here, and no write lock on every call
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.down, addr)
	c.ndown.Store(int32(len(c.down)))
}
