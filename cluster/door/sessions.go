package door

import (
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Client sessions (fsm/sessions.go) make a resent write apply once: a
// client wraps each write as KVORUM.SEQ id seq floor command args..., and
// the state machine answers a repeated (id, seq) with the first reply. The
// door routes the wrapped request by the command inside it: a write, or
// each attempt of a blocking pop, is proposed wrapped; EXEC proposes its
// entry wrapped (one seq for the transaction); anything else has nothing
// to deduplicate and is served as if it came bare. KVORUM.SESSION OPEN and
// CLOSE are ordinary writes.

func sessionCommands() []Command {
	return []Command{
		{Name: fsm.SeqCommand, Kind: Local, Flags: InMulti | Aware, Arity: -5, Run: cmdSeq},
	}
}

var errSeqStamp = resp.Err("ERR KVORUM.SEQ needs a session id, a seq > 0 and a floor")

func cmdSeq(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	s := sessionOf(c)
	for _, a := range args[1:4] {
		if n, ok := resp.ParseInt(a.TextBytes()); !ok || n < 0 || !a.IsScalar() {
			return s.refuse(errSeqStamp)
		}
	}
	inner := args[4:]
	cmd, refused, ok := d.check(s, inner)
	if !ok {
		return refused
	}
	switch {
	case cmd.Name == "EXEC":
		return exec(d, c, args[:4])
	case s.tx != nil && !cmd.has(InMulti):
		return s.queue(cmd, inner) // the EXEC carries the transaction's seq
	case cmd.Kind == Write:
		return d.write(c, s, d.seqStats, args)
	case cmd.Kind == Blocking:
		return d.block(c, cmd.Data, inner, args)
	}
	return d.route(c, s, cmd, inner)
}
