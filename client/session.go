package client

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// The session protocol's wire names; the server spells them the same way.
const (
	// sessionCommand: KVORUM.SESSION OPEN [ttl-ms] answers the new
	// session's id (an integer); KVORUM.SESSION CLOSE id answers :1 or :0.
	sessionCommand = "KVORUM.SESSION"
	// seqCommand: KVORUM.SEQ id seq floor command args... applies the
	// command at most once per (id, seq) and answers its reply, the first
	// application's on a repeat. floor is the lowest seq whose reply the
	// client has not received: the server may forget the replies below it.
	seqCommand = "KVORUM.SEQ"
	// seqsCommand: KVORUM.SEQS id first floor count, with no reply of its
	// own, stamps the next count requests of the connection as KVORUM.SEQ
	// would with seqs first, first+1, ...: a pipeline's writes go with
	// four fewer arguments each. Sent only on a connection whose server
	// named it in COMMAND INFO (dial).
	seqsCommand = "KVORUM.SEQS"
	// codeNoSession starts the error reply to KVORUM.SEQ when the session
	// is unknown or expired: nothing was applied.
	codeNoSession = resp.CodeNoSession
)

// errSessionsRefused is openSession's error when the server answered
// KVORUM.SESSION OPEN with an error reply (a server without sessions) or
// with no session id: the client then sends its writes plain.
var errSessionsRefused = errors.New("client: the server refused KVORUM.SESSION OPEN")

// sessions is the client's write session, shared by every call: at most
// one is open at a time. A write is bound to it (given the next sequence
// number) before its first send and keeps that binding for every resend.
// The floor sent with a write is the lowest sequence number still bound
// to a call in progress (settled says which are), so no resend is ever
// below a floor the server has seen. Safe for concurrent use.
type sessions struct {
	mu      sync.Mutex
	id      int64         // the open session; 0 if none
	plain   bool          // the server refused sessions: writes go plain
	closed  bool          // Close took the session: open no other
	opening chan struct{} // closed when the open in progress ends; nil if none
	next    int64         // the next seq to hand out (from 1)
	base    int64         // the seq of settled[0]: every seq below it is settled
	settled []bool        // for seqs base..next-1: whether its call is done with it
}

// current returns the open session's id, opening one with open if there
// is none (one call opens it, concurrent ones wait for that). It returns 0
// and no error once the server has refused sessions, and open's error, the
// context's, or ErrClosed when no session could be opened.
func (s *sessions) current(ctx context.Context, done <-chan struct{}, open func(context.Context) (int64, error)) (int64, error) {
	s.mu.Lock()
	for {
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, ErrClosed
		case s.plain, s.id != 0:
			id := s.id
			s.mu.Unlock()
			return id, nil
		case s.opening != nil:
			ch := s.opening
			s.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-done:
				return 0, ErrClosed
			}
			s.mu.Lock()
			continue
		}
		ch := make(chan struct{})
		s.opening = ch
		s.mu.Unlock()
		id, err := open(ctx)
		s.mu.Lock()
		s.opening = nil
		close(ch)
		switch {
		case errors.Is(err, errSessionsRefused):
			s.plain = true
		case err != nil:
			s.mu.Unlock()
			return 0, err
		case !s.closed:
			s.id, s.next, s.base, s.settled = id, 1, 1, nil
		}
	}
}

// bind gives each of cmds the next sequence number of session id and the
// floor to send with them. It reports false if id is no longer the open
// session.
func (s *sessions) bind(id int64, cmds []*command) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 || s.id != id {
		return false
	}
	for _, cmd := range cmds {
		cmd.sid, cmd.seq, cmd.floor = id, s.next, s.base
		s.next++
		s.settled = append(s.settled, false)
	}
	return true
}

// release marks the bindings of cmds to the open session settled: their
// call will not send them again, so the floor may pass them.
func (s *sessions) release(cmds []*command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cmd := range cmds {
		if cmd.sid != 0 && cmd.sid == s.id {
			if i := cmd.seq - s.base; i >= 0 && i < int64(len(s.settled)) {
				s.settled[i] = true
			}
		}
	}
	n := 0
	for n < len(s.settled) && s.settled[n] {
		n++
	}
	s.settled = s.settled[n:]
	s.base += int64(n)
}

// lost forgets session id after a NOSESSION reply: the next write opens
// another.
func (s *sessions) lost(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id == id {
		s.id, s.settled = 0, nil
	}
}

// shut makes current fail with ErrClosed from now on and returns the open
// session's id (0 if none), for Close to end it on the servers.
func (s *sessions) shut() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	id := s.id
	s.id = 0
	return id
}

// bindSession binds the unbound writes of pending to the open session,
// opening one if there is none; the exchange stamps them (appendStamped).
// If no session can be opened (the context ended, the client closed,
// MaxRetries ran out) it fails those writes with a *RetryError and returns
// the rest of pending; if the server refused sessions, they and every
// later write go plain. It runs on the caller's goroutine.
func (c *Client) bindSession(ctx context.Context, pending []*command, tries *attempts) []*command {
	n := 0
	for _, cmd := range pending {
		if cmd.write && cmd.sid == 0 {
			n++
		}
	}
	if n == 0 {
		return pending
	}
	var one [1]*command // Do's one write, without an allocation
	unbound := one[:0]
	if n > 1 {
		unbound = make([]*command, 0, n)
	}
	for _, cmd := range pending {
		if cmd.write && cmd.sid == 0 {
			unbound = append(unbound, cmd)
		}
	}
	for len(unbound) > 0 {
		id, err := c.sess.current(ctx, c.done, c.openSession)
		switch {
		case err != nil:
			return failUnbound(pending, tries, err)
		case id == 0:
			for _, cmd := range unbound {
				cmd.write = false
			}
			return pending
		}
		if c.sess.bind(id, unbound) {
			return pending
		}
		// The session was lost between current and bind: open another.
	}
	return pending
}

// failUnbound fails the unbound writes of pending with err (as a
// *RetryError naming each write) and returns the other commands.
func failUnbound(pending []*command, tries *attempts, err error) []*command {
	var re *RetryError
	errors.As(err, &re)
	rest := make([]*command, 0, len(pending))
	for _, cmd := range pending {
		switch {
		case !cmd.write || cmd.sid != 0:
			rest = append(rest, cmd)
		case re != nil:
			cmd.fail(&RetryError{Cmd: cmd.name, Attempts: re.Attempts, Total: re.Total, Err: re.Err})
		default:
			cmd.fail(tries.retryError(cmd.name, err))
		}
	}
	return rest
}

// seqPrefix is a wrapped request's first element, the bulk string
// KVORUM.SEQ.
const seqPrefix = "$10\r\n" + seqCommand + "\r\n"

// maxFrame is the most writes a node takes in one frame; a longer run goes
// as several frames.
const maxFrame = 65536

// framePrefix is a frame header's array header and first element.
const framePrefix = "*5\r\n$11\r\n" + seqsCommand + "\r\n"

// appendStamped appends the requests of cmds to buf, each session write
// stamped with its session, seq and floor, and returns buf and, in ends,
// where each command's bytes end. A run of two or more writes of one
// session with consecutive seqs and one floor (a pipeline bound together)
// goes as one frame when frames is set, KVORUM.SEQS id first floor count
// and the writes as the caller gave them; any other session write goes
// wrapped, KVORUM.SEQ id seq floor command... A frame's header is counted
// in its first write's bytes, as it is of no use without them.
func appendStamped(buf []byte, ends []int, cmds []*command, frames bool) ([]byte, []int) {
	for i := 0; i < len(cmds); {
		cmd := cmds[i]
		n := 1
		for frames && cmd.sid != 0 && i+n < len(cmds) && n < maxFrame && sameFrame(cmds[i+n-1], cmds[i+n]) {
			n++
		}
		switch {
		case cmd.sid == 0:
			buf = append(buf, cmd.enc...)
		case n == 1:
			buf = appendWrapped(buf, cmd)
		default:
			buf = append(buf, framePrefix...)
			for _, v := range [4]int64{cmd.sid, cmd.seq, cmd.floor, int64(n)} {
				buf = resp.AppendBulkInt(buf, v)
			}
			for _, f := range cmds[i : i+n] {
				buf = append(buf, f.enc...)
				ends = append(ends, len(buf))
			}
			i += n
			continue
		}
		ends = append(ends, len(buf))
		i++
	}
	return buf, ends
}

// sameFrame reports whether b may follow a in one frame.
func sameFrame(a, b *command) bool {
	return b.sid == a.sid && b.seq == a.seq+1 && b.floor == a.floor
}

// appendWrapped appends cmd's request wrapped as KVORUM.SEQ id seq floor
// followed by the command's own elements.
func appendWrapped(buf []byte, cmd *command) []byte {
	buf = resp.AppendArrayHeader(buf, cmd.argc+4)
	buf = append(buf, seqPrefix...)
	for _, n := range [3]int64{cmd.sid, cmd.seq, cmd.floor} {
		buf = resp.AppendBulkInt(buf, n)
	}
	hdr := bytes.IndexByte(cmd.enc, '\n') + 1 // enc's "*argc\r\n"
	return append(buf, cmd.enc[hdr:]...)
}

// unbind drops a write's binding to a session the server no longer knows,
// so that the next round binds it to a new one.
func unbind(cmd *command) {
	cmd.sid, cmd.seq, cmd.floor, cmd.maybeAt = 0, 0, 0, ""
}

// openSession sends KVORUM.SESSION OPEN [ttl] through the retry loop and
// returns the new session's id. It is resent freely: a session opened by a
// lost send is never used and expires. It returns errSessionsRefused if
// the server answered with an error reply or without an id, else the
// call's error (a *RetryError, ErrClosed).
func (c *Client) openSession(ctx context.Context) (int64, error) {
	args := []string{sessionCommand, "OPEN"}
	if ttl := c.opt.SessionTTL; ttl > 0 {
		args = append(args, strconv.FormatInt(max(ttl.Milliseconds(), 1), 10))
	}
	cmd := plainCommand(args...)
	c.process(ctx, []*command{cmd})
	v := cmd.reply
	switch {
	case cmd.err == nil && v.Kind() == resp.KindInt && v.Int() > 0:
		c.stats.sessionsOpened.Add(1)
		c.log.Debug("kvorum client: session opened", "id", v.Int())
		return v.Int(), nil
	case cmd.err == nil || v.IsError():
		c.log.Warn("kvorum client: the server refused write sessions; writes go plain", "reply", v)
		return 0, errSessionsRefused
	}
	return 0, cmd.err
}

// closeSession ends the open session on the servers (KVORUM.SESSION
// CLOSE), waiting at most a second; a failure is only logged (the session
// then expires). No session is opened after it.
func (c *Client) closeSession() {
	id := c.sess.shut()
	if id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(time.Second, c.opt.DialTimeout))
	defer cancel()
	cmd := plainCommand(sessionCommand, "CLOSE", strconv.FormatInt(id, 10))
	c.process(ctx, []*command{cmd})
	c.log.Debug("kvorum client: session closed", "id", id, "reply", cmd.reply, "err", cmd.err)
}

// plainCommand is a command of the client's own that is safe to resend
// and never wrapped.
func plainCommand(args ...string) *command {
	enc := resp.AppendCommand(nil, args...)
	return &command{name: args[0], enc: enc, argc: len(args), safe: true, block: -1}
}
