package client

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/kvorum/kvorum/resp"
)

// Client talks to a kvorum cluster through any of its nodes. It is safe for
// concurrent use by many goroutines; it starts no goroutines of its own.
type Client struct {
	opt  Options
	log  *slog.Logger
	done chan struct{} // closed by Close

	leader atomic.Pointer[string] // the leader learned from a redirect; nil if unknown

	mu     sync.RWMutex
	closed bool
	pools  map[string]*pool
	nodes  []string // seeds, then learned leaders; pick rotates through them
	next   int
	calls  sync.WaitGroup // calls in flight, which Close waits for

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
	}
	for _, a := range o.Addrs {
		if !contains(c.nodes, a) {
			c.nodes = append(c.nodes, a)
		}
	}
	return c, nil
}

// Close closes every connection, makes calls in flight fail (with errors
// wrapping ErrClosed, or an *UnknownOutcomeError for a write cut off
// mid-flight) and waits for them to return. Later calls fail with
// ErrClosed. It is idempotent and safe to call concurrently.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
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

// Leader returns the leader's address learned from the last redirect, or
// "" while the client knows none (it then tries the nodes in turn).
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

// pick returns the node to try next: the leader if known, else the known
// nodes in turn.
func (c *Client) pick() string {
	if l := c.Leader(); l != "" {
		return l
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.nodes[c.next%len(c.nodes)]
	c.next++
	return a
}

// setLeader remembers addr as the leader and as a known node.
func (c *Client) setLeader(addr string) {
	c.leader.Store(&addr)
	c.mu.Lock()
	if !contains(c.nodes, addr) {
		c.nodes = append(c.nodes, addr)
	}
	c.mu.Unlock()
}

// forgetLeader drops addr as the leader, if it still is.
func (c *Client) forgetLeader(addr string) {
	if p := c.leader.Load(); p != nil && *p == addr {
		c.leader.CompareAndSwap(p, nil)
	}
}
