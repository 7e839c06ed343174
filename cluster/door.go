package cluster

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// session is the front door's per-connection state.
type session struct {
	readonly bool     // READONLY: serve reads from this node's state even on a follower
	tx       *txState // open MULTI, nil outside one (tx.go)
	watched  []watch  // WATCHed keys with their modification indexes
	// subscriptions counts the channels and patterns subscribed (pubsub.go).
	subscriptions int64
	// reads counts this connection's leader reads handed out but not yet
	// executed. A read runs when its turn comes in the pipeline, so a write
	// behind it must not enter the log before then, or the read would see it.
	reads int
}

func sessionOf(c *resp.Conn) *session {
	s, _ := c.Session.(*session)
	if s == nil {
		s = &session{}
		c.Session = s
	}
	return s
}

// Serve is the front door (resp.Handler): it routes one request. Admin and
// connection commands are answered here; data commands go to Raft on the
// leader (writes) or through the read gate (reads); a follower redirects.
func (n *Node) Serve(c *resp.Conn, args []resp.Value) resp.Reply {
	name := args[0].Bytes()
	if args[0].Kind() != resp.KindBulk && args[0].Kind() != resp.KindSimple {
		name = []byte(args[0].Text())
	}
	if r, ok := n.servePubsub(c, name, args); ok {
		return r
	}
	if r, ok := n.serveTx(c, name, args); ok {
		return r
	}
	if a, ok := n.lookupAdmin(name); ok {
		if a.arity != 0 && !arityOK(a.arity, len(args)) {
			return resp.Now(fsm.WrongArity(a.name))
		}
		return resp.Now(a.run(n, c, args))
	}
	cmd := n.fsm.Table().Lookup(name)
	if cmd == nil {
		return resp.Now(fsm.UnknownCommand(name))
	}
	if v, ok := cmd.CheckArity(args); !ok {
		return resp.Now(v)
	}
	if n.raft.State() != raft.Leader {
		if !cmd.IsWrite() && sessionOf(c).readonly {
			return resp.Now(n.fsm.Read(cmd, args, time.Now().UnixMilli(), c.Mode()))
		}
		return resp.Now(n.redirect().Value())
	}
	s := sessionOf(c)
	if cmd.IsBlocking() {
		// Answered at its turn (it proposes then), like a read: later
		// writes of the pipeline wait for it.
		return n.block(c, cmd, args)
	}
	if cmd.IsWrite() {
		if s.reads > 0 {
			return resp.Later(&deferredWrite{n: n, c: c, args: args})
		}
		return resp.Later(n.propose(c, args))
	}
	s.reads++
	return resp.Later(n.reads.read(c, cmd, args))
}

func arityOK(arity, n int) bool {
	return (arity > 0 && n == arity) || (arity < 0 && n >= -arity)
}

// propose hands a write to the proposer without waiting: the returned
// future resolves when the batch entry holding it is committed and applied,
// so the writes of every connection share log entries and disk writes.
func (n *Node) propose(c *resp.Conn, args []resp.Value) resp.Future {
	return n.proposer.propose(c.Mode(), args)
}

// deferredWrite is a write queued behind a read of the same pipeline: it is
// proposed only when its turn comes, after that read has run.
type deferredWrite struct {
	n    *Node
	c    *resp.Conn
	args []resp.Value
}

func (d *deferredWrite) Wait() resp.Value {
	if d.c.Context().Err() != nil {
		// The client is gone: do not start a write it can no longer see.
		return resp.Err(resp.CodeTryAgain + " connection closed; the write was not applied")
	}
	if !d.n.IsLeader() {
		return d.n.redirect().Value()
	}
	return d.n.propose(d.c, d.args).Wait()
}

var errNoReply = errors.New("state machine returned no reply for the write")

// writeError translates raft's errors for a write into replies that tell
// the client whether a retry is safe.
func (n *Node) writeError(err error) resp.Value {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		// Refused before it entered the log: safe to send to the leader.
		return n.redirect().Value()
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return resp.Err(resp.CodeTryAgain + " the write was not accepted in time; it was not applied")
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown):
		return resp.Err(resp.CodeUncertain + " leadership changed while the write was in flight; it may or may not have been applied")
	}
	return resp.Err(resp.CodeUncertain + " write failed: " + err.Error())
}

// redirect names the leader's client address, or says none is known.
func (n *Node) redirect() *resp.RedirectError {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return resp.ErrNoLeader
	}
	if m, ok := n.members.get(string(id)); ok && m.ClientAddr != "" {
		return &resp.RedirectError{Leader: m.ClientAddr}
	}
	return resp.ErrNoLeader
}
