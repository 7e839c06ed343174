package door_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// fakeStore is the door.Store of one node with no Raft under it, in the
// spirit of hashicorp/raft's InmemTransport and MockFSM: a write is applied
// to the FSM the moment it is proposed, a read never waits, and leadership
// is whatever the test says (stepDown, lead).
type fakeStore struct {
	fsm     *fsm.FSM
	started time.Time
	addr    string       // the door's client address, set by serve
	srv     *resp.Server // set by serve, for Conns

	mu     sync.Mutex    // serializes Apply, as raft's FSM goroutine does
	index  uint64        // the last log index applied
	lost   chan struct{} // closed when leadership ends; nil while not leading
	leader string        // the leader's client address redirects name while not leading

	settings  door.Settings  // what Settings answers
	snapshots door.Snapshots // what Snapshots answers
}

var _ door.Store = (*fakeStore)(nil)

// newFakeStore returns a store that leads.
func newFakeStore() *fakeStore {
	return &fakeStore{fsm: fsm.New(fsm.Config{}), started: time.Now(), lost: make(chan struct{}),
		settings: door.Settings{ListenAddr: "127.0.0.1:0", MaxClients: 10000}}
}

func (s *fakeStore) FSM() *fsm.FSM { return s.fsm }

func (s *fakeStore) Propose(_ uint64, mode resp.Mode, args []resp.Value) door.Proposal {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost == nil {
		return applied{err: s.notLeading()}
	}
	s.index++
	data := fsm.AppendEntry(nil, fsm.EntryHeader{Kind: fsm.EntryCommand, Mode: mode, Now: time.Now().UnixMilli()}, args)
	v := s.fsm.Apply(&raft.Log{Type: raft.LogCommand, Index: s.index, Data: data}).(resp.Value)
	return applied{v: v, index: s.index}
}

func (s *fakeStore) ReadIndex() door.ReadIndex {
	if s.Leading() == nil {
		return ready{err: s.NotLeading()}
	}
	return ready{}
}

func (s *fakeStore) Leading() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

func (s *fakeStore) NotLeading() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notLeading()
}

func (s *fakeStore) notLeading() error {
	if s.leader == "" {
		return resp.ErrNoLeader
	}
	return &resp.RedirectError{Leader: s.leader}
}

// Status describes a one-server cluster of which this node is the leader,
// or a follower of a leader it does not know the Raft side of.
func (s *fakeStore) Status() door.Status {
	leading := s.Leading() != nil
	return door.Status{ID: "fake", ClientAddr: s.addr, Started: s.started, Term: 1, Applied: s.fsm.Applied(),
		Servers: []door.Server{{ID: "fake", RaftAddr: "127.0.0.1:0", ClientAddr: s.addr, Leader: leading, Voter: true}},
		Members: []door.Member{{ID: "fake", Status: "alive", ClientAddr: s.addr, RaftAddr: "127.0.0.1:0"}},
		Raft:    []string{"raft_state:fake", "raft_term:1"}}
}

func (s *fakeStore) Settings() door.Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

func (s *fakeStore) Snapshots() door.Snapshots {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshots
}

// Backup persists the fake's state machine as a snapshot stream, and
// Restore reads one back: the door's commands around them are what the
// door's tests check (cluster/backup.go adds the header and Raft).
func (s *fakeStore) Backup(w io.Writer) error {
	snap, err := s.fsm.Snapshot()
	if err != nil {
		return err
	}
	return snap.Persist(&writerSink{w})
}

func (s *fakeStore) Restore(backup []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fsm.Restore(io.NopCloser(bytes.NewReader(backup)))
}

// writerSink is a raft.SnapshotSink that writes to w.
type writerSink struct{ io.Writer }

func (writerSink) ID() string    { return "fake" }
func (writerSink) Cancel() error { return nil }
func (writerSink) Close() error  { return nil }

func (s *fakeStore) Conns() []*resp.Conn {
	if s.srv == nil {
		return nil
	}
	return s.srv.Conns()
}

// stepDown ends the leadership, as a lost election would: everything
// waiting on Leading is told, and from now on leader-only requests are
// redirected to leader ("" for no leader known: CLUSTERDOWN).
func (s *fakeStore) stepDown(leader string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost != nil {
		close(s.lost)
	}
	s.lost, s.leader = nil, leader
}

// lead makes the store lead again, under a new leadership.
func (s *fakeStore) lead() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost == nil {
		s.lost, s.leader = make(chan struct{}), ""
	}
}

// applied is a proposal already applied (or refused).
type applied struct {
	v     resp.Value
	index uint64
	err   error
}

func (a applied) Wait() (resp.Value, uint64, error) { return a.v, a.index, a.err }

// ready is a read whose turn has come (or that is refused).
type ready struct{ err error }

func (r ready) Wait(context.Context) error { return r.err }

// startDoor serves a door on a leading fakeStore on a loopback port and
// returns the store and the client address. t.Cleanup closes the server,
// then the door.
func startDoor(t testing.TB) (*fakeStore, string) {
	t.Helper()
	s := newFakeStore()
	return s, serve(t, s, door.New(door.Config{Store: s}))
}

// serve serves d, built on s, on a loopback port until t's cleanup.
func serve(t testing.TB, s *fakeStore, d *door.Door) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := resp.NewServer(resp.Config{}, d)
	s.addr, s.srv = ln.Addr().String(), srv
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, resp.ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
		d.Close()
	})
	return s.addr
}
