package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// conn is one connection to a node. It is used by one call at a time (the
// pool hands it out exclusively).
type conn struct {
	nc   net.Conn
	rd   *resp.Reader
	buf  []byte // the batch being written
	ends []int  // where each command's bytes end in buf
	// frames: the node takes a pipeline's session writes as one
	// KVORUM.SEQS frame (it named the command when asked at dial).
	frames bool

	// interrupted is set when a context's end cut into an exchange (its
	// socket deadline was forced into the past): the connection must not be
	// reused even if the exchange itself completed.
	interrupted bool
}

// dial connects to addr, authenticates if the options carry a password,
// and says READWRITE, which marks the connection as
// one that follows redirects: a node that stops leading then redirects it
// instead of closing it as it does plain Redis clients, and a proxying
// follower redirects it instead of relaying it. If the options ask for a
// protocol, HELLO 2 or HELLO 3 goes in the same write and is checked too.
func dial(ctx context.Context, addr string, o *Options) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cn := &conn{nc: nc, rd: resp.NewReader(bufio.NewReaderSize(nc, 16<<10), resp.Limits{})}
	var setup []*command
	if o.Password != "" {
		auth := []string{"AUTH", o.Password}
		if o.Username != "" {
			auth = []string{"AUTH", o.Username, o.Password}
		}
		setup = append(setup, &command{name: "AUTH", enc: resp.AppendCommand(nil, auth...), block: -1})
	}
	switch o.Protocol {
	case resp.RESP2:
		setup = append(setup, &command{name: "HELLO", enc: resp.AppendCommand(nil, "HELLO", "2"), block: -1})
	case resp.RESP3:
		setup = append(setup, &command{name: "HELLO", enc: resp.AppendCommand(nil, "HELLO", "3"), block: -1})
	}
	setup = append(setup, &command{name: "READWRITE", enc: resp.AppendCommand(nil, "READWRITE"), block: -1})
	// Whether this node takes frames: a node of an earlier version, or
	// plain Redis, answers COMMAND INFO with a null for a command it does
	// not know (or an error), and is sent wrapped writes only.
	probe := &command{name: "COMMAND", enc: resp.AppendCommand(nil, "COMMAND", "INFO", seqsCommand), block: -1}
	setup = append(setup, probe)
	_, answered, err := cn.exchange(ctx, setup, o.DialTimeout, o.DialTimeout)
	if err == nil && answered < len(setup) {
		err = errors.New("connection closed during setup")
	}
	for _, cmd := range setup[:answered] {
		// READWRITE and the probe are advisory: a server without them
		// (plain Redis says it has no cluster support) still serves the
		// client.
		if err == nil && cmd.reply.IsError() && cmd != probe && cmd.name != "READWRITE" {
			err = fmt.Errorf("%s refused: %w", cmd.name, resp.AsError(cmd.reply))
		}
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	cn.frames = namesCommand(probe.reply)
	return cn, nil
}

// namesCommand reports whether v, a reply to COMMAND INFO name, describes
// the command: an array holding one array, not a null.
func namesCommand(v resp.Value) bool {
	return v.Kind() == resp.KindArray && v.Len() == 1 && v.Elems()[0].Kind() == resp.KindArray && !v.Elems()[0].IsNull()
}

// exchange writes the commands' requests in one write and reads one reply
// per command into cmd.reply, in order. It returns how many requests were
// written completely (sent) and how many replies were read (answered);
// err is the transport error that stopped it, if any, or the context's
// error if the context ended during the exchange. The write deadline is
// now+wt, the read deadline now+rt (non-positive: none), both capped by the
// context's deadline; a context without deadline that ends interrupts the
// socket. After an error, or if cn.interrupted is set, the connection must
// be closed.
func (cn *conn) exchange(ctx context.Context, cmds []*command, wt, rt time.Duration) (sent, answered int, err error) {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { cn.nc.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() {
				cn.interrupted = true
			}
		}()
	}
	dl, hasDL := ctx.Deadline()
	var buf []byte
	ends := cn.ends[:0]
	if len(cmds) == 1 && cmds[0].sid == 0 {
		buf = cmds[0].enc
		ends = append(ends, len(buf))
	} else {
		buf, ends = appendStamped(cn.buf[:0], ends, cmds, cn.frames)
		cn.buf = buf
	}
	cn.ends = ends
	if err := cn.nc.SetWriteDeadline(deadline(wt, dl, hasDL)); err != nil {
		return 0, 0, err
	}
	n, err := cn.nc.Write(buf)
	if err != nil {
		for sent < len(ends) && ends[sent] <= n {
			sent++
		}
		return sent, 0, ctxErr(ctx, err)
	}
	if cap(cn.buf) > 1<<20 {
		cn.buf = nil // don't pin one burst's memory for the connection's life
	}
	if err := cn.nc.SetReadDeadline(deadline(rt, dl, hasDL)); err != nil {
		return len(cmds), 0, err
	}
	for i, c := range cmds {
		if i > 0 && i%64 == 0 && rt > 0 {
			// The read timeout bounds the wait for progress, not for a
			// whole pipeline: a long batch of writes answered steadily
			// must not time out (and be resent while still running).
			if err := cn.nc.SetReadDeadline(deadline(rt, dl, hasDL)); err != nil {
				return len(cmds), i, err
			}
		}
		v, err := cn.rd.ReadValue()
		if err != nil {
			return len(cmds), i, ctxErr(ctx, err)
		}
		c.reply = v
	}
	return len(cmds), len(cmds), nil
}

// deadline returns now+d capped by the context's deadline; the zero time
// (no deadline) if d <= 0 and the context has none.
func deadline(d time.Duration, ctxDL time.Time, hasDL bool) time.Time {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	if hasDL && (t.IsZero() || ctxDL.Before(t)) {
		t = ctxDL
	}
	return t
}

// ctxErr prefers the context's error to the socket timeout it caused
// (which may fire a moment before the context's own timer).
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

// readTimeout returns the read timeout for a batch: ReadTimeout plus the
// longest blocking timeout in it, or none if a command blocks forever.
func readTimeout(o *Options, cmds []*command) time.Duration {
	rt := o.ReadTimeout
	if rt < 0 {
		return 0
	}
	var extra time.Duration
	for _, c := range cmds {
		switch {
		case c.block == 0:
			return 0
		case c.block > extra:
			extra = c.block
		}
	}
	return rt + extra
}

// errBrokenIdle is an idle pooled connection found closed or holding
// unexpected bytes; the pool drops it and dials another.
var errBrokenIdle = errors.New("idle connection broken")

// alive reports whether an idle connection can be reused: the peer has not
// closed it and no stray reply is waiting in it.
func (cn *conn) alive() bool {
	return cn.rd.Buffered() == 0 && peekIdle(cn.nc) == nil
}

func (cn *conn) close() { cn.nc.Close() }
