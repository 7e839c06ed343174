package cluster

import (
	"strings"
	"sync"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Pub/sub runs on the leader (SPEC §5): PUBLISH delivers to the leader's
// subscribers; messages are not logged or replicated, as in Redis, where
// they are fire-and-forget. SUBSCRIBE and PUBLISH on a follower redirect.
// When this node stops leading it closes its subscribers' connections, so
// their clients reconnect and subscribe again at the new leader.

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

// closeAll closes every subscriber's connection (leadership lost).
func (p *pubsub) closeAll() {
	p.mu.Lock()
	conns := make([]*resp.Conn, 0, len(p.subs))
	for c := range p.subs {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// ConnClosed drops a closed connection's subscriptions (resp.ConnCloser).
func (n *Node) ConnClosed(c *resp.Conn) { n.pubsub.drop(c) }

// servePubsub handles the pub/sub commands and subscribe mode's
// restrictions. It reports false for other commands outside subscribe mode.
func (n *Node) servePubsub(c *resp.Conn, name []byte, args []resp.Value) (resp.Reply, bool) {
	sess := sessionOf(c)
	if sess.subscriptions == 0 && !mayBePubsub(name) {
		return resp.Reply{}, false // the hot path: a map-free look at the name
	}
	upper := strings.ToUpper(string(name))
	names := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		names = append(names, a.Text())
	}
	switch upper {
	case "SUBSCRIBE", "PSUBSCRIBE":
		if len(args) < 2 {
			return resp.Now(fsm.WrongArity(upper)), true
		}
		if !n.IsLeader() {
			return resp.Now(n.redirect().Value()), true
		}
		v, left := n.pubsub.change(c, names, true, upper == "PSUBSCRIBE")
		sess.subscriptions = left
		return resp.Now(v), true
	case "UNSUBSCRIBE", "PUNSUBSCRIBE":
		v, left := n.pubsub.change(c, names, false, upper == "PUNSUBSCRIBE")
		sess.subscriptions = left
		return resp.Now(v), true
	case "PUBLISH":
		if len(args) != 3 {
			return resp.Now(fsm.WrongArity("publish")), true
		}
		if !n.IsLeader() {
			return resp.Now(n.redirect().Value()), true
		}
		return resp.Now(resp.Int(n.pubsub.publish(args[1].Text(), args[2]))), true
	case "PING", "QUIT", "RESET":
		if upper == "PING" && c.Mode() != resp.RESP3 && sess.subscriptions > 0 {
			msg := resp.BulkString("")
			if len(args) > 1 {
				msg = resp.BulkString(args[1].Text())
			}
			return resp.Now(resp.Array(resp.BulkString("pong"), msg)), true
		}
		return resp.Reply{}, false
	}
	if c.Mode() == resp.RESP3 || sess.subscriptions == 0 {
		return resp.Reply{}, false
	}
	return resp.Now(resp.Err("ERR Can't execute '" + strings.ToLower(upper) +
		"': only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")), true
}

// mayBePubsub is a cheap first look for the pub/sub command names.
func mayBePubsub(name []byte) bool {
	if len(name) < 7 || len(name) > 12 {
		return false
	}
	switch name[0] | 0x20 {
	case 's', 'p', 'u':
		return true
	}
	return false
}
