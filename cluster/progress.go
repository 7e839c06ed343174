package cluster

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// progressTransport is raft's network transport with a record of how far
// each follower's log reaches, as the leader last heard it: INFO
// replication's offset and lag per replica. hashicorp/raft keeps its
// followers' match indexes to itself, but every AppendEntries answer
// carries the follower's last log index, and the leader sends each
// follower a heartbeat (an AppendEntries of its own, outside the
// replication pipeline) about ten times per heartbeat timeout, so the
// record is never older than that while the follower answers.
//
// It embeds the transport, so everything else, the pipeline and the
// optional interfaces raft looks for (pre-vote, Close) included, is the
// transport's own.
type progressTransport struct {
	*raft.NetworkTransport
	mu    sync.Mutex
	peers map[raft.ServerID]Progress
}

// Progress is one follower's last answer to the leader.
type Progress struct {
	LastLog uint64    // its last log index, as it answered
	At      time.Time // when the answer came
}

func newProgressTransport(t *raft.NetworkTransport) *progressTransport {
	return &progressTransport{NetworkTransport: t, peers: make(map[raft.ServerID]Progress)}
}

// AppendEntries sends one AppendEntries (a heartbeat, or a batch outside
// the pipeline) and records a successful answer's last log index.
func (p *progressTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress,
	args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	err := p.NetworkTransport.AppendEntries(id, target, args, resp)
	if err == nil && resp.Success {
		p.mu.Lock()
		p.peers[id] = Progress{LastLog: resp.LastLog, At: time.Now()}
		p.mu.Unlock()
	}
	return err
}

// progress returns follower id's last answer, if one came.
func (p *progressTransport) progress(id raft.ServerID) (Progress, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, ok := p.peers[id]
	return pr, ok
}
