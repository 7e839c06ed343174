package client

import (
	"context"

	"github.com/kvorum/kvorum/resp"
)

// Pipeline queues commands and sends them in one round trip with Exec. It
// is not safe for concurrent use; it may be reused after Exec.
//
// The commands are independent (not a transaction): each is redirected,
// retried or failed on its own terms, as Client.Do would, but they travel
// together and their replies come back in queue order. If a node answers
// -MOVED for some of them, those are resent, in order, to the leader. With
// write sessions each write gets its own seq, so a batch resent after its
// replies were cut off applies each write once.
type Pipeline struct {
	c    *Client
	cmds []command
	ends []int  // where each command's request ends in buf
	buf  []byte // the encoded requests, back to back

	scratch []resp.Value // reused by Do to convert arguments
}

// Pipeline returns an empty pipeline on c.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

// Do queues a command (name first; arguments converted by ToValue). A
// command whose arguments cannot be converted fails at Exec; the others are
// still sent.
func (p *Pipeline) Do(args ...any) {
	p.cmds = append(p.cmds, command{})
	cmd := &p.cmds[len(p.cmds)-1]
	var err error
	if p.buf, p.scratch, err = cmd.init(args, p.buf, p.scratch); err != nil {
		cmd.fail(err)
	}
	p.ends = append(p.ends, len(p.buf))
}

// Len returns the number of queued commands.
func (p *Pipeline) Len() int { return len(p.cmds) }

// Exec sends the queued commands, empties the queue and returns one reply
// per command, in queue order. err is nil if every command got a non-error
// reply; otherwise it is a *PipelineError whose Errs says, per command,
// what failed (an error reply, an unknown outcome, a *RetryError, a bad
// argument); a command that failed without a reply has the zero Value.
// The replies are the caller's to keep.
func (p *Pipeline) Exec(ctx context.Context) ([]resp.Value, error) {
	cmds, ends, buf := p.cmds, p.ends, p.buf
	defer func() {
		// Nothing refers to the queue once Exec returns: reuse its memory.
		clear(cmds)
		p.cmds, p.ends, p.buf = cmds[:0], ends[:0], buf[:0]
	}()
	ptrs := make([]*command, 0, len(cmds))
	start := 0
	for i := range cmds {
		cmd := &cmds[i]
		if cmd.err == nil {
			cmd.enc = buf[start:ends[i]:ends[i]]
			ptrs = append(ptrs, cmd)
		}
		start = ends[i]
	}
	if len(ptrs) > 0 {
		p.c.process(ctx, ptrs)
	}
	vals := make([]resp.Value, len(cmds))
	var errs []error
	for i := range cmds {
		vals[i] = cmds[i].reply
		if err := cmds[i].err; err != nil {
			if errs == nil {
				errs = make([]error, len(cmds))
			}
			errs[i] = err
		}
	}
	if errs != nil {
		return vals, &PipelineError{Errs: errs}
	}
	return vals, nil
}
