package cluster

import (
	"strconv"
	"time"
)

// Stats is a snapshot of a node's counters, for a metrics endpoint: the
// same figures INFO's raft section shows (frontdoor.go, accounting.go),
// typed. Counters only grow while the process runs.
type Stats struct {
	Leader       bool
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64
	LastLogIndex uint64
	Peers        int // the other servers in the Raft configuration

	LogWrites  uint64        // log store writes (each one or more entries)
	LogEntries uint64        // entries written
	LogWrite   time.Duration // summed time in log store writes
	LogSyncs   uint64        // fdatasyncs those writes cost (the store's per-write count)

	CommandsApplied uint64        // commands this node's state machine applied
	Apply           time.Duration // summed time in its apply

	Batches         uint64        // batch entries this node proposed as leader
	BatchCommands   uint64        // writes in them
	BatchQueue      time.Duration // summed: a batch's first write to its proposal
	BatchCommit     time.Duration // summed: proposal to applied
	BatchesInFlight int64

	Keys     int // keys held (expired ones not yet removed included)
	Sessions int // open client sessions
	// CommandPanics counts commands that panicked (a server bug) and were
	// answered with an error (fsm.Stats).
	CommandPanics uint64
}

// Stats returns the node's counters now.
func (n *Node) Stats() Stats {
	st := n.raft.Stats()
	kind := n.cfg.LogStore
	if kind == "" {
		kind = LogStoreBolt
	}
	writes := n.logs.writes.Load()
	return Stats{
		Leader:          n.IsLeader(),
		Term:            parseUint(st["term"]),
		CommitIndex:     n.raft.CommitIndex(),
		AppliedIndex:    n.fsm.Applied(),
		LastLogIndex:    parseUint(st["last_log_index"]),
		Peers:           int(parseUint(st["num_peers"])),
		LogWrites:       writes,
		LogEntries:      n.logs.entries.Load(),
		LogWrite:        time.Duration(n.logs.writeNanos.Load()),
		LogSyncs:        writes * syncsPerWrite[kind],
		CommandsApplied: n.cycle.applied.Load(),
		Apply:           time.Duration(n.cycle.applyNanos.Load()),
		Batches:         n.batches.Load(),
		BatchCommands:   n.commands.Load(),
		BatchQueue:      time.Duration(n.cycle.queueNanos.Load()),
		BatchCommit:     time.Duration(n.cycle.commitNanos.Load()),
		BatchesInFlight: n.cycle.inflight.Load(),
		Keys:            n.fsm.Keys(),
		Sessions:        n.fsm.Sessions(),
		CommandPanics:   n.fsm.Stats().CommandPanics,
	}
}

func parseUint(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
