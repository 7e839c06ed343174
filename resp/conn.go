package resp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one client connection. Its reader goroutine calls the Handler; a
// writer goroutine sends replies, so a slow reader of replies cannot make
// the server hold more than Config.OutputLimit bytes for it.
type Conn struct {
	srv     *Server
	nc      net.Conn
	ip      string // the peer's IP, as MaxClientsPerIP counts it
	id      uint64
	created time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	gone    chan struct{} // closed once by leave
	left    sync.Once

	mode    atomic.Uint32 // a Mode: set by the handler, read by Push from any goroutine
	exempt  atomic.Bool   // SetIdleExempt: the idle timeout does not apply
	closing bool          // QUIT: close after this batch's replies (reader goroutine only)

	// Session is the handler's per-connection state (transactions,
	// subscriptions, ...). Only the reader goroutine touches it.
	Session any

	name atomic.Pointer[string]

	mu      sync.Mutex
	out     []byte // encoded replies not yet handed to the writer
	inFlush int    // bytes the writer is writing now
	dead    bool   // cut off or closed: drop further output
	wake    chan struct{}
	done    bool // reader finished: writer drains and exits

	// tunnel and tunnelIn are a Handoff's taker and the client's unread
	// input, set by the reader as it finishes: the writer runs the tunnel
	// instead of closing once the replies before it are out.
	tunnel   Tunnel
	tunnelIn io.Reader
}

// ID returns the connection's unique id (CLIENT ID).
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Created returns when the connection was accepted.
func (c *Conn) Created() time.Time { return c.created }

// Mode returns the connection's reply mode. Safe from any goroutine.
func (c *Conn) Mode() Mode { return Mode(c.mode.Load()) }

// SetMode switches the reply mode. Called by the handler, it applies to the
// reply of the current request (as HELLO 3 answers in RESP3) and to every
// later one.
func (c *Conn) SetMode(m Mode) { c.mode.Store(uint32(m)) }

// Name returns the name set by CLIENT SETNAME. Safe from any goroutine.
func (c *Conn) Name() string {
	if p := c.name.Load(); p != nil {
		return *p
	}
	return ""
}

// SetName sets the connection's name. Safe from any goroutine.
func (c *Conn) SetName(n string) { c.name.Store(&n) }

// SetIdleExempt exempts the connection from Config.IdleTimeout, or ends
// the exemption, from its next read on: a subscriber waits for messages,
// not requests, and Redis does not time it out either. (A blocked request
// is exempt while it waits.)
func (c *Conn) SetIdleExempt(on bool) { c.exempt.Store(on) }

// CloseAfterReply makes the server close the connection once the replies of
// the current batch are written (QUIT).
func (c *Conn) CloseAfterReply() { c.closing = true }

// Context is done when the connection closes; futures and blocking commands
// watch it.
func (c *Conn) Context() context.Context { return c.ctx }

// Gone is closed when the client has gone away: its end of the stream was
// seen while a Blocked request waited, or the connection closed. Unlike
// Context, it leaves the replies already decided to be written (a client
// that half-closed still reads them), so a blocked request that sees Gone
// knows its reply will never be asked for, while one that returned first
// has its reply sent.
func (c *Conn) Gone() <-chan struct{} { return c.gone }

func (c *Conn) leave() { c.left.Do(func() { close(c.gone) }) }

// Push sends v to the client outside the request/reply order (pub/sub
// messages). Safe from any goroutine. It reports false once the connection
// is gone or over its output limit.
func (c *Conn) Push(v Value) bool {
	if !c.enqueue(v, c.Mode()) {
		return false
	}
	c.kick()
	return true
}

// enqueue encodes v into the output buffer without waking the writer (the
// reader wakes it once per batch: one write per pipelined batch), cutting
// the connection off if the unread output passes the limit. It reports
// false once the connection is gone.
func (c *Conn) enqueue(v Value, m Mode) bool {
	if v.kind == kindNone {
		return true
	}
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return false
	}
	if v.kind == kindMulti {
		for _, e := range v.elem {
			c.out = AppendReply(c.out, e, m)
		}
	} else {
		c.out = AppendReply(c.out, v, m)
	}
	over := len(c.out)+c.inFlush > c.srv.cfg.OutputLimit
	if over {
		c.dead = true
		c.out = nil
	}
	c.mu.Unlock()
	if over {
		c.srv.log.Warn("client output limit reached: closing connection",
			"client", c.nc.RemoteAddr().String(), "id", c.id, "limit", c.srv.cfg.OutputLimit)
		c.shutdown()
		return false
	}
	return true
}

// kick wakes the writer to send what is queued.
func (c *Conn) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Close closes the connection from the server side (e.g. a subscriber of
// a node that stopped leading): from now on Push reports false, and what
// was not yet written is dropped. Safe from any goroutine.
func (c *Conn) Close() {
	c.drop()
	c.shutdown()
}

// runTunnel hands the socket to a Handoff's tunnel. Output of the server's
// own (Push) is refused from now on: the bytes the client reads are the
// tunnel's alone.
func (c *Conn) runTunnel() {
	c.drop()
	c.mu.Lock()
	in := c.tunnelIn
	c.mu.Unlock()
	c.nc.SetReadDeadline(time.Time{}) // no idle timeout: the tunnel's far end has its own
	c.tunnel(in, c.nc)
}

// shutdown closes the socket and cancels the context; both loops then end.

func (c *Conn) shutdown() {
	c.leave()
	c.cancel()
	c.nc.Close()
}

type pending struct {
	r    Reply
	mode Mode
}

func (c *Conn) readLoop() {
	defer c.srv.wg.Done()
	defer c.finish()
	br := bufio.NewReaderSize(c.nc, 16<<10)
	rd := NewReader(br, c.srv.cfg.Limits)
	batch := make([]pending, 0, 16)
	for {
		if c.srv.cfg.IdleTimeout > 0 {
			var dl time.Time // none while exempt
			if !c.exempt.Load() {
				dl = time.Now().Add(c.srv.cfg.IdleTimeout)
			}
			c.nc.SetReadDeadline(dl)
		}
		args, err := rd.ReadRequest()
		// Gather every request already buffered into one batch, so their
		// futures are all started before the first is awaited.
		var handoff Tunnel
		for err == nil {
			r := c.srv.handler.Serve(c, args)
			batch = append(batch, pending{r: r, mode: c.Mode()})
			if handoff = r.tunnel; handoff != nil || rd.Buffered() == 0 || c.closing {
				break
			}
			args, err = rd.ReadRequest()
		}
		for i := range batch {
			var v Value
			if batch[i].r.watch {
				v = c.waitWatching(br, batch[i].r.f)
			} else {
				v = batch[i].r.wait()
			}
			ok := c.enqueue(v, batch[i].mode)
			batch[i] = pending{}
			if !ok {
				return
			}
		}
		batch = batch[:0]
		c.kick()
		if handoff != nil {
			c.mu.Lock()
			c.tunnel, c.tunnelIn = handoff, br
			c.mu.Unlock()
			return // finish wakes the writer, which runs the tunnel
		}
		if c.closing {
			return
		}
		if err != nil {
			var pe *ProtocolError
			switch {
			case errors.As(err, &pe):
				c.enqueue(pe.Value(), c.Mode())
			case errors.Is(err, io.ErrUnexpectedEOF):
				c.enqueue((&ProtocolError{Msg: "unexpected end of stream inside a frame"}).Value(), c.Mode())
			}
			return // finish wakes the writer
		}
	}
}

// waitWatching waits for a Blocked future while a helper goroutine reads
// ahead into br, so that the end of the client's stream (EOF, reset) closes
// Gone while the future is still waiting. Bytes the client
// pipelines meanwhile stay in br for the next requests; once br is full the
// helper stops reading (the client is plainly alive). It returns with the
// helper gone, so the reader goroutine owns br again. Redis too drops a
// blocked client the moment its socket closes.
func (c *Conn) waitWatching(br *bufio.Reader, f Future) Value {
	c.nc.SetReadDeadline(time.Time{}) // no idle timeout while blocked, as in Redis
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := br.Buffered() + 1; n <= br.Size(); n = br.Buffered() + 1 {
			if _, err := br.Peek(n); err != nil {
				select {
				case <-stop: // the deadline below, or a close racing it
				default:
					c.leave() // the reader finds the same end once f returns
				}
				return
			}
		}
	}()
	v := f.Wait()
	close(stop)
	c.nc.SetReadDeadline(time.Now()) // end the helper's read
	<-done
	c.nc.SetReadDeadline(time.Time{})
	return v
}

// finish tells the writer to drain what is left and close.
func (c *Conn) finish() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	c.kick()
}

// How long and how much a finished connection keeps reading after its last
// reply, as net/http does before closing.
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 256 << 10
)

// linger half-closes the socket after the last reply and discards what the
// client still sends for a moment. Closing a socket with unread input makes
// the kernel reset the connection, which can destroy the last reply (a
// protocol error, QUIT's +OK) before the client reads it. Close cuts the
// wait short by closing the socket.
func linger(nc net.Conn) {
	cw, ok := nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	nc.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, nc, lingerBytes)
}

// drop makes the connection refuse further output and forgets what was
// not yet written.
func (c *Conn) drop() {
	c.mu.Lock()
	c.dead = true
	c.out = nil
	c.mu.Unlock()
}

func (c *Conn) writeLoop() {
	defer c.srv.wg.Done()
	defer func() {
		// Nothing more will be written: later Pushes must fail rather
		// than pile up in c.out.
		c.drop()
		c.shutdown()
		c.srv.forget(c)
		if cc, ok := c.srv.handler.(ConnCloser); ok {
			cc.ConnClosed(c)
		}
	}()
	var buf []byte
	for {
		c.mu.Lock()
		buf, c.out = c.out, buf[:0]
		c.inFlush = len(buf)
		done, dead, tunnel := c.done, c.dead, c.tunnel
		c.mu.Unlock()
		if dead {
			return
		}
		if len(buf) > 0 {
			_, err := c.nc.Write(buf)
			c.mu.Lock()
			c.inFlush = 0 // written: no longer pending, even before the next swap
			c.dead = c.dead || err != nil
			c.mu.Unlock()
			if err != nil {
				return
			}
			if cap(buf) > 1<<20 {
				buf = nil // don't pin a burst's memory for the connection's life
			}
			continue
		}
		if done && tunnel != nil {
			c.runTunnel()
			return
		}
		if done {
			linger(c.nc)
			return
		}
		select {
		case <-c.wake:
		case <-c.ctx.Done():
			// Write whatever the reader managed to queue before the close.
		}
		if c.ctx.Err() != nil {
			c.mu.Lock()
			rest := c.out
			c.out = nil
			c.mu.Unlock()
			if len(rest) > 0 {
				c.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				c.nc.Write(rest)
			}
			return
		}
	}
}
