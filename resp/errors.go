package resp

import (
	"errors"
	"strconv"
	"strings"
)

// ProtocolError is a malformed or over-limit frame. The connection it came
// from cannot be resynchronised, so the server answers
// "-ERR Protocol error: <Msg>" and closes it.
type ProtocolError struct {
	Msg string
}

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// Value returns the error reply a server sends for e.
func (e *ProtocolError) Value() Value { return Err("ERR " + e.Error()) }

func protoErr(msg string) error { return &ProtocolError{Msg: msg} }

// ErrUnbalancedQuotes is the inline parser's error for a line such as `SET "a b`.
var ErrUnbalancedQuotes = &ProtocolError{Msg: "unbalanced quotes in request"}

// RedirectError is the reply of a node that cannot serve a command because it
// is not the leader: "-MOVED 0 host:port" naming the leader's client address
// (Redis Cluster's redirect, for one shard owning slot 0 and every other), or
// "-CLUSTERDOWN no leader" while no leader is known (Leader is empty).
//
// It is built and parsed only here, so the server and the client agree on
// the text by construction.
type RedirectError struct {
	Leader string // the leader's client address, host:port; "" when unknown
}

// ErrNoLeader is the redirect with no leader known: -CLUSTERDOWN.
var ErrNoLeader = &RedirectError{}

func (e *RedirectError) Error() string {
	if e.Leader == "" {
		return "CLUSTERDOWN no leader"
	}
	return "MOVED 0 " + e.Leader
}

// Value returns the error reply that carries the redirect.
func (e *RedirectError) Value() Value { return Err(e.Error()) }

// ParseRedirect recognises a -MOVED or -CLUSTERDOWN error reply. It reports
// false for any other value, including other errors.
func ParseRedirect(v Value) (*RedirectError, bool) {
	if v.kind != KindError {
		return nil, false
	}
	msg := string(v.str)
	switch {
	case strings.HasPrefix(msg, "CLUSTERDOWN"):
		return &RedirectError{}, true
	case strings.HasPrefix(msg, "MOVED "):
		f := strings.Fields(msg)
		if len(f) != 3 {
			return nil, false
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			return nil, false
		}
		return &RedirectError{Leader: f[2]}, true
	}
	return nil, false
}

// ReplyError is an error reply received by a client, e.g. "ERR unknown
// command" or "WRONGTYPE ...". Redirects are RedirectErrors instead.
type ReplyError struct {
	Msg string
}

func (e *ReplyError) Error() string { return e.Msg }

// AsError converts an error value into a Go error: a *RedirectError for
// redirects and a *ReplyError otherwise. It returns nil for a non-error value.
func AsError(v Value) error {
	if v.kind != KindError {
		return nil
	}
	if r, ok := ParseRedirect(v); ok {
		return r
	}
	return &ReplyError{Msg: string(v.str)}
}

// IsProtocolError reports whether err is (or wraps) a *ProtocolError.
func IsProtocolError(err error) bool {
	var pe *ProtocolError
	return errors.As(err, &pe)
}
