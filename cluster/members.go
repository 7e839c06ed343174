package cluster

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

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
	HasState   bool // had Raft state when it joined gossip: never part of a fresh bootstrap
	Leaving    bool // announced a graceful leave: its departure is a leave, not a failure
	// Items: it applies fsm.EntryItems log entries. Versions before them
	// do not say so, and a leader writes the older batch form while any
	// server lacks it (Node.configFlags).
	Items  bool
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
// [version, id, raft address, client address, flags]. Small (memberlist
// allows 512 bytes) and validated on receipt.
const (
	metaVersion  = 1
	metaHasState = 1
	metaLeaving  = 2
	metaItems    = 4 // applies fsm.EntryItems; older versions ignore the bit
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
	return resp.AppendValue(nil, resp.Array(resp.Int(metaVersion), resp.BulkString(m.ID),
		resp.BulkString(m.RaftAddr), resp.BulkString(m.ClientAddr), resp.Int(flags)))
}

var errBadMeta = errors.New("bad member metadata")

func decodeMeta(name string, b []byte) (Member, error) {
	rd := resp.NewReader(bytesReader(b), resp.Limits{MaxElements: 8, MaxDepth: 1, MaxBulk: 256, MaxInline: 256})
	v, err := rd.ReadValue()
	if err != nil {
		return Member{}, fmt.Errorf("%w from %s: %v", errBadMeta, name, err)
	}
	f := v.Elems()
	if v.Kind() != resp.KindArray || len(f) != 5 || f[0].Int() != metaVersion {
		return Member{}, fmt.Errorf("%w from %s: unknown format", errBadMeta, name)
	}
	m := Member{ID: f[1].Text(), RaftAddr: f[2].Text(), ClientAddr: f[3].Text(), HasState: f[4].Int()&metaHasState != 0,
		Leaving: f[4].Int()&metaLeaving != 0, Items: f[4].Int()&metaItems != 0}
	if m.ID != name || m.RaftAddr == "" || m.ClientAddr == "" {
		return Member{}, fmt.Errorf("%w from %s: id %q, raft %q, client %q", errBadMeta, name, m.ID, m.RaftAddr, m.ClientAddr)
	}
	return m, nil
}
