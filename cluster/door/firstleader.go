package door

import (
	"context"
	"errors"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// The first leader. A node that has just started knows no leader until
// the first election ends, a second or so, and a request that needs one
// would get -CLUSTERDOWN: a script that starts the server and runs
// commands straight away would fail. Until the node has known a leader
// once, such a request waits for one instead, at most until
// Config.FirstLeaderWait after the door was made (one deadline for all),
// and then takes its normal route (served, -MOVED, or -CLUSTERDOWN). The
// wait holds Serve, which the connection calls for one request at a time
// and in order, so the requests pipelined behind it stay behind it. Once a
// wait has seen a leader, or the deadline has passed, the door never waits
// again: later elections answer -CLUSTERDOWN or -MOVED at once, as clients
// that follow redirects expect.

// firstLeaderPoll is how often the wait looks: the Store has no event for
// a leader elsewhere becoming known, and the wait is short and happens
// once per node.
const firstLeaderPoll = 10 * time.Millisecond

// awaitFirstLeader waits, before the node has known any leader, until it
// knows one, ctx ends, or Config.FirstLeaderWait has passed since the door
// was made: one deadline for every request, so a node that finds no
// leader (no quorum) answers at once after it, not each request after a
// wait of its own.
func (d *Door) awaitFirstLeader(ctx context.Context) {
	if d.leaderSeen.Load() {
		return
	}
	wait := time.Until(d.firstLeaderBy)
	if wait <= 0 {
		return
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(firstLeaderPoll)
	defer tick.Stop()
	for !d.leaderKnown() {
		select {
		case <-tick.C:
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		}
	}
	d.leaderSeen.Store(true)
}

// leaderKnown reports whether this node leads or names another leader;
// not while no leader is known or this node is still becoming one.
func (d *Door) leaderKnown() bool {
	if d.store.Leading() != nil {
		return true
	}
	err := d.store.NotLeading()
	return !errors.Is(err, resp.ErrNoLeader) && !errors.Is(err, resp.ErrTryAgain)
}

// needsLeader reports whether cmd, on a connection in state s, is served
// only by the leader: every kind but Local (and a READONLY connection's
// reads), and the Local commands that go to the leader themselves (WATCH,
// EXEC, a KVORUM.SEQ-wrapped write).
func needsLeader(cmd *Command, s *session) bool {
	switch {
	case cmd.Kind == Read:
		return !s.readonly
	case cmd.Kind != Local:
		return true
	}
	switch cmd.Name {
	case "WATCH", "EXEC", fsm.SeqCommand:
		return true
	}
	return false
}
