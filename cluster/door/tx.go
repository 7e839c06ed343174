package door

import (
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Transactions: MULTI queues commands on the connection; EXEC sends them as
// one write, fsm's KVORUM.EXEC, which applies them all in one log entry, in
// order, with no other command in between. WATCH records each key's
// last-modified log index (KVORUM.MODS, read linearizably on the leader);
// KVORUM.EXEC carries those indexes and applies nothing if any key changed
// since, so WATCH is exact under replication: it is checked where the
// writes are applied, not where they were queued. Local commands that
// Redis also queues (PING, ECHO, SELECT: the Queued flag) are not logged:
// their replies depend only on their arguments, so this node answers them
// at EXEC and splices them into the logged replies.

func txCommands() []Command {
	return []Command{
		{Name: "MULTI", Kind: Local, Flags: InMulti | Upstream, Arity: 1, Answer: cmdMulti},
		{Name: "EXEC", Kind: Local, Flags: InMulti, Arity: 1, Run: func(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
			return exec(d, c, nil)
		}},
		{Name: "DISCARD", Kind: Local, Flags: InMulti, Arity: 1, Answer: cmdDiscard},
		{Name: "WATCH", Kind: Local, Flags: InMulti | Upstream, Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdWatch},
		{Name: "UNWATCH", Kind: Local, Flags: InMulti, Arity: 1, Answer: cmdUnwatch},
	}
}

// txState is a connection's open MULTI.
type txState struct {
	queued []queuedCmd
	failed bool // a queued command was refused: EXEC answers EXECABORT
	local  int  // how many of queued are Local commands
}

// queuedCmd is one command queued inside MULTI: a data command, sent in
// KVORUM.EXEC, or a Local one answered by this node at EXEC, in its place
// among the logged replies.
type queuedCmd struct {
	args []resp.Value
	cmd  *Command
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
	errNotInMulti  = resp.Err("ERR Command not allowed inside a transaction")
	queuedReply    = resp.Simple("QUEUED")
	errExecReplies = resp.Err("ERR EXEC answered fewer replies than commands queued")
)

// refuse answers v, an error for a request that cannot run; inside MULTI
// it also dooms the transaction (EXEC answers EXECABORT), as in Redis.
func (s *session) refuse(v resp.Value) resp.Reply {
	if s.tx != nil {
		s.tx.failed = true
	}
	return resp.Now(v)
}

// refuseCmd refuses cmd with v, as refuse does; a refused EXEC discards
// the transaction and says so, as Redis does, in or outside MULTI.
func (s *session) refuseCmd(cmd *Command, v resp.Value) resp.Reply {
	if cmd.Name != "EXEC" {
		return s.refuse(v)
	}
	s.tx, s.watched = nil, nil
	return resp.Now(resp.Err("EXECABORT Transaction discarded because of: " + v.Text()))
}

// queue queues a request inside MULTI.
func (s *session) queue(cmd *Command, args []resp.Value) resp.Reply {
	if cmd.Data == nil && !cmd.has(Queued) {
		return s.refuse(errNotInMulti)
	}
	s.tx.queued = append(s.tx.queued, queuedCmd{args: args, cmd: cmd})
	if cmd.Data == nil {
		s.tx.local++
	}
	return resp.Now(queuedReply)
}

func cmdMulti(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	s := sessionOf(c)
	if s.tx != nil {
		return errNestedMulti
	}
	s.tx = &txState{}
	return resp.OK()
}

func cmdDiscard(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	s := sessionOf(c)
	if s.tx == nil {
		return errDiscardNo
	}
	s.tx, s.watched = nil, nil
	return resp.OK()
}

func cmdUnwatch(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	sessionOf(c).watched = nil
	return resp.OK()
}

// cmdWatch reads the keys' modification indexes through the linearizable
// read path and records them on the connection.
func cmdWatch(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	s := sessionOf(c)
	if s.tx != nil {
		return resp.Now(errWatchInMult)
	}
	if d.lead(c, s) == nil {
		return resp.Now(d.notLeading())
	}
	req := append([]resp.Value{resp.BulkString(fsm.ModsCommand)}, args[1:]...)
	mods := &Command{Data: d.fsm.Table().Lookup([]byte(fsm.ModsCommand))}
	s.reads++
	inner := &readFuture{d: d, c: c, cmd: mods, args: req, mode: c.Mode(), ri: d.store.ReadIndex()}
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
// checks the WATCHed keys; with a session's stamp (KVORUM.SEQ id seq floor)
// the entry is wrapped in it, so a resent EXEC applies once. Queued Local
// commands are not logged: they are answered here once the entry is
// applied (execFuture).
func exec(d *Door, c *resp.Conn, stamp []resp.Value) resp.Reply {
	s := sessionOf(c)
	if s.tx == nil {
		return resp.Now(errExecNoMulti)
	}
	tx, watched := s.tx, s.watched
	s.tx, s.watched = nil, nil
	if tx.failed {
		return resp.Now(resp.ErrExecAbort.Value())
	}
	if d.lead(c, s) == nil {
		return resp.Now(d.notLeading())
	}
	pairs := make([]resp.Value, 0, 2*len(watched))
	for _, w := range watched {
		pairs = append(pairs, w.key, w.mod)
	}
	cmds := make([]resp.Value, 0, len(tx.queued)-tx.local)
	for _, q := range tx.queued {
		if q.cmd.Data != nil {
			cmds = append(cmds, resp.Array(q.args...))
		}
	}
	entry := append(stamp[:len(stamp):len(stamp)], resp.BulkString(fsm.ExecCommand), resp.Array(pairs...), resp.Array(cmds...))
	var f resp.Future
	if s.reads > 0 {
		f = &deferredWrite{d: d, c: c, args: entry}
	} else {
		f = d.propose(c, entry)
	}
	if tx.local == 0 {
		return resp.Later(f)
	}
	return resp.Later(&execFuture{d: d, c: c, logged: f, queued: tx.queued})
}

// execFuture is EXEC's reply when Local commands were queued: the logged
// replies with theirs spliced in, in queue order.
type execFuture struct {
	d      *Door
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
		if q.cmd.Data == nil {
			out[i] = q.cmd.Answer(e.d, e.c, q.args)
			continue
		}
		if len(logged) == 0 {
			return errExecReplies
		}
		out[i], logged = logged[0], logged[1:]
	}
	return resp.Array(out...)
}
