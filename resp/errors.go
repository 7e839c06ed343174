package resp

import (
	"errors"
	"strconv"
	"strings"
)

// Named errors, each defined once with its wire text. The server sends
// them as error replies (Value); the client decodes an error reply into a
// *ReplyError or *RedirectError, which errors.Is matches against them, so
// neither side compares error strings.
var (
	// ErrWrongType is the reply to a command run against a key that holds
	// a value of another kind.
	ErrWrongType = &Error{Code: "WRONGTYPE", Msg: "Operation against a key holding the wrong kind of value"}

	// ErrExecAbort is EXEC's reply when a command queued in the
	// transaction was refused: nothing of it was applied.
	ErrExecAbort = &Error{Code: "EXECABORT", Msg: "Transaction discarded because of previous errors."}

	// ErrTryAgain matches every TRYAGAIN error, whatever its message: the
	// command was not applied, so retrying is safe. TryAgain builds one
	// with a message.
	ErrTryAgain = &Error{Code: CodeTryAgain}

	// ErrUncertain matches every UNCERTAIN error, whatever its message: a
	// write was cut off in flight and may or may not have been applied, so
	// a blind retry could apply it twice. Uncertain builds one with a
	// message.
	ErrUncertain = &Error{Code: CodeUncertain}

	// ErrTimeoutNegative is ParseTimeout's error for a negative timeout.
	ErrTimeoutNegative = &Error{Code: "ERR", Msg: "timeout is negative"}

	// ErrTimeoutInvalid is ParseTimeout's error for a timeout that is not
	// a number or is over 1e12 seconds.
	ErrTimeoutInvalid = &Error{Code: "ERR", Msg: "timeout is not a float or out of range"}

	// ErrNoLeader is the redirect with no leader known: -CLUSTERDOWN.
	// errors.Is matches it to every *RedirectError with an empty Leader.
	ErrNoLeader = &RedirectError{}

	// ErrUnbalancedQuotes is the inline parser's error for a line such as
	// `SET "a b`.
	ErrUnbalancedQuotes = &ProtocolError{Msg: "unbalanced quotes in request"}
)

// Error is a named error reply: Code is its upper-case first word on the
// wire ("WRONGTYPE", "TRYAGAIN", "ERR") and Msg the rest. It is a Go error
// on the server side and, through Value, the reply that carries it. Two
// *Errors match under errors.Is when their codes are equal, and so does a
// client's *ReplyError whose text starts with the code.
type Error struct {
	Code string // upper case, no spaces
	Msg  string // may be empty
}

// Error returns the wire text: "CODE msg", or just "CODE" if Msg is empty.
func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Code
	}
	return e.Code + " " + e.Msg
}

// Value returns the error reply that carries e.
func (e *Error) Value() Value { return Err(e.Error()) }

// Is reports whether target is an *Error with the same Code, whatever the
// message (errors.Is(err, ErrTryAgain) matches any TRYAGAIN error), except
// for the generic code ERR, where the message must match too.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Code != "ERR" || t.Msg == e.Msg)
}

// TryAgain returns a TRYAGAIN error with msg: the command was not applied
// and may be retried. It matches ErrTryAgain.
func TryAgain(msg string) *Error { return &Error{Code: CodeTryAgain, Msg: msg} }

// Uncertain returns an UNCERTAIN error with msg: the write may or may not
// have been applied. It matches ErrUncertain.
func Uncertain(msg string) *Error { return &Error{Code: CodeUncertain, Msg: msg} }

// errorCode returns the code of an error reply's text: its first word.
func errorCode(msg string) string {
	code, _, _ := strings.Cut(msg, " ")
	return code
}

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

func (e *RedirectError) Error() string {
	if e.Leader == "" {
		return "CLUSTERDOWN no leader"
	}
	return "MOVED 0 " + e.Leader
}

// Value returns the error reply that carries the redirect.
func (e *RedirectError) Value() Value { return Err(e.Error()) }

// Is reports whether target is a *RedirectError naming the same leader, so
// errors.Is(err, ErrNoLeader) matches every -CLUSTERDOWN redirect, whether
// it is ErrNoLeader itself or one a client decoded.
func (e *RedirectError) Is(target error) bool {
	t, ok := target.(*RedirectError)
	return ok && t.Leader == e.Leader
}

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

// Is reports whether target is an *Error whose Code is the reply's first
// word, so errors.Is(AsError(v), ErrWrongType) is true for any WRONGTYPE
// reply v.
func (e *ReplyError) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && errorCode(e.Msg) == t.Code && (t.Code != "ERR" || e.Msg == t.Error())
}

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
