package cluster

import (
	"context"
	"sort"
	"time"

	"github.com/hashicorp/raft"
)

// bootstrapLoop waits until BootstrapExpect members without Raft state see
// each other, then bootstraps them all as one configuration. Every such
// node computes the same configuration from the same members (sorted by
// id), which raft accepts on each of them, so exactly one cluster forms. If
// any member already has state, a cluster exists: this node waits to be
// added by its leader instead. Only members that pass admission count, so
// a stranger on the gossip port cannot be bootstrapped as a voter either.
func (n *Node) bootstrapLoop(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	adm := newAdmission(n)
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.changed:
		case <-tick.C:
		}
		if has, _ := raft.HasExistingState(n.logs, n.logs, n.snaps); has {
			return
		}
		var servers []raft.Server
		existing := false
		for _, m := range n.members.list() {
			if m.Status != StatusAlive || !adm.admit(ctx, m) {
				continue
			}
			if m.HasState {
				existing = true
			}
			servers = append(servers, raft.Server{ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RaftAddr)})
		}
		if existing {
			n.log.Info("a member already has raft state; waiting to be added by its leader")
			return
		}
		if len(servers) < n.cfg.BootstrapExpect {
			continue
		}
		sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
		n.log.Info("bootstrapping cluster", "servers", len(servers))
		if err := n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
			n.log.Warn("bootstrap", "err", err)
		}
		return
	}
}

// reconcileLoop runs only on the leader (office.establish starts it and
// office.revoke stops it).
// It diffs gossip members against the Raft configuration on every
// membership event and on a ticker: alive members missing from the
// configuration are added as voters once they pass admission; members
// that left gracefully are removed; failed members are removed once failed
// for ReapAfter. It never removes this node and removes at most one server
// per pass.
//
// After every pass it records in the tenure whether this node is the only
// voter (the flag that lets reads skip the quorum round) and whether every
// server applies fsm.EntryItems (the proposer's choice of batch form).
func (n *Node) reconcileLoop(t *tenure) func(context.Context) {
	return func(ctx context.Context) {
		tick := time.NewTicker(n.cfg.ReconcileInterval)
		defer tick.Stop()
		adm := newAdmission(n)
		for {
			if n.gossip != nil {
				n.reconcile(ctx, adm)
				t.setFlags(n)
			}
			select {
			case <-ctx.Done():
				return
			case <-n.changed:
			case <-tick.C:
			}
		}
	}
}

func (n *Node) reconcile(ctx context.Context, adm *admission) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		n.log.Warn("reconcile: read configuration", "err", err)
		return
	}
	inConfig := make(map[string]raft.Server)
	addrOwner := make(map[string]string) // Raft address -> the id holding it
	for _, s := range f.Configuration().Servers {
		inConfig[string(s.ID)] = s
		addrOwner[string(s.Address)] = string(s.ID)
	}
	members := n.members.list()
	for _, m := range members {
		s, ok := inConfig[m.ID]
		if m.Status != StatusAlive || (ok && string(s.Address) == m.RaftAddr && s.Suffrage == raft.Voter) {
			continue
		}
		if owner, taken := addrOwner[m.RaftAddr]; taken && owner != m.ID {
			// Another server's address under a new id: Raft would refuse
			// it, and the pass would stop there, keeping others waiting.
			n.log.Debug("reconcile: not adding a member that claims another server's raft address",
				"member", m.ID, "raft", m.RaftAddr, "server", owner)
			continue
		}
		if !adm.admit(ctx, m) {
			continue
		}
		n.log.Info("reconcile: adding voter", "member", m.ID, "raft", m.RaftAddr)
		if err := n.raft.AddVoter(raft.ServerID(m.ID), raft.ServerAddress(m.RaftAddr), 0, n.cfg.ApplyTimeout).Error(); err != nil {
			n.log.Warn("reconcile: add voter", "member", m.ID, "err", err)
			return
		}
	}
	for _, m := range members {
		if _, ok := inConfig[m.ID]; !ok || m.ID == n.cfg.NodeID {
			continue
		}
		reap := m.Status == StatusLeft ||
			(m.Status == StatusFailed && n.cfg.ReapAfter > 0 && time.Since(m.Since) >= n.cfg.ReapAfter)
		if !reap {
			continue
		}
		n.log.Info("reconcile: removing server", "member", m.ID, "status", m.Status)
		if err := n.raft.RemoveServer(raft.ServerID(m.ID), 0, n.cfg.ApplyTimeout).Error(); err != nil {
			n.log.Warn("reconcile: remove server", "member", m.ID, "err", err)
		}
		return // one removal per pass
	}
}

// proofTimeout bounds one admission probe (dial and handshake), so an
// unreachable member delays a reconcile pass by at most this long.
const proofTimeout = 5 * time.Second

// admission decides whether a gossip member may become a Raft voter: it
// must prove it holds the cluster's secret.
//
//   - With Config.RaftTLS the leader dials the member's Raft address and
//     completes a mutual TLS handshake within proofTimeout (RaftTLS.probe):
//     the member's certificate chains to the cluster CA, and the member
//     accepts this node's.
//   - With Config.GossipKeys alone, being a member is the proof: memberlist
//     hears no one without the key.
//   - With neither, every member is admitted: anyone who reaches the
//     gossip port can join (docs/security.md).
//
// A refused member is warned about once, and again only if it comes back
// at another Raft address, not on every pass. An admission belongs to the
// one loop goroutine that made it (the bootstrap loop, or one tenure's
// reconcile loop: a new leader warns afresh).
type admission struct {
	n      *Node
	warned map[string]string // refused member id -> the Raft address it failed at
}

func newAdmission(n *Node) *admission {
	return &admission{n: n, warned: make(map[string]string)}
}

// admit reports whether m may become a voter; this node always may.
func (a *admission) admit(ctx context.Context, m Member) bool {
	tlsCfg := a.n.cfg.RaftTLS
	if tlsCfg == nil || m.ID == a.n.cfg.NodeID {
		return true
	}
	pctx, cancel := context.WithTimeout(ctx, proofTimeout)
	defer cancel()
	err := tlsCfg.probe(pctx, m.RaftAddr)
	switch {
	case err == nil:
		delete(a.warned, m.ID)
		return true
	case ctx.Err() != nil: // the loop is stopping: no verdict on m
		return false
	}
	if a.warned[m.ID] != m.RaftAddr {
		a.warned[m.ID] = m.RaftAddr
		a.n.log.Warn("member not admitted as a Raft voter: no mutual TLS handshake with a certificate from the cluster CA at its Raft address",
			"member", m.ID, "raft", m.RaftAddr, "err", err)
	}
	return false
}
