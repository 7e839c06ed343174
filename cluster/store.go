package cluster

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// ErrDataDirLocked means another process holds the data directory.
var ErrDataDirLocked = errors.New("data directory is in use by another kvorum-server")

// countingStore wraps the log store to count disk writes: INFO's raft
// section shows entries per write, the proof that group commit works.
type countingStore struct {
	*raftboltdb.BoltStore
	writes  atomic.Uint64
	entries atomic.Uint64
}

func (s *countingStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

func (s *countingStore) StoreLogs(logs []*raft.Log) error {
	s.writes.Add(1)
	s.entries.Add(uint64(len(logs)))
	return s.BoltStore.StoreLogs(logs)
}

// openStores opens the bolt log/stable store and the snapshot store under
// dir, failing fast if another process holds the bolt lock.
func openStores(dir string, cfg Config) (*countingStore, *raft.FileSnapshotStore, error) {
	bolt, err := raftboltdb.New(raftboltdb.Options{
		Path: filepath.Join(dir, "raft.db"),
		BoltOptions: &bbolt.Options{
			Timeout:         time.Second,
			NoFreelistSync:  true,
			FreelistType:    bbolt.FreelistMapType,
			NoGrowSync:      true,
			InitialMmapSize: 256 << 20,
		},
	})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, nil, fmt.Errorf("open %s: %w", filepath.Join(dir, "raft.db"), ErrDataDirLocked)
		}
		return nil, nil, fmt.Errorf("open raft log %s: %w", filepath.Join(dir, "raft.db"), err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hclogFor(cfg.Logger, "snapshot"))
	if err != nil {
		bolt.Close()
		return nil, nil, fmt.Errorf("open snapshot store in %s: %w", dir, err)
	}
	if err := checkLatestSnapshot(dir, snaps); err != nil {
		bolt.Close()
		return nil, nil, err
	}
	return &countingStore{BoltStore: bolt}, snaps, nil
}

// checkLatestSnapshot opens the newest snapshot, which verifies its CRC, so a
// corrupt or truncated file stops start-up with its name instead of raft
// silently falling back to an older snapshot (or to an empty state).
func checkLatestSnapshot(dir string, snaps *raft.FileSnapshotStore) error {
	list, err := snaps.List()
	if err != nil {
		return fmt.Errorf("list snapshots in %s: %w", dir, err)
	}
	if len(list) == 0 {
		return nil
	}
	path := filepath.Join(dir, "snapshots", list[0].ID, "state.bin")
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("snapshot %s is corrupt or truncated: %w", path, err)
	}
	rc.Close()
	return nil
}
