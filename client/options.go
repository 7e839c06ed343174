package client

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// Options configures a Client. A zero field takes its value from
// DefaultOptions, so Options{Addrs: []string{"127.0.0.1:31337"}} is complete.
type Options struct {
	// Addrs are seed nodes, host:port. Any node will do: followers redirect
	// to the leader. At least one is required.
	Addrs []string

	// Username and Password authenticate every connection (AUTH, sent
	// with the connection's setup) when the nodes require a password
	// (--requirepass) or ACL users (--users-file). Username "" is Redis's
	// "default" user.
	Username, Password string

	// PoolSize bounds the connections open to one node, in use or idle. A
	// call that finds the pool exhausted waits for a connection (or for its
	// context to end).
	PoolSize int

	// DialTimeout bounds connecting to a node (including the HELLO exchange
	// when Protocol asks for one).
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for the replies of one round trip (one
	// command, or one pipelined batch). Blocking commands (BLPOP, BRPOP,
	// BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX) get their own timeout on top;
	// with a timeout of 0 they wait until the context ends. Negative: no
	// limit but the context's.
	ReadTimeout time.Duration
	// WriteTimeout bounds sending one round trip's requests. Negative: no
	// limit but the context's.
	WriteTimeout time.Duration

	// MinRetryBackoff and MaxRetryBackoff bound the pause before a retry.
	// The n-th pause is random in [d/2, d] with d = min(Max, Min*2^n)
	// ("equal jitter"). Redirects are followed without a pause.
	MinRetryBackoff time.Duration
	MaxRetryBackoff time.Duration
	// MaxRetries bounds the retries after retryable failures (redirects
	// followed at once do not count). 0 retries until the context ends;
	// negative never retries.
	MaxRetries int
	// MaxRedirects is how many redirects in a row are followed at once;
	// further ones pause as retries do, so two nodes naming each other
	// during an election cannot spin.
	MaxRedirects int

	// Protocol is the reply mode asked for on every new connection:
	// resp.Native (the default) sends no HELLO and keeps the server's
	// default mode; resp.RESP2 and resp.RESP3 send HELLO 2 / HELLO 3. The
	// client reads replies of any mode.
	Protocol resp.Mode

	// DisableSessions turns write sessions off. With sessions (the default)
	// the client opens a session on its first write and wraps every write
	// in KVORUM.SEQ with the session id and a sequence number, so a write
	// whose reply was cut off is resent safely and applied at most once.
	// Without them every write is sent plain, and a write that is not safe
	// to repeat fails with ErrUnknownOutcome when its reply is lost (see
	// the package documentation).
	DisableSessions bool
	// SessionTTL is how long the servers keep an idle session (in log
	// time); it is sent with KVORUM.SESSION OPEN, rounded down to
	// milliseconds (at least 1). 0 leaves the server's default (one hour). A write sent
	// after its session expired fails with ErrUnknownOutcome if an earlier
	// send of it may have been applied.
	SessionTTL time.Duration

	// Logger receives redirects and retries at Debug level. Default: discard.
	Logger *slog.Logger

	// OnRedirect, if set, is called when a call follows a -MOVED redirect
	// from one node to the named leader. It runs on the calling goroutine,
	// before the command is resent, and must not block or use the Client.
	OnRedirect func(from, to string)
}

// DefaultOptions returns the defaults that New applies to zero fields.
// Addrs has no default.
func DefaultOptions() Options {
	return Options{
		PoolSize:        16,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     3 * time.Second,
		WriteTimeout:    3 * time.Second,
		MinRetryBackoff: 8 * time.Millisecond,
		MaxRetryBackoff: 512 * time.Millisecond,
		MaxRedirects:    8,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.PoolSize <= 0 {
		o.PoolSize = d.PoolSize
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = d.DialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = d.ReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = d.WriteTimeout
	}
	if o.MinRetryBackoff <= 0 {
		o.MinRetryBackoff = d.MinRetryBackoff
	}
	if o.MaxRetryBackoff <= 0 {
		o.MaxRetryBackoff = d.MaxRetryBackoff
	}
	o.MaxRetryBackoff = max(o.MaxRetryBackoff, o.MinRetryBackoff)
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = d.MaxRedirects
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports options New cannot work with: no addresses, an empty
// address, an unknown Protocol, or a negative SessionTTL.
func (o Options) Validate() error {
	if len(o.Addrs) == 0 {
		return errors.New("client: Options.Addrs is empty: give at least one node's host:port")
	}
	for i, a := range o.Addrs {
		if a == "" {
			return fmt.Errorf("client: Options.Addrs[%d] is empty", i)
		}
	}
	switch o.Protocol {
	case resp.Native, resp.RESP2, resp.RESP3:
	default:
		return fmt.Errorf("client: Options.Protocol %v is not Native, RESP2 or RESP3", o.Protocol)
	}
	if o.SessionTTL < 0 {
		return fmt.Errorf("client: Options.SessionTTL %v is negative", o.SessionTTL)
	}
	return nil
}
