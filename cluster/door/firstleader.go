package door

import (
	"context"
	"errors"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// The first leader. A node that has just started knows no leader until
// the first election ends, a second or so, and a request that needs one
// would get -CLUSTERDOWN: a script that starts the server and runs
// commands straight away would fail. Until the node has known a leader
// once, such a request waits for one instead, up to Config.FirstLeaderWait,
// and then takes its normal route (served, -MOVED, or -CLUSTERDOWN if the
// wait ran out). The wait holds Serve, which the connection calls for one
// request at a time and in order, so the requests pipelined behind it stay
// behind it. Once a leader has been known the door never waits again:
// later elections answer -CLUSTERDOWN or -MOVED at once, as clients that
// follow redirects expect.

// firstLeaderPoll is how often the wait looks: the Store has no event for
// a leader elsewhere becoming known, and the wait is short and happens
// once per node.
const firstLeaderPoll = 10 * time.Millisecond

// awaitFirstLeader waits, before the node has known any leader, until it
// knows one, ctx ends, or Config.FirstLeaderWait passes.
func (d *Door) awaitFirstLeader(ctx context.Context) {
	if d.leaderSeen.Load() || d.cfg.FirstLeaderWait <= 0 {
		return
	}
	deadline := time.NewTimer(d.cfg.FirstLeaderWait)
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
