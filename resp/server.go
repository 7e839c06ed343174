package resp

import (
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
	v      Value
	f      Future
	watch  bool   // Blocked: watch the socket while waiting
	tunnel Tunnel // Handoff: the connection's bytes go to tunnel from here on
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

// Tunnel takes over a connection's byte stream (Handoff): in yields what the
// client sends after the request that handed over, out reaches the client
// directly. It runs on the connection's writer goroutine once every reply
// before the handover is written, and must return once in fails (the
// connection closed) or it calls Conn.Close; the connection closes when it
// returns.
type Tunnel func(in io.Reader, out io.Writer)

// Handoff returns a reply that hands the rest of the connection to t: the
// server reads no further request and writes no further reply of its own.
// A follower proxy uses it to relay a client to the leader byte for byte.
func Handoff(t Tunnel) Reply { return Reply{v: Value{kind: kindNone}, tunnel: t} }

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

// Admitter is implemented by a Handler that refuses some connections as
// they are accepted (protected mode): Admit's error, if any, is written to
// the client as an error reply and the connection closed, before any
// request is read.
type Admitter interface {
	Admit(remote net.Addr) error
}

// ConnCloser is implemented by a Handler that keeps per-connection state
// elsewhere (subscriptions): ConnClosed is called once, from the
// connection's writer goroutine, after the connection has closed.
type ConnCloser interface {
	ConnClosed(c *Conn)
}

// Known returns the reply's value if it is already known (Now), for a
// handler that counts its error replies; false for a future.
func (r Reply) Known() (Value, bool) { return r.v, r.f == nil && r.tunnel == nil }

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
	IdleTimeout time.Duration // close connections idle this long (0: never); see Conn.SetIdleExempt
	// MaxClientsPerIP bounds the connections served at once from one
	// remote IP address (0: no bound); the next one gets an error.
	MaxClientsPerIP int
	Logger          *slog.Logger // default: discard
}

// Server accepts connections and serves their requests through a Handler.
type Server struct {
	cfg     Config
	handler Handler
	log     *slog.Logger

	mu     sync.Mutex
	ln     []net.Listener
	conns  map[*Conn]struct{}
	perIP  map[string]int // connections served per remote IP (MaxClientsPerIP)
	closed bool
	wg     sync.WaitGroup
	nextID atomic.Uint64
	// accepted and rejected count the connections served and turned away
	// since the start (INFO stats).
	accepted, rejected atomic.Uint64
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
	return &Server{cfg: cfg, handler: h, log: log, conns: make(map[*Conn]struct{}), perIP: make(map[string]int)}
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
	refusal, ip := "", remoteIP(nc)
	if len(s.conns) >= s.cfg.MaxClients {
		refusal = "ERR max number of clients reached"
	} else if s.cfg.MaxClientsPerIP > 0 && s.perIP[ip] >= s.cfg.MaxClientsPerIP {
		refusal = "ERR max number of clients from " + ip + " reached"
	} else if a, ok := s.handler.(Admitter); ok {
		if err := a.Admit(nc.RemoteAddr()); err != nil {
			refusal = err.Error()
		}
	}
	if refusal != "" {
		s.rejected.Add(1)
		s.wg.Add(1)
		s.mu.Unlock()
		go s.refuse(nc, refusal)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		srv:     s,
		nc:      nc,
		ip:      ip,
		id:      s.nextID.Add(1),
		created: time.Now(),
		ctx:     ctx,
		cancel:  cancel,
		gone:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
	}
	c.mode.Store(uint32(s.cfg.Mode))
	s.accepted.Add(1)
	s.conns[c] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
}

// remoteIP is the IP of a connection's peer ("" if it has none, as a unix
// socket's).
func remoteIP(nc net.Conn) string {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// forget drops a closed connection from the server's tables.
func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
	s.mu.Unlock()
}

// refuse writes a refusal to a connection that will not be served, then
// closes it as a finished connection does (linger): closing with the
// client's first request unread would reset the connection, and the
// refusal could be lost before the client reads it.
func (s *Server) refuse(nc net.Conn, msg string) {
	defer s.wg.Done()
	defer nc.Close()
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write(AppendValue(nil, Err(msg))); err != nil {
		return
	}
	linger(nc)
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

// Counts returns how many connections the server has served and how many
// it turned away (too many clients, or refused by an Admitter) since it
// started.
func (s *Server) Counts() (accepted, rejected uint64) { return s.accepted.Load(), s.rejected.Load() }

// NumConns returns the number of connections being served.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
