package client

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/kvorum/kvorum/resp"
)

// roundResult is what one round left to do.
type roundResult struct {
	again  []*command // the commands to send again, in order
	leader string     // the leader named by a -MOVED reply; "" if none
	err    error      // the error that left commands unsettled
	down   bool       // addr failed as a dead node does (see nodeFailed)
}

// round sends pending to addr once and settles the commands it can:
//
//   - a reply is final, except -MOVED and -CLUSTERDOWN (not applied:
//     resend), -TRYAGAIN (not applied: resend after a pause), -UNCERTAIN
//     (maybe applied: resend a session write under its session and a
//     retrySafe command as it is, fail any other with an
//     *UnknownOutcomeError), and -NOSESSION to a session write (its session
//     is gone: an unknown outcome if an earlier send may have been applied
//     and it is not retrySafe, else bind it to a new session and resend);
//   - a command sent whose reply never came (broken connection, timeout,
//     context ended) is resent if it is a session write (under its session)
//     or retrySafe, else fails with an *UnknownOutcomeError at once;
//   - a command not sent is resent.
func (c *Client) round(ctx context.Context, addr string, pending []*command) roundResult {
	p := c.pool(addr)
	if p == nil {
		return roundResult{again: pending, err: ErrClosed}
	}
	cn, err := p.get(ctx)
	if err != nil {
		return roundResult{again: pending, err: err, down: c.nodeFailed(ctx, err, true)}
	}
	for _, cmd := range pending {
		if cmd.maybeAt != "" {
			c.stats.sessionResends.Add(1)
		}
	}
	sent, answered, xerr := cn.exchange(ctx, pending, c.opt.WriteTimeout, readTimeout(&c.opt, pending))
	p.put(cn, xerr == nil)
	r := roundResult{down: c.nodeFailed(ctx, xerr, false)}
	if xerr != nil {
		if c.stopErr(ctx) == ErrClosed {
			xerr = fmt.Errorf("%w (%v)", ErrClosed, xerr)
		} else {
			xerr = fmt.Errorf("%s: %w", addr, xerr)
		}
	}
	for i, cmd := range pending {
		again, err := true, error(nil)
		switch {
		case i < answered:
			again, err = c.answered(cmd, addr, &r.leader)
		case i < sent:
			again = c.cutOff(cmd, addr, xerr)
		}
		if again {
			r.again = append(r.again, cmd)
			if r.err == nil {
				r.err = err
			}
		}
	}
	if xerr != nil {
		r.err = xerr
	}
	return r
}

// answered settles cmd by its reply from addr, or reports that it must be
// sent again and why. A -MOVED reply's leader is stored in *leader.
func (c *Client) answered(cmd *command, addr string, leader *string) (again bool, err error) {
	if rd, ok := resp.ParseRedirect(cmd.reply); ok {
		if rd.Leader != "" {
			*leader = rd.Leader
		}
		return true, rd
	}
	switch cmd.reply.Code() {
	case resp.CodeTryAgain:
		// Not applied (e.g. a new leader catching up): resend after a pause.
		return true, resp.AsError(cmd.reply)
	case resp.CodeUncertain:
		// Cut off in flight by a leadership change: it may have been
		// applied.
		if cmd.sid != 0 {
			cmd.maybeAt = addr
			return true, resp.AsError(cmd.reply)
		}
		if cmd.safe {
			return true, resp.AsError(cmd.reply)
		}
		c.unknown(cmd, addr, resp.AsError(cmd.reply))
		return false, nil
	case codeNoSession:
		if cmd.sid == 0 {
			break
		}
		c.sess.lost(cmd.sid)
		if cmd.maybeAt != "" && !cmd.safe {
			// An earlier send may have been applied, and the session that
			// could have told went with it.
			c.unknown(cmd, cmd.maybeAt, resp.AsError(cmd.reply))
			return false, nil
		}
		// Not applied, or safe to repeat: resend under a new session.
		unbind(cmd)
		return true, resp.AsError(cmd.reply)
	}
	cmd.finish(cmd.reply)
	return false, nil
}

// cutOff handles cmd, sent to addr but not answered (xerr): it reports
// whether to resend it, or fails it as an unknown outcome.
func (c *Client) cutOff(cmd *command, addr string, xerr error) (again bool) {
	switch {
	case cmd.sid != 0:
		cmd.maybeAt = addr // the resend, under the same seq, is applied at most once
		return true
	case cmd.safe:
		return true
	}
	c.unknown(cmd, addr, xerr)
	return false
}

// unknown fails cmd with an *UnknownOutcomeError: its send to addr may
// have been applied, and err is why no reply says so.
func (c *Client) unknown(cmd *command, addr string, err error) {
	c.stats.unknownOutcomes.Add(1)
	cmd.fail(&UnknownOutcomeError{Cmd: cmd.name, Addr: addr, Err: err})
}

// nodeFailed reports whether err (from getting a connection to a node,
// dialing, or from an exchange with it) says the node is gone rather than
// slow or busy: the dial failed (refused, unreachable, timed out), or the
// connection was reset or closed, as a proxy in front of a dead node
// closes a connection it has just accepted. A read or write timeout, the
// context's end and Close are not the node's failure.
func (c *Client) nodeFailed(ctx context.Context, err error, dialing bool) bool {
	if err == nil || ctx.Err() != nil || errors.Is(err, ErrClosed) {
		return false
	}
	var ne net.Error
	if !dialing && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)) {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
	}
	return true
}
