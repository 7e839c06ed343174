package cluster

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// The write path's accounting: where one commit cycle's time goes and how
// many disk syncs each command costs, on this node. INFO's raft section
// shows it (totals, so a benchmark can take differences around a run, and
// averages); docs/BENCHMARKS.md judges every change to the write path
// against it. The cycle of one batch on the leader is: queue (the batch
// fills while the one before it commits) -> leader log write -> the
// followers' AppendEntries round, which holds their log writes -> commit
// -> apply -> replies (then, on the leader, the next batch's linger for
// the clients answered: part of its queue time). The proposer times the
// queue and the whole commit (Apply to applied), the counting store the
// log writes (on a follower: the follower's store), and timedFSM the
// apply; the replication round is what the commit takes beyond the
// leader's write and apply.
type cycleStats struct {
	queueNanos  atomic.Uint64 // summed over batches: first write to Apply
	commitNanos atomic.Uint64 // summed over batches: Apply to applied, on the leader
	applyNanos  atomic.Uint64 // summed: the state machine's apply on this node
	applied     atomic.Uint64 // commands applied on this node
	inflight    atomic.Int64  // batches sent and not yet applied (leader)
	// The proposer's lingers (proposer.go): batches that waited for the
	// clients just answered, the time they waited (part of the queue time)
	// and the writes that joined them meanwhile.
	lingered, lingerNanos, lingerJoined atomic.Uint64
	// returnShare is the linger's moving average, in thousandths, of the
	// share of an entry's clients that wrote again before the next commit.
	returnShare atomic.Uint64
}

// readStats are the read gate's accounting: how many leadership
// confirmations (rounds) it ran, how many reads the successful ones
// confirmed and how long each took, from the commit index's record to the
// confirmation. A sole voter's reads need no round and are not counted.
type readStats struct {
	rounds     atomic.Uint64
	reads      atomic.Uint64
	roundNanos atomic.Uint64
	inflight   atomic.Int64
}

// syncsPerWrite is how many fdatasyncs one log write costs in each store:
// a bolt transaction syncs its data pages, then its meta page; raft-wal
// appends to its segment and syncs once (its rare segment rotations
// aside).
var syncsPerWrite = map[string]uint64{LogStoreBolt: 2, LogStoreWAL: 1}

// timedFSM is the state machine as Raft sees it: the node's FSM, with its
// apply timed and its commands counted for cycleStats.
type timedFSM struct {
	*fsm.FSM
	st *cycleStats
}

func (t timedFSM) Apply(l *raft.Log) any { return t.ApplyBatch([]*raft.Log{l})[0] }

func (t timedFSM) ApplyBatch(logs []*raft.Log) []any {
	start := time.Now()
	out := t.FSM.ApplyBatch(logs)
	t.st.applyNanos.Add(uint64(time.Since(start)))
	var n uint64
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		if replies, ok := out[i].([]resp.Value); ok {
			n += uint64(len(replies)) // a batch entry: one reply per command
		} else {
			n++
		}
	}
	t.st.applied.Add(n)
	return out
}

// accountingInfo returns INFO raft's accounting lines.
func (n *Node) accountingInfo() []string {
	st := &n.cycle
	writes, batches, applied := n.logs.writes.Load(), n.batches.Load(), st.applied.Load()
	kind := n.cfg.LogStore
	if kind == "" {
		kind = LogStoreBolt
	}
	usec := func(nanos uint64) uint64 { return nanos / 1e3 }
	per := func(total, count uint64) string {
		if count == 0 {
			return "0.00"
		}
		return strconv.FormatFloat(float64(total)/float64(count), 'f', 2, 64)
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	writeUsec, applyUsec := usec(n.logs.writeNanos.Load()), usec(st.applyNanos.Load())
	queueUsec, commitUsec := usec(st.queueNanos.Load()), usec(st.commitNanos.Load())
	rounds, reads, roundUsec := n.reads.rounds.Load(), n.reads.reads.Load(), usec(n.reads.roundNanos.Load())
	return []string{
		"raft_log_store:" + kind,
		"raft_log_syncs_per_write:" + u(syncsPerWrite[kind]),
		"raft_log_write_usec:" + u(writeUsec),
		"raft_log_write_usec_per_write:" + per(writeUsec, writes),
		"raft_commands_applied:" + u(applied),
		"raft_fsyncs_per_command:" + per(writes*syncsPerWrite[kind], applied),
		"raft_apply_usec:" + u(applyUsec),
		"raft_apply_usec_per_command:" + per(applyUsec, applied),
		"raft_batch_queue_usec:" + u(queueUsec),
		"raft_batch_queue_usec_per_batch:" + per(queueUsec, batches),
		"raft_batches_lingered:" + u(st.lingered.Load()),
		"raft_batch_linger_usec:" + u(usec(st.lingerNanos.Load())),
		"raft_batch_linger_joined:" + u(st.lingerJoined.Load()),
		"raft_linger_return_share:" + strconv.FormatFloat(float64(st.returnShare.Load())/1000, 'f', 2, 64),
		"raft_batch_commit_usec:" + u(commitUsec),
		"raft_batch_commit_usec_per_batch:" + per(commitUsec, batches),
		"raft_batches_in_flight:" + strconv.FormatInt(st.inflight.Load(), 10),
		"raft_max_batches_in_flight:" + strconv.Itoa(maxInflight),
		"raft_read_rounds:" + u(rounds),
		"raft_read_round_usec:" + u(roundUsec),
		"raft_read_round_usec_per_round:" + per(roundUsec, rounds),
		"raft_reads_confirmed:" + u(reads),
		"raft_reads_per_round:" + per(reads, rounds),
		"raft_read_rounds_in_flight:" + strconv.FormatInt(n.reads.inflight.Load(), 10),
	}
}
