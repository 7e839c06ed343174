package cluster

import (
	"context"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// This file is what the front door gets from replication: Node implements
// door.Store.
var _ door.Store = (*Node)(nil)

// FSM returns the replicated state machine.
func (n *Node) FSM() *fsm.FSM { return n.fsm }

// Propose hands a write to the current term's proposer; on a node that
// does not lead, its Wait fails with NotLeading's error.
func (n *Node) Propose(client uint64, mode resp.Mode, args []resp.Value) door.Proposal {
	if err := n.disk.refusal(); err != nil {
		return &batchedWrite{n: n, b: &proposal{err: err}}
	}
	if t := n.lead.current(); t != nil {
		return t.proposer.propose(client, mode, args)
	}
	return &batchedWrite{n: n, b: &proposal{err: errNotSent}}
}

// ReadIndex starts a linearizable read through the current term's gate.
func (n *Node) ReadIndex() door.ReadIndex {
	if t := n.lead.current(); t != nil {
		return t.reads.read()
	}
	return failedRead{err: n.NotLeading()}
}

// Leading returns the channel that closes when this node's leadership
// ends, or nil while it does not lead.
func (n *Node) Leading() <-chan struct{} {
	if t := n.lead.current(); t != nil {
		return t.lost
	}
	return nil
}

// DialLeader opens a follower proxy's connection to the leader whose client
// address is leader, within ctx (door.Config.DialLeader; cmd wires it). It
// is plain TCP to that address unless the node runs RaftTLS; then it is
// mutual TLS, checked as Raft's is, to the TLS client listener the leader
// advertises in gossip (Member.TLSAddr). A leader that advertises none is
// not dialed in clear text: the error wraps door.ErrNoUpstream. The door
// calls it from a client connection's goroutine.
func (n *Node) DialLeader(ctx context.Context, leader string) (net.Conn, error) {
	addr, err := n.members.upstream(leader, n.cfg.RaftTLS != nil)
	if err != nil {
		return nil, err
	}
	if n.cfg.RaftTLS == nil {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	return n.cfg.RaftTLS.dialRelay(ctx, addr)
}

// Conns lists the client connections being served.
func (n *Node) Conns() []*resp.Conn { return n.server.Conns() }

// Status describes the node and its cluster.
func (n *Node) Status() door.Status {
	st := door.Status{ID: n.cfg.NodeID, ClientAddr: n.ClientAddr(), Started: n.started,
		Term: n.raft.CurrentTerm(), Applied: n.fsm.Applied(), LastIndex: n.raft.LastIndex(), Servers: n.servers(), Raft: n.raftInfo()}
	if n.server != nil {
		st.Accepted, st.Rejected = n.server.Counts()
	}
	for _, m := range n.members.list() {
		st.Members = append(st.Members, door.Member{ID: m.ID, Status: string(m.Status), ClientAddr: m.ClientAddr, RaftAddr: m.RaftAddr})
	}
	return st
}

// servers lists the Raft configuration, leader first, joined with gossip.
func (n *Node) servers() []door.Server {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	_, leader := n.raft.LeaderWithID()
	var out []door.Server
	for _, s := range f.Configuration().Servers {
		si := door.Server{ID: string(s.ID), RaftAddr: string(s.Address), Leader: s.ID == leader, Voter: s.Suffrage == raft.Voter}
		if m, ok := n.members.get(si.ID); ok {
			si.ClientAddr, si.Failed = m.ClientAddr, m.Status == StatusFailed
		}
		if pr, ok := n.trans.progress(s.ID); ok && s.ID != leader {
			si.Offset, si.Answered = pr.LastLog, pr.At
		}
		out = append(out, si)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Leader && !out[j].Leader })
	return out
}
func (n *Node) raftInfo() []string {
	st := n.raft.Stats()
	writes, entries := n.logs.writes.Load(), n.logs.entries.Load()
	perWrite := 0.0
	if writes > 0 {
		perWrite = float64(entries) / float64(writes)
	}
	batches, commands := n.batches.Load(), n.commands.Load()
	perBatch := 0.0
	if batches > 0 {
		perBatch = float64(commands) / float64(batches)
	}
	_, leader := n.raft.LeaderWithID()
	return append([]string{
		"raft_state:" + strings.ToLower(n.raft.State().String()),
		"raft_term:" + st["term"],
		"raft_leader_id:" + string(leader),
		"raft_commit_index:" + strconv.FormatUint(n.raft.CommitIndex(), 10),
		"raft_applied_index:" + strconv.FormatUint(n.fsm.Applied(), 10),
		"raft_last_log_index:" + st["last_log_index"],
		"raft_last_snapshot_index:" + st["last_snapshot_index"],
		"raft_last_snapshot_term:" + st["last_snapshot_term"],
		"raft_num_peers:" + st["num_peers"],
		"raft_log_writes:" + strconv.FormatUint(writes, 10),
		"raft_log_entries:" + strconv.FormatUint(entries, 10),
		"raft_log_reads:" + strconv.FormatUint(n.logs.reads.Load(), 10),
		"raft_entries_per_write:" + strconv.FormatFloat(perWrite, 'f', 2, 64),
		"raft_proposed_batches:" + strconv.FormatUint(batches, 10),
		"raft_proposed_commands:" + strconv.FormatUint(commands, 10),
		"raft_commands_per_batch:" + strconv.FormatFloat(perBatch, 'f', 2, 64),
	}, n.accountingInfo()...)
}
