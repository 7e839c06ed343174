package client

import (
	"context"
	"math/rand/v2"
	"time"
)

// process drives cmds until each has a final reply or error: the redirect
// and retry loop, after go-redis's cluster client. Each round binds the
// unbound writes to the write session (session.go; unless sessions are
// off) and sends the commands still pending, in their original order, to
// one node (see round for how each reply or failure is settled):
//
//   - -MOVED names the leader: remember it and resend there at once (after
//     MaxRedirects in a row, pause as for a retry);
//   - a refused, reset or at-once-closed connection to the leader: search
//     the other nodes for the leader (discover.go) and go there at once if
//     one is found, else pause;
//   - -CLUSTERDOWN, -TRYAGAIN, -UNCERTAIN, -NOSESSION, any other failed
//     dial or broken connection, a timeout: forget that node as leader,
//     pause (exponential backoff with jitter), and try the leader if
//     known, else the next known node not marked down;
//   - when the context ends, the client closes or MaxRetries runs out, the
//     commands still pending fail: with an *UnknownOutcomeError if an
//     earlier send of theirs may have been applied and they are not
//     retrySafe, else a *RetryError.
//
// It runs on the caller's goroutine.
func (c *Client) process(ctx context.Context, cmds []*command) {
	if err := c.enter(); err != nil {
		failAll(cmds, err)
		return
	}
	defer c.calls.Done()
	if !c.opt.DisableSessions {
		defer c.sess.release(cmds)
	}
	var (
		pending   = cmds
		tries     attempts
		retries   int    // pauses taken
		redirects int    // redirects followed in a row
		target    string // the leader named by the last redirect or search
	)
	for {
		if stop := c.stopErr(ctx); stop != nil {
			// Checked before each round, so a context that has already
			// ended never lets a request out.
			c.giveUp(pending, &tries, stop)
			return
		}
		if !c.opt.DisableSessions {
			if pending = c.bindSession(ctx, pending, &tries); len(pending) == 0 {
				return
			}
		}
		addr, leading := target, target != ""
		if addr == "" {
			addr, leading = c.pick()
		}
		r := c.round(ctx, addr, pending)
		if !r.down {
			c.markUp(addr)
		}
		if len(r.again) == 0 {
			return
		}
		pending = r.again
		tries.add(addr, r.err)
		var now bool
		if target, now = c.afterFailure(ctx, addr, leading, r, &redirects); now {
			continue
		}
		stop := c.stopErr(ctx)
		if stop == nil && (c.opt.MaxRetries < 0 || c.opt.MaxRetries > 0 && retries >= c.opt.MaxRetries) {
			stop = r.err
		}
		if stop == nil {
			d := backoff(retries, c.opt.MinRetryBackoff, c.opt.MaxRetryBackoff)
			retries++
			c.stats.retries.Add(1)
			c.log.Debug("kvorum client: retrying", "cmd", pending[0].name, "node", addr, "err", r.err, "pause", d, "retry", retries)
			stop = c.sleep(ctx, d)
		}
		if stop != nil {
			c.giveUp(pending, &tries, stop)
			return
		}
	}
}

// afterFailure learns what it can from a round that left commands pending
// at addr (leading: addr was taken for the leader) and returns where to
// send them next ("" for pick's choice) and whether to go there at once,
// without a pause: after a -MOVED, or after a leader search that found a
// leader other than addr, while redirects (in a row) stays within
// MaxRedirects.
func (c *Client) afterFailure(ctx context.Context, addr string, leading bool, r roundResult, redirects *int) (target string, now bool) {
	if r.leader != "" {
		c.setLeader(r.leader)
		c.stats.redirects.Add(1)
		c.log.Debug("kvorum client: following redirect", "from", addr, "to", r.leader)
		if c.opt.OnRedirect != nil {
			c.opt.OnRedirect(addr, r.leader)
		}
		*redirects++
		return r.leader, *redirects <= c.opt.MaxRedirects
	}
	c.forgetLeader(addr)
	if r.down {
		c.markDown(addr)
		if leading {
			if l := c.findLeader(ctx, addr); l != "" {
				*redirects++
				return l, *redirects <= c.opt.MaxRedirects
			}
		}
	}
	*redirects = 0
	return "", false
}

// giveUp fails the commands still pending when retrying stops for stop:
// a write that is not retrySafe and an earlier send of which may have been
// applied with an *UnknownOutcomeError, the others with a *RetryError.
func (c *Client) giveUp(pending []*command, tries *attempts, stop error) {
	for _, cmd := range pending {
		if cmd.maybeAt != "" && !cmd.safe {
			c.unknown(cmd, cmd.maybeAt, stop)
			continue
		}
		cmd.fail(tries.retryError(cmd.name, stop))
	}
}

// stopErr returns why retrying must stop now: the context's error or
// ErrClosed; nil to go on.
func (c *Client) stopErr(ctx context.Context) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	return ctx.Err()
}

// sleep pauses for d, or less if the context ends (its error) or the
// client closes (ErrClosed).
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
}

// backoff returns the pause before retry n (from 0): random in [d/2, d]
// with d = min(hi, lo*2^n).
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := hi
	if n < 62 && lo<<n > 0 && lo<<n < hi {
		d = lo << n
	}
	return d/2 + rand.N(d/2+1)
}

// attempts records the failed rounds of one call.
type attempts struct {
	last  []Attempt
	total int
}

func (a *attempts) add(addr string, err error) {
	a.total++
	if len(a.last) == maxAttempts {
		copy(a.last, a.last[1:])
		a.last = a.last[:maxAttempts-1]
	}
	a.last = append(a.last, Attempt{Addr: addr, Err: err})
}

func (a *attempts) retryError(cmd string, stop error) *RetryError {
	return &RetryError{Cmd: cmd, Attempts: append([]Attempt(nil), a.last...), Total: a.total, Err: stop}
}

// failAll settles every command with err.
func failAll(cmds []*command, err error) {
	for _, cmd := range cmds {
		cmd.fail(err)
	}
}
