package chaos

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// outcome is what a client knows of a request's effect.
type outcome int

const (
	ok      outcome = iota // answered: applied (a write) or observed (a read)
	failed                 // definitely not applied: refused, redirected or never sent, until the deadline
	unknown                // cut off in flight (-UNCERTAIN, a broken or silent connection): may have been applied
)

func (o outcome) String() string { return [...]string{"ok", "failed", "unknown"}[o] }

// plain is one worker's raw RESP connection, as redis-cli -c or redis-py
// behave: it follows -MOVED at once, backs off and retries on
// -CLUSTERDOWN and -TRYAGAIN (not applied), and never resends a request
// whose connection broke or that answered -UNCERTAIN: that is an unknown
// outcome. No sessions. One goroutine at a time.
type plain struct {
	seeds []string
	rng   *rand.Rand
	addr  string // where the next request goes
	conn  net.Conn
	rd    *resp.Reader
}

func newPlain(seeds []string, seed uint64) *plain {
	rng := rand.New(rand.NewPCG(seed, 7))
	return &plain{seeds: seeds, rng: rng, addr: seeds[rng.IntN(len(seeds))]}
}

// Close closes the connection, if any.
func (p *plain) Close() { p.drop() }

func (p *plain) drop() {
	if p.conn != nil {
		p.conn.Close()
		p.conn, p.rd = nil, nil
	}
}

// do sends args until a node answers them or ctx ends. wait is how long a
// reply may take once sent (longer than a blocking command's timeout). An
// error reply other than a redirect, TRYAGAIN or UNCERTAIN comes back as
// ok with the error value: the command ran and refused.
func (p *plain) do(ctx context.Context, wait time.Duration, args ...string) (resp.Value, outcome) {
	backoff := 5 * time.Millisecond
	for {
		if ctx.Err() != nil {
			return resp.Value{}, failed
		}
		v, sent, err := p.roundTrip(ctx, wait, args)
		var redirect *resp.RedirectError
		switch {
		case err != nil && sent:
			p.drop()
			p.addr = p.seeds[p.rng.IntN(len(p.seeds))]
			return resp.Value{}, unknown
		case err != nil: // could not connect or write nothing: not sent
			p.drop()
			p.addr = p.seeds[p.rng.IntN(len(p.seeds))]
		case errors.As(resp.AsError(v), &redirect) && redirect.Leader != "":
			p.drop()
			p.addr = redirect.Leader
			continue
		case errors.Is(resp.AsError(v), resp.ErrUncertain):
			return v, unknown
		case errors.As(resp.AsError(v), &redirect), errors.Is(resp.AsError(v), resp.ErrTryAgain):
			if redirect != nil { // no leader known here: ask another node next
				p.drop()
				p.addr = p.seeds[p.rng.IntN(len(p.seeds))]
			}
		default:
			return v, ok
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff + time.Duration(p.rng.Int64N(int64(backoff)))): // retry backoff with jitter
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// roundTrip sends one request and reads its reply. sent reports whether
// any byte of the request may have reached the server.
func (p *plain) roundTrip(ctx context.Context, wait time.Duration, args []string) (v resp.Value, sent bool, err error) {
	if p.conn == nil {
		d := net.Dialer{Timeout: probeTimeout}
		conn, err := d.DialContext(ctx, "tcp", p.addr)
		if err != nil {
			return v, false, err
		}
		p.conn, p.rd = conn, resp.NewReader(conn, resp.Limits{})
	}
	p.conn.SetDeadline(time.Now().Add(wait))
	n, err := p.conn.Write(resp.AppendCommand(nil, args...))
	if err != nil {
		return v, n > 0, err
	}
	v, err = p.rd.ReadValue()
	return v, true, err
}

// errNoConn is pipeline's error when the connection is gone.
var errNoConn = errors.New("no connection")

// pipeline sends reqs together on the current connection, which a
// WATCH pinned: no redirect, no retry, no reconnect. It returns the
// replies read, whether any byte may have reached the server, and the
// error that broke the connection (which it then drops).
func (p *plain) pipeline(wait time.Duration, reqs ...[]string) (vs []resp.Value, sent bool, err error) {
	if p.conn == nil {
		return nil, false, errNoConn
	}
	var b []byte
	for _, r := range reqs {
		b = resp.AppendCommand(b, r...)
	}
	p.conn.SetDeadline(time.Now().Add(wait))
	if n, err := p.conn.Write(b); err != nil {
		p.drop()
		return nil, n > 0, err
	}
	for range reqs {
		v, err := p.rd.ReadValue()
		if err != nil {
			p.drop()
			return vs, true, err
		}
		vs = append(vs, v)
	}
	return vs, true, nil
}

// notApplied reports whether an error reply to a write says it was not
// applied: a redirect, TRYAGAIN, or (EXEC) EXECABORT.
func notApplied(v resp.Value) bool {
	err := resp.AsError(v)
	var redirect *resp.RedirectError
	return errors.As(err, &redirect) || errors.Is(err, resp.ErrTryAgain) || errors.Is(err, resp.ErrExecAbort)
}
