package client

import (
	"errors"
	"fmt"
	"strings"
)

// ErrClosed is returned by calls made after Close, and wrapped by the
// errors of calls that Close interrupted.
var ErrClosed = errors.New("client: closed")

// ErrUnknownOutcome is matched (errors.Is) by the error of a command that
// was sent, may have been applied, and whose reply never came. With write
// sessions (the default) that is a session write when the context ended,
// the client closed or MaxRetries ran out before a resend was answered, or
// when its session expired after a send that may have been applied
// (-NOSESSION); and a command sent plain (sessions off, or not a write the
// session wraps) that is not safe to repeat, when the connection broke,
// the read timed out, the context ended or the reply was -UNCERTAIN. The
// client does not send it again.
var ErrUnknownOutcome = errors.New("client: outcome unknown")

// UnknownOutcomeError is the error of one command whose fate is unknown. It
// matches ErrUnknownOutcome and unwraps to the transport error, the
// -UNCERTAIN or -NOSESSION reply, the context's error or ErrClosed.
type UnknownOutcomeError struct {
	Cmd  string // the command's name, upper case
	Addr string // the node it was sent to
	Err  error  // what cut the exchange off
}

func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("client: %s was sent to %s but its outcome is unknown: %v", e.Cmd, e.Addr, e.Err)
}

// Is reports whether target is ErrUnknownOutcome.
func (e *UnknownOutcomeError) Is(target error) bool { return target == ErrUnknownOutcome }

// Unwrap returns the cause.
func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// Attempt is one failed try of a command: the node and why it failed (a
// *resp.RedirectError, a dial or connection error, a timeout).
type Attempt struct {
	Addr string
	Err  error
}

// maxAttempts is how many attempts a RetryError lists.
const maxAttempts = 16

// RetryError is returned when a command never got a final reply: each
// attempt failed with a retryable error, and then the context ended, the
// client closed, or MaxRetries ran out. The command was not applied, or
// it is safe to repeat (see the package documentation); a write that may
// have been applied gets an *UnknownOutcomeError instead.
type RetryError struct {
	Cmd      string    // the command's name, upper case
	Attempts []Attempt // the last attempts, oldest first (at most 16)
	Total    int       // how many attempts were made
	Err      error     // why retrying stopped: the context's error, ErrClosed, or the last attempt's error
}

func (e *RetryError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "client: %s failed after %d attempt(s)", e.Cmd, e.Total)
	if n := len(e.Attempts); n > 0 {
		a := e.Attempts[n-1]
		fmt.Fprintf(&sb, ", last at %s: %v; nodes tried: %s", a.Addr, a.Err, strings.Join(e.nodes(), ", "))
	}
	if e.Err != nil && (len(e.Attempts) == 0 || e.Err != e.Attempts[len(e.Attempts)-1].Err) {
		fmt.Fprintf(&sb, ": %v", e.Err)
	}
	return sb.String()
}

// nodes returns the distinct addresses attempted, in first-tried order.
func (e *RetryError) nodes() []string {
	var out []string
	for _, a := range e.Attempts {
		if !contains(out, a.Addr) {
			out = append(out, a.Addr)
		}
	}
	return out
}

// Unwrap returns Err and the last attempt's error, so errors.Is matches
// both context.DeadlineExceeded and, say, a *resp.RedirectError.
func (e *RetryError) Unwrap() []error {
	out := []error{e.Err}
	if n := len(e.Attempts); n > 0 && e.Attempts[n-1].Err != e.Err {
		out = append(out, e.Attempts[n-1].Err)
	}
	return out
}

// PipelineError reports the commands of a pipeline that failed. Errs has
// one entry per queued command, in order: nil for a command that succeeded,
// else a *resp.ReplyError (an error reply), *UnknownOutcomeError,
// *RetryError, or an argument conversion error.
type PipelineError struct {
	Errs []error
}

func (e *PipelineError) Error() string {
	n, first := 0, -1
	for i, err := range e.Errs {
		if err != nil {
			n++
			if first < 0 {
				first = i
			}
		}
	}
	if first < 0 {
		return "client: pipeline: no command failed"
	}
	return fmt.Sprintf("client: pipeline: %d of %d commands failed; first (#%d): %v", n, len(e.Errs), first, e.Errs[first])
}

// Unwrap returns the non-nil errors, so errors.Is(err, ErrUnknownOutcome)
// tells whether any command's fate is unknown.
func (e *PipelineError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
