package door

import (
	"sync"

	"github.com/kvorum/kvorum/resp"
)

// A leader's plain client connections end with its leadership. A plain
// connection (one that never said READONLY, READWRITE, CLUSTER or
// KVORUM.SEQ, so its client knows nothing of redirects) is bound to the
// leadership that served it; when that ends, the connection is closed at
// once, as Redis Sentinel's failover does with CLIENT KILL. Its client
// then reconnects through Sentinel (or its own retry) to the new leader
// instead of meeting -MOVED replies it cannot follow. Subscribers are bound
// whatever their client, since messages are the leader's alone (pubsub.go).

// tenures binds connections to the leadership they were served under.
type tenures struct {
	mu    sync.Mutex
	conns map[*resp.Conn]<-chan struct{}
	// watching is the leadership whose end a watch of g waits for.
	watching <-chan struct{}
	g        *group
}

func newTenures(g *group) *tenures {
	return &tenures{conns: map[*resp.Conn]<-chan struct{}{}, g: g}
}

// bind closes c when the leadership lost belongs to ends (at once if it
// already has).
func (t *tenures) bind(c *resp.Conn, lost <-chan struct{}) {
	t.mu.Lock()
	t.conns[c] = lost
	if t.watching != lost && t.g.start(func(stop <-chan struct{}) { t.watch(lost, stop) }) {
		t.watching = lost
	}
	t.mu.Unlock()
	select {
	case <-lost: // ended while we bound c: the watch may have missed it
		c.Close()
	default:
	}
}

// unbind forgets c (closed, or no longer plain).
func (t *tenures) unbind(c *resp.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// watch closes the connections bound to lost once it ends.
func (t *tenures) watch(lost, stop <-chan struct{}) {
	select {
	case <-lost:
	case <-stop:
		return
	}
	t.mu.Lock()
	var ended []*resp.Conn
	for c, l := range t.conns {
		if l == lost {
			ended = append(ended, c)
			delete(t.conns, c)
		}
	}
	t.mu.Unlock()
	for _, c := range ended {
		c.Close()
	}
}

// lead returns the channel of this node's leadership, nil if it does not
// lead, binding a plain connection to it on its first leader's command of
// the term. The door calls it for every command only a leader serves.
func (d *Door) lead(c *resp.Conn, s *session) <-chan struct{} {
	lost := d.store.Leading()
	if lost != nil && !s.aware && s.tenure != lost {
		s.tenure = lost
		d.tenures.bind(c, lost)
	}
	return lost
}

// markAware records that c's client follows redirects: it is no longer
// closed when leadership ends, unless it subscribes.
func (d *Door) markAware(c *resp.Conn, s *session) {
	if s.aware {
		return
	}
	s.aware = true
	if s.tenure != nil && s.subscriptions == 0 {
		d.tenures.unbind(c)
		s.tenure = nil
	}
}
