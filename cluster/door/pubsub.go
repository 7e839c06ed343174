package door

import (
	"strings"
	"sync"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Pub/sub runs on the leader (SPEC §5): PUBLISH delivers to the leader's
// subscribers; messages are not logged or replicated, as in Redis, where
// they are fire-and-forget. SUBSCRIBE and PUBLISH on a follower redirect.
// When this node stops leading it closes its subscribers' connections
// (tenure.go), so their clients reconnect and subscribe again at the new
// leader.

// pubsub is the leader's subscription registry.
type pubsub struct {
	mu       sync.Mutex
	channels map[string]map[*resp.Conn]struct{}
	patterns map[string]map[*resp.Conn]struct{}
	subs     map[*resp.Conn]*subscriber
}

// subscriber is one connection's subscriptions.
type subscriber struct {
	channels map[string]struct{}
	patterns map[string]struct{}
}

func (s *subscriber) count() int64 { return int64(len(s.channels) + len(s.patterns)) }

func newPubsub() *pubsub {
	return &pubsub{channels: map[string]map[*resp.Conn]struct{}{}, patterns: map[string]map[*resp.Conn]struct{}{},
		subs: map[*resp.Conn]*subscriber{}}
}

// change subscribes (on) or unsubscribes c from names (channels, or
// patterns if pattern) and returns one confirmation per name. With no
// names, unsubscribing removes them all.
func (p *pubsub) change(c *resp.Conn, names []string, on, pattern bool) (resp.Value, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.subs[c]
	if s == nil {
		s = &subscriber{channels: map[string]struct{}{}, patterns: map[string]struct{}{}}
		p.subs[c] = s
	}
	mine, index, kind := s.channels, p.channels, changeKind(on, pattern)
	if pattern {
		mine, index = s.patterns, p.patterns
	}
	if !on {
		if len(names) == 0 {
			for n := range mine {
				names = append(names, n)
			}
		}
	}
	var replies []resp.Value
	for _, n := range names {
		if on {
			mine[n] = struct{}{}
			if index[n] == nil {
				index[n] = map[*resp.Conn]struct{}{}
			}
			index[n][c] = struct{}{}
		} else {
			delete(mine, n)
			delete(index[n], c)
			if len(index[n]) == 0 {
				delete(index, n)
			}
		}
		replies = append(replies, resp.Array(resp.BulkString(kind), resp.BulkString(n), resp.Int(s.count())))
	}
	if len(replies) == 0 { // unsubscribe from nothing
		replies = append(replies, resp.Array(resp.BulkString(kind), resp.NullBulk(), resp.Int(s.count())))
	}
	left := s.count()
	if left == 0 {
		delete(p.subs, c)
	}
	return resp.Replies(replies...), left
}

// changeKind is the message kind that confirms a change, as Redis names it.
func changeKind(on, pattern bool) string {
	switch {
	case on && pattern:
		return "psubscribe"
	case on:
		return "subscribe"
	case pattern:
		return "punsubscribe"
	}
	return "unsubscribe"
}

// publish delivers message to the subscribers of channel and of matching
// patterns, and returns how many received it.
func (p *pubsub) publish(channel string, message resp.Value) int64 {
	p.mu.Lock()
	var to []*resp.Conn
	var msgs []resp.Value
	for c := range p.channels[channel] {
		to = append(to, c)
		msgs = append(msgs, resp.Array(resp.BulkString("message"), resp.BulkString(channel), message))
	}
	for pat, conns := range p.patterns {
		if !fsm.Glob([]byte(pat), []byte(channel)) {
			continue
		}
		for c := range conns {
			to = append(to, c)
			msgs = append(msgs, resp.Array(resp.BulkString("pmessage"), resp.BulkString(pat), resp.BulkString(channel), message))
		}
	}
	p.mu.Unlock()
	var n int64
	for i, c := range to {
		if c.Push(msgs[i]) {
			n++
		}
	}
	return n
}

// drop forgets every subscription of c (its connection closed).
func (p *pubsub) drop(c *resp.Conn) {
	p.change(c, nil, false, false)
	p.change(c, nil, false, true)
	p.mu.Lock()
	delete(p.subs, c)
	p.mu.Unlock()
}

func pubsubCommands() []Command {
	return []Command{
		// Local: subscribe itself sends a channel to the leader, or a
		// Sentinel event channel to this node (sentinel_events.go).
		{Name: "SUBSCRIBE", Kind: Local, Flags: Subscribed | Upstream, Arity: -2, Answer: subscribe(false)},
		{Name: "PSUBSCRIBE", Kind: Local, Flags: Subscribed | Upstream, Arity: -2, Answer: subscribe(true)},
		{Name: "UNSUBSCRIBE", Kind: Local, Flags: Subscribed, Arity: -1, Answer: unsubscribe(false)},
		{Name: "PUNSUBSCRIBE", Kind: Local, Flags: Subscribed, Arity: -1, Answer: unsubscribe(true)},
		{Name: "PUBLISH", Kind: Leader, Flags: Queued, Arity: 3, Answer: func(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
			return resp.Int(d.pubsub.publish(args[1].Text(), args[2]))
		}},
	}
}

func argTexts(args []resp.Value) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a.Text()
	}
	return out
}

// subscribe serves SUBSCRIBE (or PSUBSCRIBE, for patterns) on the leader;
// a SUBSCRIBE naming only Sentinel event channels on any node.
func subscribe(pattern bool) func(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	return func(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
		if !pattern && sentinelChannels(args[1:]) {
			return d.subscribeEvents(c, args) // each node's own events
		}
		lost := d.store.Leading()
		if lost == nil {
			return d.notLeading()
		}
		v, left := d.pubsub.change(c, argTexts(args[1:]), true, pattern)
		s := sessionOf(c)
		s.subscribed(c, left)
		s.tenure = lost
		d.tenures.bind(c, lost)
		return v
	}
}

// unsubscribe serves UNSUBSCRIBE (or PUNSUBSCRIBE), on any node.
func unsubscribe(pattern bool) func(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	return func(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
		v, left := d.pubsub.change(c, argTexts(args[1:]), false, pattern)
		sessionOf(c).subscribed(c, left)
		return v
	}
}

// subscribed records how many channels and patterns c is subscribed to;
// while any, the idle timeout spares it, as Redis spares subscribers.
func (s *session) subscribed(c *resp.Conn, left int64) {
	s.subscriptions = left
	c.SetIdleExempt(left > 0)
}

// errSubscribed refuses a command on a RESP2 connection in subscribe mode.
func errSubscribed(name string) resp.Value {
	return resp.Err("ERR Can't execute '" + strings.ToLower(name) +
		"': only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
}
