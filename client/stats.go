package client

import "sync/atomic"

// Stats counts what the client did to get its calls answered, since New.
// The counts only grow.
type Stats struct {
	// Retries counts the pauses (backoff with jitter) taken before sending
	// again after a retryable failure: -CLUSTERDOWN, -TRYAGAIN,
	// -UNCERTAIN, -NOSESSION, a refused or broken connection, a timeout.
	Retries uint64
	// Redirects counts the -MOVED redirects followed.
	Redirects uint64
	// LeaderChanges counts the times the client learned a leader other
	// than the last one it knew (learning the first is not a change).
	LeaderChanges uint64
	// LeaderSearches counts the searches for the leader run after the
	// leader's address failed (see the package documentation).
	LeaderSearches uint64
	// SessionsOpened counts the write sessions opened.
	SessionsOpened uint64
	// SessionResends counts the writes sent again under their session
	// (same id and seq) after an earlier send's outcome was unknown (a
	// reply cut off, a timeout, -UNCERTAIN).
	SessionResends uint64
	// UnknownOutcomes counts the commands that failed with an error
	// matching ErrUnknownOutcome.
	UnknownOutcomes uint64
}

// counters are Stats' live counts, updated without locks.
type counters struct {
	retries, redirects, leaderChanges, leaderSearches atomic.Uint64
	sessionsOpened, sessionResends, unknownOutcomes   atomic.Uint64
}

// Stats returns the client's counts so far. It is safe to call at any
// time, also after Close; the counts are read one by one, not as one
// snapshot.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{
		Retries:         s.retries.Load(),
		Redirects:       s.redirects.Load(),
		LeaderChanges:   s.leaderChanges.Load(),
		LeaderSearches:  s.leaderSearches.Load(),
		SessionsOpened:  s.sessionsOpened.Load(),
		SessionResends:  s.sessionResends.Load(),
		UnknownOutcomes: s.unknownOutcomes.Load(),
	}
}
