package door

import (
	"errors"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// write proposes a write on the leader. The proposal is not waited for
// here: the future resolves when the entry holding it is applied, so the
// writes of every connection share log entries and disk writes.
func (d *Door) write(c *resp.Conn, s *session, stats *cmdStats, args []resp.Value) resp.Reply {
	if d.lead(c, s) == nil {
		return resp.Now(d.notLeading())
	}
	if s.reads > 0 {
		return resp.Later(&deferredWrite{d: d, c: c, args: args, stats: stats, start: time.Now()})
	}
	f := d.propose(c, args)
	f.stats, f.start = stats, time.Now()
	return resp.Later(f)
}

// propose hands c's write args to the log and returns the future of its
// reply.
func (d *Door) propose(c *resp.Conn, args []resp.Value) *writeFuture {
	return &writeFuture{d: d, p: d.store.Propose(c.ID(), c.Mode(), args)}
}

// writeFuture is one write's reply. It resolves once the write is applied
// and the blocked pops its entry woke have made their attempts
// (blocking.go), so its client never reads a state in between.
type writeFuture struct {
	d     *Door
	p     Proposal
	stats *cmdStats // the command's, to count an error reply; nil for kvorum's own writes
	start time.Time // a client's write: when it arrived, for the latency histogram
}

func (w *writeFuture) Wait() resp.Value {
	v, index, err := w.p.Wait()
	if err != nil {
		v = errorValue(err)
	} else if wk := w.d.waiters.claim(index); wk != nil {
		wk.wait(w.d.cfg.WakeTimeout)
	}
	w.stats.countReply(v)
	if !w.start.IsZero() {
		w.d.stats.writes.observe(time.Since(w.start))
	}
	return v
}

// deferredWrite is a write queued behind a read of the same pipeline: it is
// proposed only when its turn comes, after that read has run.
type deferredWrite struct {
	d     *Door
	c     *resp.Conn
	args  []resp.Value
	stats *cmdStats // as writeFuture's
	start time.Time // as writeFuture's
}

func (w *deferredWrite) Wait() resp.Value {
	if w.c.Context().Err() != nil {
		// The client is gone: do not start a write it can no longer see.
		return resp.TryAgain("connection closed; the write was not applied").Value()
	}
	if w.d.store.Leading() == nil {
		v := w.d.notLeading()
		w.stats.countReply(v)
		return v
	}
	f := w.d.propose(w.c, w.args)
	f.stats, f.start = w.stats, w.start
	return f.Wait()
}

// errorValue is the reply for an error from the store: its own wire text
// for the named errors and redirects (resp), UNCERTAIN for anything else,
// since a write that failed for an unknown reason may have been applied.
func errorValue(err error) resp.Value {
	var re *resp.RedirectError
	if errors.As(err, &re) {
		return re.Value()
	}
	var ne *resp.Error
	if errors.As(err, &ne) {
		return ne.Value()
	}
	return resp.Uncertain("failed: " + err.Error()).Value()
}
