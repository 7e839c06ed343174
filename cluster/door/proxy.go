package door

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// The follower proxy (Config.Proxy, --follower-mode proxy) serves clients
// that can follow neither a -MOVED nor Sentinel. When a plain connection
// (tenure.go) sends a follower its first command that only the leader can
// serve, the follower dials the leader and hands the connection over to a
// byte relay (resp.Handoff): from then on every request goes to the leader
// on that one upstream connection and every reply comes back unchanged, so
// MULTI/WATCH, blocking pops and pub/sub keep their connection semantics.
// Leader loss closes the client's connection: the leader closes the
// upstream as it steps down (it is a plain connection there), and the
// follower closes it too once it sees another leader or none.
//
// The follower opens the upstream with Config.DialLeader: cmd wires
// cluster.Node.DialLeader, which under --tls-cluster speaks mutual TLS to
// the leader's TLS client listener and never falls back to clear text.
// Without one, the upstream is plain TCP to the leader's client address.

// proxyDialTimeout bounds the dial to the leader and the replay of the
// connection's state; proxyCheck is how often the relays' leader is
// checked against the follower's current view.
const (
	proxyDialTimeout = 2 * time.Second
	proxyCheck       = 100 * time.Millisecond
)

// Dialer opens the proxy's connection to the leader whose client address
// is leader (as Store.NotLeading names it), within ctx (Config.DialLeader).
// A client connection's goroutine calls it. The connection should have
// CloseWrite, as *net.TCPConn and *tls.Conn do, so that a client's
// half-close reaches the leader; one without it is closed instead. An
// error wrapping ErrNoUpstream says the leader may not be dialed at all.
type Dialer func(ctx context.Context, leader string) (net.Conn, error)

// ErrNoUpstream is wrapped by a Dialer's error when the leader offers no
// address this node may relay to (cluster.Node.DialLeader under
// --tls-cluster: a leader without a TLS listener). It lasts until the
// leader changes, so the door logs it once per leader rather than at every
// request; the request is answered as when the leader cannot be reached,
// and the connection stays with this node.
var ErrNoUpstream = errors.New("the leader offers no address this node may relay to")

// relays reports whether this request hands c over to the leader.
func (d *Door) relays(s *session, cmd *Command, args []resp.Value) bool {
	if !d.cfg.Proxy || s.aware || s.subscriptions > 0 || s.tx != nil {
		return false
	}
	switch {
	case cmd.Kind == Write || cmd.Kind == Read || cmd.Kind == Blocking || cmd.Kind == Leader:
	case !cmd.has(Upstream):
		return false
	case cmd.Name == "SUBSCRIBE" && sentinelChannels(args[1:]):
		return false // this node's own events
	}
	return d.store.Leading() == nil
}

// proxy dials the leader, replays the connection's state there (HELLO,
// CLIENT SETNAME), sends it args and hands the connection to the relay.
// If no leader is known or it cannot be reached, the request gets the
// error and the connection stays with this node.
func (d *Door) proxy(c *resp.Conn, s *session, args []resp.Value) resp.Reply {
	notLeading := d.store.NotLeading()
	leader := leaderOf(notLeading)
	if leader == "" {
		return resp.Now(errorValue(notLeading))
	}
	up, err := d.dialUpstream(c.Context(), leader, s.creds, s.proto, c.Name())
	if err != nil {
		d.proxies.warn(d.log, leader, err)
		return resp.Now(resp.TryAgain("proxy: " + err.Error()).Value())
	}
	// The upstream ends with the client's connection. The relay closes it
	// too, but it starts only once the replies before this request are
	// written, and never if the connection ends first (the client resets
	// it, the server closes): then nothing else would close the upstream,
	// and it would stay open on both nodes for good.
	context.AfterFunc(c.Context(), func() { up.close() })
	if _, err := up.nc.Write(resp.AppendValue(nil, resp.Array(args...))); err != nil {
		up.close()
		return resp.Now(resp.TryAgain("proxy: sending to the leader: " + err.Error()).Value())
	}
	return resp.Handoff(func(in io.Reader, out io.Writer) { d.relay(c, up, in, out) })
}

// upstream is a proxied connection's connection to the leader.
type upstream struct {
	leader string   // the leader's client address when dialed
	nc     net.Conn // TCP, or TLS over it (Config.DialLeader)
	br     *bufio.Reader
}

// closeWrite passes the client's half-close on to the leader, or closes
// the upstream if it cannot be half-closed.
func (up *upstream) closeWrite() {
	if hc, ok := up.nc.(interface{ CloseWrite() error }); ok {
		hc.CloseWrite()
		return
	}
	up.close()
}

// close ends the upstream at once. Under TLS it closes the connection
// underneath: tls.Conn.Close would first send close_notify, and wait up to
// 5s for a leader that is not reading, holding up whoever closes it (the
// watch, which holds its lock). The leader sees the end of its stream
// either way.
func (up *upstream) close() {
	if tc, ok := up.nc.(interface{ NetConn() net.Conn }); ok {
		tc.NetConn().Close()
		return
	}
	up.nc.Close()
}

// dial opens a connection to leader with Config.DialLeader, or plain TCP.
func (d *Door) dial(ctx context.Context, leader string) (net.Conn, error) {
	if d.cfg.DialLeader != nil {
		return d.cfg.DialLeader(ctx, leader)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", leader)
}

// dialUpstream connects to leader, within proxyDialTimeout or until ctx
// (the client's connection) ends, and replays the client's credentials,
// protocol version and name, reading their replies so that what is
// relayed later starts with the reply to the client's own request.
func (d *Door) dialUpstream(ctx context.Context, leader string, creds []string, proto, name string) (*upstream, error) {
	ctx, cancel := context.WithTimeout(ctx, proxyDialTimeout)
	defer cancel()
	nc, err := d.dial(ctx, leader)
	if err != nil {
		return nil, fmt.Errorf("dial leader: %w", err)
	}
	up := &upstream{leader: leader, nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}
	var prelude [][]string
	if creds != nil {
		prelude = append(prelude, append([]string{"AUTH"}, creds...))
	}
	if proto != "" {
		prelude = append(prelude, []string{"HELLO", proto})
	}
	if name != "" {
		prelude = append(prelude, []string{"CLIENT", "SETNAME", name})
	}
	var buf []byte
	for _, p := range prelude {
		buf = resp.AppendCommand(buf, p...)
	}
	nc.SetDeadline(time.Now().Add(proxyDialTimeout))
	defer nc.SetDeadline(time.Time{})
	if _, err := nc.Write(buf); err != nil {
		up.close()
		return nil, fmt.Errorf("leader %s: %w", leader, err)
	}
	rd := resp.NewReader(up.br, resp.Limits{})
	for _, p := range prelude {
		v, err := rd.ReadValue()
		if err == nil && v.IsError() {
			err = errors.New(v.Text())
		}
		if err != nil {
			up.close()
			return nil, fmt.Errorf("leader %s refused %s: %w", leader, p[0], err)
		}
	}
	return up, nil
}

// relay copies bytes both ways until either side ends. A client that
// half-closes has its end passed on, so the leader still answers what it
// sent (QUIT) and notices a vanished blocked client (resp.Conn.Gone); the
// leader's end closes the client's connection.
func (d *Door) relay(c *resp.Conn, up *upstream, in io.Reader, out io.Writer) {
	if !d.proxies.add(up) {
		up.close()
		return
	}
	defer d.proxies.remove(up)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // client -> leader
		defer wg.Done()
		if _, err := io.Copy(up.nc, in); err == nil {
			up.closeWrite()
		} else {
			up.close()
		}
	}()
	io.Copy(out, up.br) // leader -> client
	up.close()
	c.Close() // ends the copy above
	wg.Wait()
}

// proxies is the set of live relays and the watch that closes those whose
// leader is no longer this follower's leader. The watch runs, in the
// door's group, while there are relays.
type proxies struct {
	leader  func() string // the leader this follower sees, "" if none
	g       *group
	mu      sync.Mutex
	ups     map[*upstream]struct{}
	running bool
	// noUpstream is the leader an ErrNoUpstream was last logged for.
	noUpstream string
}

func newProxies(leader func() string, g *group) *proxies {
	return &proxies{leader: leader, g: g, ups: map[*upstream]struct{}{}}
}

// warn logs why a relay to leader could not start: at every request,
// except an ErrNoUpstream, which is logged once per leader.
func (p *proxies) warn(log *slog.Logger, leader string, err error) {
	if !errors.Is(err, ErrNoUpstream) {
		log.Warn("proxy: cannot reach the leader", "leader", leader, "err", err)
		return
	}
	p.mu.Lock()
	logged := p.noUpstream == leader
	p.noUpstream = leader
	p.mu.Unlock()
	if !logged {
		log.Warn("proxy: not relaying clients to the leader", "leader", leader, "err", err)
	}
}

// add registers a relay; false once the door is closed.
func (p *proxies) add(up *upstream) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running && !p.g.start(p.watch) {
		return false
	}
	p.running = true
	p.ups[up] = struct{}{}
	return true
}

func (p *proxies) remove(up *upstream) {
	p.mu.Lock()
	delete(p.ups, up)
	p.mu.Unlock()
}

// watch closes the relays whose leader is gone, until none is left.
func (p *proxies) watch(stop <-chan struct{}) {
	tick := time.NewTicker(proxyCheck)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			p.mu.Lock()
			p.running = false
			p.mu.Unlock()
			return
		case <-tick.C:
		}
		leader := p.leader()
		p.mu.Lock()
		if len(p.ups) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		for up := range p.ups {
			if up.leader != leader {
				up.close() // the relay ends and closes its client
			}
		}
		p.mu.Unlock()
	}
}
