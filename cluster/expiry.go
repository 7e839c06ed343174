package cluster

import (
	"context"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// expiryLoop runs on the leader (leaderLoop starts and stops it with the
// reconcile loop). Reads never return an expired value, but the memory is
// only freed when the deletion goes through the log: every interval the
// leader lists keys past their deadline and proposes KVORUM.REAP for them,
// a batch at a time, so every replica removes the same keys.
func (n *Node) expiryLoop(ctx context.Context) {
	const batch = 256
	tick := time.NewTicker(n.cfg.ExpiryInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for {
			keys := n.fsm.Expired(time.Now().UnixMilli(), batch)
			if len(keys) == 0 {
				break
			}
			args := make([]resp.Value, 0, len(keys)+1)
			args = append(args, resp.BulkString("KVORUM.REAP"))
			for _, k := range keys {
				args = append(args, resp.BulkString(k))
			}
			data := fsm.AppendEntry(nil, fsm.EntryHeader{Kind: fsm.EntryCommand, Mode: resp.RESP2, Now: time.Now().UnixMilli()}, args)
			if err := n.raft.Apply(data, n.cfg.ApplyTimeout).Error(); err != nil {
				n.log.Debug("expiry sweep stopped", "err", err)
				break
			}
			if len(keys) < batch || ctx.Err() != nil {
				break
			}
		}
	}
}
