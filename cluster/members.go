package cluster

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/resp"
)

// Status is what gossip says of a member.
type Status string

// Member states.
const (
	StatusAlive  Status = "alive"
	StatusFailed Status = "failed" // stopped answering gossip probes
	StatusLeft   Status = "left"   // left gracefully
)

// Member is one node as gossip knows it.
type Member struct {
	ID         string
	RaftAddr   string
	ClientAddr string
	// TLSAddr is the TLS client listener's address that a follower
	// proxy dials under mutual TLS (Node.DialLeader). Only a node with
	// RaftTLS and a TLS listener advertises one; "" otherwise, and from
	// versions before it.
	TLSAddr  string
	HasState bool // had Raft state when it joined gossip: never part of a fresh bootstrap
	Leaving  bool // announced a graceful leave: its departure is a leave, not a failure
	// Items: it applies fsm.EntryItems log entries. Versions before them
	// do not say so, and a leader writes the older batch form while any
	// server lacks it (Node.configFlags).
	Items bool
	// Runs: it applies the run form of session writes in EntryItems
	// (fsm.ItemWriter); the same gate, for versions before it.
	Runs   bool
	Status Status
	Since  time.Time // when Status last changed
}

// registry is the node's view of gossip members. Memberlist callbacks
// update it under a mutex and never block.
type registry struct {
	mu sync.Mutex
	m  map[string]Member
}

func newRegistry() *registry { return &registry{m: make(map[string]Member)} }

func (r *registry) upsert(m Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.m[m.ID]; ok && old.Status == m.Status {
		m.Since = old.Since
	} else {
		m.Since = time.Now()
	}
	r.m[m.ID] = m
}

func (r *registry) setStatus(id string, s Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.m[id]; ok && m.Status != s {
		m.Status, m.Since = s, time.Now()
		r.m[id] = m
	}
}

func (r *registry) get(id string) (Member, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.m[id]
	return m, ok
}

// byClient returns the member whose client address is addr.
func (r *registry) byClient(addr string) (Member, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.m {
		if m.ClientAddr == addr {
			return m, true
		}
	}
	return Member{}, false
}

// upstream returns the address a follower proxy dials for the leader whose
// client address is leader: that address itself in clear text, or with
// mutualTLS the TLS address the leader advertises. A leader that
// advertises none is not dialed in clear text instead: the error wraps
// door.ErrNoUpstream.
func (r *registry) upstream(leader string, mutualTLS bool) (string, error) {
	if !mutualTLS {
		return leader, nil
	}
	m, ok := r.byClient(leader)
	switch {
	case !ok:
		return "", fmt.Errorf("no gossip member has the leader's client address %s", leader)
	case m.TLSAddr == "":
		return "", fmt.Errorf("leader %s (%s) advertises no TLS client address (it runs without --tls-listen, or a version before it), "+
			"and under --tls-cluster clients are not relayed in clear text: %w", m.ID, leader, door.ErrNoUpstream)
	}
	return m.TLSAddr, nil
}

// list returns the members sorted by id.
func (r *registry) list() []Member {
	r.mu.Lock()
	out := make([]Member, 0, len(r.m))
	for _, m := range r.m {
		out = append(out, m)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Gossip metadata, carried by memberlist for every member: a RESP array
// [version, id, raft address, client address, flags] and, only when the
// member has one, its TLS address as a sixth element. Small (memberlist
// allows 512 bytes) and validated on receipt.
//
// Compatibility: versions before the TLS address decode exactly five
// elements and ignore a member with more, so a node sends the sixth only
// when it has a TLS address to advertise (with --tls-cluster and
// --tls-listen), and its metadata stays what older nodes read otherwise.
// This version reads five or more and ignores elements after the ones it
// knows, so a field added later reaches it without breaking it.
const (
	metaVersion  = 1
	metaHasState = 1
	metaLeaving  = 2
	metaItems    = 4 // applies fsm.EntryItems; older versions ignore the bit
	metaRuns     = 8 // applies fsm.ItemWriter's run form; older versions ignore the bit
)

func encodeMeta(m Member) []byte {
	var flags int64
	if m.HasState {
		flags |= metaHasState
	}
	if m.Leaving {
		flags |= metaLeaving
	}
	if m.Items {
		flags |= metaItems
	}
	if m.Runs {
		flags |= metaRuns
	}
	f := []resp.Value{resp.Int(metaVersion), resp.BulkString(m.ID), resp.BulkString(m.RaftAddr),
		resp.BulkString(m.ClientAddr), resp.Int(flags)}
	if m.TLSAddr != "" {
		f = append(f, resp.BulkString(m.TLSAddr))
	}
	return resp.AppendValue(nil, resp.Array(f...))
}

var errBadMeta = errors.New("bad member metadata")

func decodeMeta(name string, b []byte) (Member, error) {
	rd := resp.NewReader(bytesReader(b), resp.Limits{MaxElements: 8, MaxDepth: 1, MaxBulk: 256, MaxInline: 256})
	v, err := rd.ReadValue()
	if err != nil {
		return Member{}, fmt.Errorf("%w from %s: %v", errBadMeta, name, err)
	}
	f := v.Elems()
	if v.Kind() != resp.KindArray || len(f) < 5 || f[0].Int() != metaVersion {
		return Member{}, fmt.Errorf("%w from %s: unknown format", errBadMeta, name)
	}
	m := Member{ID: f[1].Text(), RaftAddr: f[2].Text(), ClientAddr: f[3].Text(), HasState: f[4].Int()&metaHasState != 0,
		Leaving: f[4].Int()&metaLeaving != 0, Items: f[4].Int()&metaItems != 0, Runs: f[4].Int()&metaRuns != 0}
	if len(f) > 5 {
		m.TLSAddr = f[5].Text()
	}
	if m.ID != name || m.RaftAddr == "" || m.ClientAddr == "" {
		return Member{}, fmt.Errorf("%w from %s: id %q, raft %q, client %q", errBadMeta, name, m.ID, m.RaftAddr, m.ClientAddr)
	}
	return m, nil
}
