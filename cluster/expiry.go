package cluster

import (
	"context"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// expiryLoop is the leader's expiry sweep, one of the term's loops. Reads
// never return an expired value, but the memory is only freed when the
// deletion goes through the log: every interval the leader asks the FSM
// for the write that deletes the keys past their deadline and proposes it
// like any other write, a batch at a time, so every replica removes the
// same keys.
func (t *tenure) expiryLoop(n *Node) func(context.Context) {
	return func(ctx context.Context) {
		const batch = 256
		tick := time.NewTicker(n.cfg.ExpiryInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for ctx.Err() == nil {
				req := n.fsm.ExpiredRequest(time.Now().UnixMilli(), batch)
				if req == nil {
					break
				}
				if _, _, err := t.proposer.propose(0, resp.RESP2, req).Wait(); err != nil {
					n.log.Debug("expiry sweep stopped", "err", err)
					break
				}
				if len(req) <= batch {
					break
				}
			}
		}
	}
}
