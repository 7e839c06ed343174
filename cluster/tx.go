package cluster

import (
	"strings"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Transactions: MULTI queues commands on the connection; EXEC sends them as
// one write, fsm's KVORUM.EXEC, which applies them all in one log entry, in
// order, with no other command in between. WATCH records each key's
// last-modified log index (KVORUM.MODS, read linearizably on the leader);
// KVORUM.EXEC carries those indexes and applies nothing if any key changed
// since, so WATCH is exact under replication: it is checked where the
// writes are applied, not where they were queued. Connection commands that
// Redis also queues (PING, ECHO, SELECT: adminCommand.multi) are not
// logged: their replies depend only on their arguments, so this node
// answers them at EXEC and splices them into the logged replies.

// txState is a connection's open MULTI.
type txState struct {
	queued []queuedCmd
	failed bool // a queued command was refused: EXEC answers EXECABORT
	local  int  // how many of queued are connection commands
}

// queuedCmd is one command queued inside MULTI: a data command, sent in
// KVORUM.EXEC, or a connection command (adminCommand.multi), answered by
// this node at EXEC, in its place among the logged replies.
type queuedCmd struct {
	args  []resp.Value
	local *adminCommand // nil for a data command
}

// watch is one WATCHed key and the modification index it had.
type watch struct {
	key resp.Value
	mod resp.Value
}

var (
	errNestedMulti = resp.Err("ERR MULTI calls can not be nested")
	errExecNoMulti = resp.Err("ERR EXEC without MULTI")
	errDiscardNo   = resp.Err("ERR DISCARD without MULTI")
	errWatchInMult = resp.Err("ERR WATCH inside MULTI is not allowed")
	errExecAbort   = resp.Err("EXECABORT Transaction discarded because of previous errors.")
	queuedReply    = resp.Simple("QUEUED")
	errExecReplies = resp.Err("ERR EXEC answered fewer replies than commands queued")
)

// serveTx handles the transaction commands and commands queued inside
// MULTI. It reports false for a command it does not handle.
func (n *Node) serveTx(c *resp.Conn, name []byte, args []resp.Value) (resp.Reply, bool) {
	s := sessionOf(c)
	if s.tx == nil && !mayBeTx(name) {
		return resp.Reply{}, false // the hot path: no allocation, no map
	}
	switch strings.ToUpper(string(name)) {
	case "MULTI":
		if s.tx != nil {
			return resp.Now(errNestedMulti), true
		}
		s.tx = &txState{}
		return resp.Now(resp.OK()), true
	case "DISCARD":
		if s.tx == nil {
			return resp.Now(errDiscardNo), true
		}
		s.tx, s.watched = nil, nil
		return resp.Now(resp.OK()), true
	case "UNWATCH":
		s.watched = nil
		return resp.Now(resp.OK()), true
	case "WATCH":
		if s.tx != nil {
			return resp.Now(errWatchInMult), true
		}
		if len(args) < 2 {
			return resp.Now(fsm.WrongArity("watch")), true
		}
		return n.watch(c, s, args), true
	case "EXEC":
		if s.tx == nil {
			return resp.Now(errExecNoMulti), true
		}
		tx, watched := s.tx, s.watched
		s.tx, s.watched = nil, nil
		if tx.failed {
			return resp.Now(errExecAbort), true
		}
		return n.exec(c, s, tx, watched), true
	}
	if s.tx == nil {
		return resp.Reply{}, false
	}
	// Inside MULTI: check and queue.
	if a, ok := n.lookupAdmin(name); ok && a.multi {
		if a.arity != 0 && !arityOK(a.arity, len(args)) {
			s.tx.failed = true
			return resp.Now(fsm.WrongArity(a.name)), true
		}
		s.tx.queued = append(s.tx.queued, queuedCmd{args: args, local: &a})
		s.tx.local++
		return resp.Now(queuedReply), true
	}
	cmd := n.fsm.Table().Lookup(name)
	if cmd == nil {
		s.tx.failed = true
		return resp.Now(fsm.UnknownCommand(name)), true
	}
	if v, ok := cmd.CheckArity(args); !ok {
		s.tx.failed = true
		return resp.Now(v), true
	}
	s.tx.queued = append(s.tx.queued, queuedCmd{args: args})
	return resp.Now(queuedReply), true
}

// mayBeTx is a cheap first look for the five transaction commands.
func mayBeTx(name []byte) bool {
	if len(name) < 4 || len(name) > 7 {
		return false
	}
	switch name[0] | 0x20 {
	case 'm', 'e', 'd', 'w', 'u':
		return true
	}
	return false
}

// watch reads the keys' modification indexes through the linearizable read
// path and records them on the connection.
func (n *Node) watch(c *resp.Conn, s *session, args []resp.Value) resp.Reply {
	cmd := n.fsm.Table().Lookup([]byte(fsm.ModsCommand))
	if !n.IsLeader() {
		return resp.Now(n.redirect().Value())
	}
	req := append([]resp.Value{resp.BulkString(fsm.ModsCommand)}, args[1:]...)
	s.reads++
	inner := n.reads.read(c, cmd, req)
	return resp.Later(&watchFuture{inner: inner, s: s, keys: args[1:]})
}

type watchFuture struct {
	inner resp.Future
	s     *session
	keys  []resp.Value
}

func (w *watchFuture) Wait() resp.Value {
	v := w.inner.Wait()
	if v.IsError() {
		return v
	}
	mods := v.Elems()
	for i, k := range w.keys {
		if i < len(mods) {
			w.s.watched = append(w.s.watched, watch{key: k, mod: mods[i]})
		}
	}
	return resp.OK()
}

// exec sends the queued data commands as one KVORUM.EXEC write, which also
// checks the WATCHed keys. Queued connection commands are not logged: they
// are answered here once the entry is applied (execFuture).
func (n *Node) exec(c *resp.Conn, s *session, tx *txState, watched []watch) resp.Reply {
	if !n.IsLeader() {
		return resp.Now(n.redirect().Value())
	}
	pairs := make([]resp.Value, 0, 2*len(watched))
	for _, w := range watched {
		pairs = append(pairs, w.key, w.mod)
	}
	cmds := make([]resp.Value, 0, len(tx.queued)-tx.local)
	for _, q := range tx.queued {
		if q.local == nil {
			cmds = append(cmds, resp.Array(q.args...))
		}
	}
	args := []resp.Value{resp.BulkString(fsm.ExecCommand), resp.Array(pairs...), resp.Array(cmds...)}
	var f resp.Future
	if s.reads > 0 {
		f = &deferredWrite{n: n, c: c, args: args}
	} else {
		f = n.propose(c, args)
	}
	if tx.local == 0 {
		return resp.Later(f)
	}
	return resp.Later(&execFuture{n: n, c: c, logged: f, queued: tx.queued})
}

// execFuture is EXEC's reply when connection commands were queued: the
// logged replies with theirs spliced in, in queue order.
type execFuture struct {
	n      *Node
	c      *resp.Conn
	logged resp.Future // KVORUM.EXEC's reply: the data commands' replies
	queued []queuedCmd
}

func (e *execFuture) Wait() resp.Value {
	v := e.logged.Wait()
	if v.Kind() != resp.KindArray || v.IsNull() {
		return v // an error, or a WATCHed key changed: nothing ran
	}
	logged := v.Elems()
	out := make([]resp.Value, len(e.queued))
	for i, q := range e.queued {
		if q.local != nil {
			out[i] = q.local.run(e.n, e.c, q.args)
			continue
		}
		if len(logged) == 0 {
			return errExecReplies
		}
		out[i], logged = logged[0], logged[1:]
	}
	return resp.Array(out...)
}
