package resp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler serves requests. Serve is called on the connection's reader
// goroutine once per request, in order; args[0] is the command name. It
// returns the reply now, or a Future the server waits on before writing the
// replies of the batch in order, so that a handler can start many slow
// operations (Raft proposals) for one pipelined batch before any completes.
type Handler interface {
	Serve(c *Conn, args []Value) Reply
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(c *Conn, args []Value) Reply

// Serve calls f.
func (f HandlerFunc) Serve(c *Conn, args []Value) Reply { return f(c, args) }

// Future is a reply that is not known yet. Wait blocks until it is, and must
// return once the connection's Context is done (the server waits for it on
// Close).
type Future interface {
	Wait() Value
}

// Reply is a handler's answer: a value, or a future value.
type Reply struct {
	v     Value
	f     Future
	watch bool // Blocked: watch the socket while waiting
}

// Now returns a reply that is already known.
func Now(v Value) Reply { return Reply{v: v} }

// Later returns a reply to wait for.
func Later(f Future) Reply { return Reply{f: f} }

// Blocked returns a reply to wait for that may take a long time because it
// waits for other clients (BLPOP). While it waits the server keeps reading
// the socket, which it otherwise leaves alone until the replies of a batch
// are out, so that a client that goes away is noticed at once: the
// connection's Context is then done and f must give up. Without this a
// blocked request of a vanished client would stay blocked, and could still
// take an item on its behalf.
func Blocked(f Future) Reply { return Reply{f: f, watch: true} }

// NoReply returns a reply that writes nothing (e.g. for a pushed message).
func NoReply() Reply { return Reply{v: Value{kind: kindNone}} }

// kindNone marks a Reply that writes nothing; kindMulti one that writes
// several values (Replies).
const (
	kindNone  Kind = 250
	kindMulti Kind = 251
)

// Replies is several replies to one request, written one after the other:
// SUBSCRIBE a b answers one confirmation per channel. Only a Handler's
// reply may be a Replies value.
func Replies(vs ...Value) Value { return Value{kind: kindMulti, elem: vs} }

// ConnCloser is implemented by a Handler that keeps per-connection state
// elsewhere (subscriptions): ConnClosed is called once, from the
// connection's writer goroutine, after the connection has closed.
type ConnCloser interface {
	ConnClosed(c *Conn)
}

func (r Reply) wait() Value {
	if r.f != nil {
		return r.f.Wait()
	}
	return r.v
}

// Config configures a Server. A zero field takes its default.
type Config struct {
	MaxClients  int           // connections served at once (default 10,000); the next one gets an error
	OutputLimit int           // bytes of replies a connection may leave unread before it is cut off (default 32 MiB)
	Limits      Limits        // parser limits
	Mode        Mode          // reply mode of new connections (default Native)
	IdleTimeout time.Duration // close connections idle this long (0: never)
	Logger      *slog.Logger  // default: discard
}

// Server accepts connections and serves their requests through a Handler.
type Server struct {
	cfg     Config
	handler Handler
	log     *slog.Logger

	mu     sync.Mutex
	ln     []net.Listener
	conns  map[*Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	nextID atomic.Uint64
}

// NewServer returns a Server that serves requests with h.
func NewServer(cfg Config, h Handler) *Server {
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 10000
	}
	if cfg.OutputLimit <= 0 {
		cfg.OutputLimit = 32 << 20
	}
	cfg.Limits = cfg.Limits.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, handler: h, log: log, conns: make(map[*Conn]struct{})}
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("resp: server closed")

// Serve accepts connections on ln until Close, serving each on its own
// goroutines. It returns ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.ln = append(s.ln, ln)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff) // accept back-off, as net/http does
				continue
			}
			return err
		}
		backoff = 0
		s.accept(nc)
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) accept(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxClients {
		s.mu.Unlock()
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write(AppendValue(nil, Err("ERR max number of clients reached")))
		nc.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		srv:     s,
		nc:      nc,
		id:      s.nextID.Add(1),
		created: time.Now(),
		ctx:     ctx,
		cancel:  cancel,
		gone:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
	}
	c.mode.Store(uint32(s.cfg.Mode))
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
}

// Close stops accepting, closes every connection and waits for every
// goroutine the server started. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		for _, ln := range s.ln {
			ln.Close()
		}
		for c := range s.conns {
			c.shutdown()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Conns returns the connections being served, for CLIENT LIST and the like.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// NumConns returns the number of connections being served.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Conn is one client connection. Its reader goroutine calls the Handler; a
// writer goroutine sends replies, so a slow reader of replies cannot make
// the server hold more than Config.OutputLimit bytes for it.
type Conn struct {
	srv     *Server
	nc      net.Conn
	id      uint64
	created time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	gone    chan struct{} // closed once by leave
	left    sync.Once

	mode    atomic.Uint32 // a Mode: set by the handler, read by Push from any goroutine
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

// shutdown closes the socket and cancels the context; both loops then end.
// Close closes the connection from the server side (e.g. a subscriber of
// a node that stopped leading). Safe from any goroutine.
func (c *Conn) Close() { c.shutdown() }

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
			c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout))
		}
		args, err := rd.ReadRequest()
		// Gather every request already buffered into one batch, so their
		// futures are all started before the first is awaited.
		for err == nil {
			r := c.srv.handler.Serve(c, args)
			batch = append(batch, pending{r: r, mode: c.Mode()})
			if rd.Buffered() == 0 || c.closing {
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
func (c *Conn) linger() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, c.nc, lingerBytes)
}

func (c *Conn) writeLoop() {
	defer c.srv.wg.Done()
	defer func() {
		// Nothing more will be written: later Pushes must fail rather
		// than pile up in c.out.
		c.mu.Lock()
		c.dead = true
		c.out = nil
		c.mu.Unlock()
		c.shutdown()
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
		if cc, ok := c.srv.handler.(ConnCloser); ok {
			cc.ConnClosed(c)
		}
	}()
	var buf []byte
	for {
		c.mu.Lock()
		buf, c.out = c.out, buf[:0]
		c.inFlush = len(buf)
		done, dead := c.done, c.dead
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
		if done {
			c.linger()
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
