package door

import (
	"context"
	"io"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Store is what the front door needs from replication. cluster.Node
// implements it; tests use a fake that applies writes to an fsm.FSM at
// once. Every method is safe from any goroutine.
type Store interface {
	// FSM is the replicated state machine: the door reads it directly for
	// READONLY reads (after ReadIndex for linearizable ones), for the
	// blocking pops' look before an attempt, and for INFO keyspace, and
	// registers the blocked pops' wake-ups on it (FSM.WatchPushes).
	FSM() *fsm.FSM
	// Propose hands a write to the log without waiting for it. It must
	// not keep args (the slice) once it returns: the door proposes a
	// framed session write from a scratch slice it reuses (sessions.go).
	// client is the ID of the connection that sent it (resp.Conn.ID), or
	// 0 for a write of kvorum's own: the proposer waits for a client's
	// next write only when clients tend to send one right after a reply.
	Propose(client uint64, mode resp.Mode, args []resp.Value) Proposal
	// ReadIndex starts a linearizable read: its Wait returns once a read
	// run against FSM sees every write acknowledged before ReadIndex.
	ReadIndex() ReadIndex
	// Leading returns a channel that is closed when this node stops
	// leading, or nil while it does not lead (or has not yet applied its
	// term's barrier). Everything leader-only in the door watches it.
	Leading() <-chan struct{}
	// NotLeading says why this node cannot serve a leader's command now: a
	// *resp.RedirectError naming the leader (resp.ErrNoLeader if none is
	// known), or a resp.ErrTryAgain error while it is becoming leader.
	NotLeading() error
	// Status describes the node and its cluster for INFO, ROLE, CLUSTER.
	Status() Status
	// Conns lists the client connections the node serves (CLIENT LIST).
	Conns() []*resp.Conn
	// Settings are the node's settings CONFIG GET reports (config.go).
	Settings() Settings
	// Snapshots describes the node's Raft snapshots (INFO persistence).
	Snapshots() Snapshots
	// Backup writes a backup of the whole state to w, on the leader
	// (KVORUM.BACKUP); Restore replaces the state with one (KVORUM.RESTORE).
	Backup(w io.Writer) error
	Restore(backup []byte) error
}

// Proposal is a write handed to the log.
type Proposal interface {
	// Wait blocks until the write is applied and returns its reply and
	// the index of its log entry; or an error: a *resp.RedirectError if
	// it never entered the log, resp.ErrTryAgain if it was not applied,
	// resp.ErrUncertain if it may or may not have been.
	Wait() (resp.Value, uint64, error)
}

// ReadIndex is a linearizable read's wait for its turn.
type ReadIndex interface {
	// Wait blocks until the read may run, or returns why it may not (as
	// Proposal.Wait's errors), or ctx's error.
	Wait(ctx context.Context) error
}

// Status is a snapshot of the node's view of its cluster.
type Status struct {
	ID         string    // this node's id
	ClientAddr string    // the bound client address
	Started    time.Time // when the node started
	Term       uint64    // the current Raft term
	Applied    uint64    // the FSM's last applied index
	LastIndex  uint64    // the last index in this node's Raft log
	Servers    []Server  // the Raft configuration joined with gossip, leader first
	Members    []Member  // the gossip members
	Raft       []string  // "raft_*:value" lines for INFO's # Raft section
	// Accepted and Rejected count the client connections served and
	// turned away since the start (INFO stats).
	Accepted, Rejected uint64
}

// Server is one Raft server.
type Server struct {
	ID, RaftAddr string
	ClientAddr   string // "" if gossip has not told us yet
	Leader       bool
	Voter        bool
	Failed       bool // gossip marks it failed
	// Offset and Answered, on the leader, are a follower's last log index
	// and when it last answered an AppendEntries (a heartbeat at least),
	// Answered zero if it has not since this node started.
	Offset   uint64
	Answered time.Time
}

// Member is one gossip member.
type Member struct {
	ID, Status, ClientAddr, RaftAddr string
}

// Settings are the node's settings that CONFIG GET reports and the door
// does not hold itself. They are fixed when the node starts.
type Settings struct {
	ListenAddr  string        // the client listen address as configured (--listen), e.g. ":31337"
	MaxClients  int           // client connections served at once (--max-clients)
	IdleTimeout time.Duration // an idle client connection is closed after it (--timeout; 0: never)
}

// Snapshots describes the node's Raft snapshots: the latest one on disk
// and whether one is being written.
type Snapshots struct {
	LastIndex  uint64    // the last log index the latest snapshot holds (0: none yet)
	LastTime   time.Time // when the latest snapshot was written (zero: none yet)
	LastSize   int64     // the latest snapshot's size in bytes
	InProgress bool      // a snapshot is being written now
}
