package cluster

import (
	"errors"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/resp"
)

// A node that cannot serve a leader's command says why in the front door's
// terms (resp's named errors), so that a client knows where to go and
// whether a retry is safe.

// NotLeading names the leader's client address (*resp.RedirectError), or
// says none is known (resp.ErrNoLeader), or that this node is still
// becoming leader (resp.ErrTryAgain).
func (n *Node) NotLeading() error {
	_, id := n.raft.LeaderWithID()
	switch {
	case id == "":
		return resp.ErrNoLeader
	case string(id) == n.cfg.NodeID:
		return resp.TryAgain("this node is becoming leader; retry")
	}
	if m, ok := n.members.get(string(id)); ok && m.ClientAddr != "" {
		return &resp.RedirectError{Leader: m.ClientAddr}
	}
	return resp.ErrNoLeader
}

// writeError translates raft's error for a write into the named errors
// the front door answers with (resp), which say whether a retry is safe.
func (n *Node) writeError(err error) error {
	var named *resp.Error
	switch {
	case errors.As(err, &named):
		return err // kvorum's own refusal (MISCONF): its text is the reply
	case errors.Is(err, errNotSent), errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		// Refused before it entered the log: safe to send to the leader.
		return n.NotLeading()
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return resp.TryAgain("the write was not accepted in time; it was not applied")
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown):
		return resp.Uncertain("leadership changed while the write was in flight; it may or may not have been applied")
	}
	return resp.Uncertain("write failed: " + err.Error())
}

// errNotSent fails a write that never entered the log: the term ended (or
// the node stopped) before it was sent, so it is safe to send elsewhere.
var errNotSent = errors.New("the write was not sent: leadership ended first")
