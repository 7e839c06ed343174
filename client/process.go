package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// process drives cmds until each has a final reply or error: the redirect
// and retry loop, after go-redis's cluster client. Each round sends the
// commands still pending, in their original order, to one node:
//
//   - -MOVED names the leader: remember it and resend there at once (after
//     MaxRedirects in a row, pause as for a retry);
//   - -TRYAGAIN (the node did not apply it) is resent after a pause;
//     -UNCERTAIN (a write cut off by a leadership change) is resent only
//     if retrySafe, else fails with an *UnknownOutcomeError;
//   - -CLUSTERDOWN, a failed dial, a broken connection or a timeout: forget
//     that node as leader, pause (exponential backoff with jitter), and try
//     the leader if known, else the next known node;
//   - a command whose request was sent but not answered is resent only if
//     retrySafe; otherwise it fails with an *UnknownOutcomeError at once;
//   - when the context ends, the client closes or MaxRetries runs out, the
//     commands still pending fail with a *RetryError.
//
// It runs on the caller's goroutine.
func (c *Client) process(ctx context.Context, cmds []*command) {
	if err := c.enter(); err != nil {
		failAll(cmds, err)
		return
	}
	defer c.calls.Done()
	var (
		pending   = cmds
		tries     attempts
		retries   int    // pauses taken
		redirects int    // redirects followed in a row
		target    string // the leader named by the last redirect
	)
	for {
		if stop := c.stopErr(ctx); stop != nil {
			// Checked before each round, so a context that has already
			// ended never lets a request out.
			for _, cmd := range pending {
				cmd.fail(tries.retryError(cmd.name, stop))
			}
			return
		}
		addr := target
		if addr == "" {
			addr = c.pick()
		}
		target = ""
		again, leader, err := c.round(ctx, addr, pending)
		if len(again) == 0 {
			return
		}
		pending = again
		tries.add(addr, err)
		if leader != "" {
			c.setLeader(leader)
			c.log.Debug("kvorum client: following redirect", "cmd", pending[0].name, "from", addr, "to", leader)
			if c.opt.OnRedirect != nil {
				c.opt.OnRedirect(addr, leader)
			}
			target = leader
			redirects++
			if redirects <= c.opt.MaxRedirects {
				continue
			}
		} else {
			redirects = 0
			c.forgetLeader(addr)
		}
		stop := c.stopErr(ctx)
		if stop == nil && (c.opt.MaxRetries < 0 || c.opt.MaxRetries > 0 && retries >= c.opt.MaxRetries) {
			stop = err
		}
		if stop == nil {
			d := backoff(retries, c.opt.MinRetryBackoff, c.opt.MaxRetryBackoff)
			retries++
			c.log.Debug("kvorum client: retrying", "cmd", pending[0].name, "node", addr, "err", err, "pause", d, "retry", retries)
			stop = c.sleep(ctx, d)
		}
		if stop != nil {
			for _, cmd := range pending {
				cmd.fail(tries.retryError(cmd.name, stop))
			}
			return
		}
	}
}

// round sends pending to addr once and settles the commands it can. It
// returns the commands to send again (in order), the leader named by a
// -MOVED reply ("" if none), and the error that left commands unsettled.
func (c *Client) round(ctx context.Context, addr string, pending []*command) (again []*command, leader string, err error) {
	p := c.pool(addr)
	if p == nil {
		return pending, "", ErrClosed
	}
	cn, err := p.get(ctx)
	if err != nil {
		return pending, "", err
	}
	sent, answered, xerr := cn.exchange(ctx, pending, c.opt.WriteTimeout, readTimeout(&c.opt, pending))
	p.put(cn, xerr == nil)
	if xerr != nil {
		if c.stopErr(ctx) == ErrClosed {
			xerr = fmt.Errorf("%w (%v)", ErrClosed, xerr)
		} else {
			xerr = fmt.Errorf("%s: %w", addr, xerr)
		}
	}
	for i, cmd := range pending {
		switch {
		case i < answered:
			if r, ok := resp.ParseRedirect(cmd.reply); ok {
				if r.Leader != "" {
					leader = r.Leader
				}
				if err == nil {
					err = r
				}
				again = append(again, cmd)
				continue
			}
			switch cmd.reply.Code() {
			case resp.CodeTryAgain:
				// Not applied (e.g. a new leader catching up): resend after a pause.
				if err == nil {
					err = resp.AsError(cmd.reply)
				}
				again = append(again, cmd)
				continue
			case resp.CodeUncertain:
				// Cut off in flight by a leadership change: it may have
				// been applied. Resend only what is safe to repeat.
				if cmd.safe {
					if err == nil {
						err = resp.AsError(cmd.reply)
					}
					again = append(again, cmd)
					continue
				}
				cmd.fail(&UnknownOutcomeError{Cmd: cmd.name, Addr: addr, Err: resp.AsError(cmd.reply)})
				continue
			}
			cmd.finish(cmd.reply)
		case i < sent && !cmd.safe:
			cmd.fail(&UnknownOutcomeError{Cmd: cmd.name, Addr: addr, Err: xerr})
		default:
			again = append(again, cmd)
		}
	}
	if xerr != nil {
		err = xerr
	}
	return again, leader, err
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
