package door

import (
	"time"

	"github.com/kvorum/kvorum/resp"
)

// read serves a read: on the leader after a linearizable read barrier that
// concurrent reads share; on a follower in READONLY mode from its own,
// possibly stale, state; otherwise it redirects.
func (d *Door) read(c *resp.Conn, s *session, cmd *Command, args []resp.Value) resp.Reply {
	if d.lead(c, s) == nil {
		if s.readonly {
			return resp.Now(d.fsm.Read(cmd.Data, args, time.Now().UnixMilli(), c.Mode()))
		}
		return resp.Now(d.notLeading())
	}
	s.reads++
	return resp.Later(&readFuture{d: d, c: c, cmd: cmd, args: args, mode: c.Mode(), ri: d.store.ReadIndex(), start: time.Now()})
}

// readFuture runs a read once its barrier is passed. It runs on the
// connection's goroutine in request order, so a read after a write in the
// same pipeline sees that write.
type readFuture struct {
	d     *Door
	c     *resp.Conn
	cmd   *Command
	args  []resp.Value
	mode  resp.Mode
	ri    ReadIndex
	start time.Time // a client's read: when it arrived, for the latency histogram
}

func (f *readFuture) Wait() resp.Value {
	sessionOf(f.c).reads--
	var v resp.Value
	if err := f.ri.Wait(f.c.Context()); err != nil {
		v = errorValue(err)
	} else {
		v = f.d.fsm.Read(f.cmd.Data, f.args, time.Now().UnixMilli(), f.mode)
	}
	f.cmd.stats.countReply(v)
	if !f.start.IsZero() {
		f.d.stats.reads.observe(time.Since(f.start))
	}
	return v
}
