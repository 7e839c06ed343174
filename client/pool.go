package client

import (
	"context"
	"fmt"
	"sync"
)

// pool holds the connections to one node: at most size of them exist at a
// time, in use or idle. Safe for concurrent use.
type pool struct {
	addr string
	opt  *Options
	done <-chan struct{} // the client's: closed by Close

	slots chan struct{} // one token per connection in use

	mu     sync.Mutex
	idle   []*conn
	all    map[*conn]struct{} // every open connection, so close can cut in-use ones
	closed bool
}

func newPool(addr string, opt *Options, done <-chan struct{}) *pool {
	return &pool{
		addr:  addr,
		opt:   opt,
		done:  done,
		slots: make(chan struct{}, opt.PoolSize),
		all:   make(map[*conn]struct{}),
	}
}

// get returns a connection for the caller's exclusive use: an idle one that
// is still alive, or a new one. It waits while size connections are in use,
// until the context ends (its error) or the client closes (ErrClosed). A
// dial failure is returned wrapped with the address. Every successful get
// must be followed by put.
func (p *pool) get(ctx context.Context) (*conn, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.done:
			return nil, ErrClosed
		}
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.slots
			return nil, ErrClosed
		}
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		cn := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if cn.alive() {
			return cn, nil
		}
		p.drop(cn)
	}
	cn, err := dial(ctx, p.addr, p.opt)
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("dial %s: %w", p.addr, ctxErr(ctx, err))
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		cn.close()
		<-p.slots
		return nil, ErrClosed
	}
	p.all[cn] = struct{}{}
	p.mu.Unlock()
	return cn, nil
}

// put returns a connection taken with get. reuse false (after any error)
// closes it.
func (p *pool) put(cn *conn, reuse bool) {
	p.mu.Lock()
	if reuse && !cn.interrupted && !p.closed {
		p.idle = append(p.idle, cn)
		p.mu.Unlock()
	} else {
		delete(p.all, cn)
		p.mu.Unlock()
		cn.close()
	}
	<-p.slots
}

// drop closes a connection that is neither idle nor in use any more.
func (p *pool) drop(cn *conn) {
	p.mu.Lock()
	delete(p.all, cn)
	p.mu.Unlock()
	cn.close()
}

// close closes every connection, idle or in use (whose users then see an
// error and put them back), and makes get fail with ErrClosed.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for cn := range p.all {
		cn.close()
	}
	p.idle = nil
}
