package cluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	walfs "github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
	"go.etcd.io/bbolt"
)

// ErrDataDirLocked means another process holds the data directory.
var ErrDataDirLocked = errors.New("data directory is in use by another kvorum-server")

// The Raft log stores Config.LogStore names. Either way the stable store
// (current term, vote) is raft-boltdb's raft.db.
const (
	// LogStoreBolt keeps the log in raft.db with the stable store
	// (hashicorp/raft-boltdb): two fdatasyncs per write. The default.
	LogStoreBolt = "boltdb"
	// LogStoreWAL keeps the log in segment files under wal/
	// (hashicorp/raft-wal): one fdatasync per write.
	LogStoreWAL = "wal"
)

// walSubdir is where LogStoreWAL keeps its segments and wal-meta.db. Its
// presence tells a data dir's log store apart (see checkLogStore).
const walSubdir = "wal"

// LogStoreMismatchError is New's error for a data dir whose Raft log is in
// the other store's format: kvorum refuses to start rather than begin an
// empty log beside the real one.
type LogStoreMismatchError struct {
	Dir   string // the data dir
	Holds string // the store the dir's log is in
	Want  string // the store the node was started with
}

func (e *LogStoreMismatchError) Error() string {
	return fmt.Sprintf("data dir %s holds a %s Raft log (%s), not %s: start with --raft-log-store %s "+
		"(moving a data dir between log stores is not supported)", e.Dir, e.Holds, e.evidence(), e.Want, e.Holds)
}

func (e *LogStoreMismatchError) evidence() string {
	if e.Holds == LogStoreWAL {
		return filepath.Join(e.Dir, walSubdir)
	}
	return filepath.Join(e.Dir, "raft.db") + " without " + walSubdir + "/"
}

// logCacheEntries is how many of the newest log entries raft reads from
// memory rather than the log store. Raft reads back every entry it has
// just stored: the leader to send it to each follower (and the one before
// it, for its term), a follower to apply it once committed; from bolt each
// read is a transaction and a msgpack decode of the whole batch
// (docs/BENCHMARKS.md, "Write-path accounting"). With one batch in flight
// a few entries would do; 16 leave room for a follower a little behind.
// The cache holds the entries' own bytes (no copy), so it keeps the 16
// newest entries alive: about 1 MB each at most (maxBatchBytes), unless
// one write is larger on its own.
const logCacheEntries = 16

// countingStore is the node's Raft storage: the log store, wrapped to
// count disk writes (INFO's raft section shows entries per write, the proof
// that group commit works), and the stable store. Close closes both.
type countingStore struct {
	raft.LogStore
	raft.StableStore
	writes     atomic.Uint64
	entries    atomic.Uint64
	reads      atomic.Uint64 // entries raft read back from the store, not the cache
	writeNanos atomic.Uint64 // time in the log store's writes (accounting.go)
	closers    []io.Closer   // in closing order
}

func (s *countingStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// GetLog counts the entries raft reads from the store itself: those older
// than the cache in front of it holds (logCacheEntries).
func (s *countingStore) GetLog(index uint64, l *raft.Log) error {
	s.reads.Add(1)
	return s.LogStore.GetLog(index, l)
}

func (s *countingStore) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	err := s.LogStore.StoreLogs(logs)
	s.writeNanos.Add(uint64(time.Since(start)))
	s.writes.Add(1)
	s.entries.Add(uint64(len(logs)))
	return err
}

// IsMonotonic passes on raft.MonotonicLogStore: raft-wal cannot hold a gap,
// so raft must drop the old log after installing a snapshot.
func (s *countingStore) IsMonotonic() bool {
	m, ok := s.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// Close closes the log store, then the stable store (which holds the data
// dir's lock), and returns the first error.
func (s *countingStore) Close() error {
	var first error
	for _, c := range s.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// openStores opens the log and stable stores (cfg.LogStore picks the log's)
// and the snapshot store under dir, failing fast if another process holds
// the data dir or its log is in the other store's format.
func openStores(dir string, cfg Config) (*countingStore, *raft.FileSnapshotStore, error) {
	kind := cfg.LogStore
	if kind == "" {
		kind = LogStoreBolt
	}
	if err := checkLogStore(dir, kind); err != nil {
		return nil, nil, err
	}
	var (
		store *countingStore
		err   error
	)
	switch kind {
	case LogStoreBolt:
		store, err = openBoltLog(dir)
	case LogStoreWAL:
		store, err = openWALLog(dir, cfg)
	default:
		err = fmt.Errorf("unknown raft log store %q (want %s or %s)", kind, LogStoreBolt, LogStoreWAL)
	}
	if err != nil {
		return nil, nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hclogFor(cfg.Logger, "snapshot"))
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("open snapshot store in %s: %w", dir, err)
	}
	if err := checkLatestSnapshot(dir, snaps); err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, snaps, nil
}

// checkLogStore refuses a data dir whose log is in the other store's
// format: a wal/ subdirectory means LogStoreWAL; raft.db without one means
// LogStoreBolt. A fresh dir suits either.
func checkLogStore(dir, kind string) error {
	hasWAL := exists(filepath.Join(dir, walSubdir))
	hasBolt := exists(filepath.Join(dir, "raft.db"))
	switch {
	case kind == LogStoreBolt && hasWAL:
		return &LogStoreMismatchError{Dir: dir, Holds: LogStoreWAL, Want: kind}
	case kind == LogStoreWAL && hasBolt && !hasWAL:
		return &LogStoreMismatchError{Dir: dir, Holds: LogStoreBolt, Want: kind}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// openBoltLog opens raft.db as both log and stable store.
func openBoltLog(dir string) (*countingStore, error) {
	bolt, err := openBolt(dir, 256<<20)
	if err != nil {
		return nil, err
	}
	return &countingStore{LogStore: bolt, StableStore: bolt, closers: []io.Closer{bolt}}, nil
}

// openWALLog opens raft.db as the stable store (taking the data dir's lock
// first) and raft-wal under dir/wal as the log store.
func openWALLog(dir string, cfg Config) (*countingStore, error) {
	walDir := filepath.Join(dir, walSubdir)
	// Created before raft.db, so a dir with raft.db and no wal/ is boltdb's.
	if err := os.MkdirAll(walDir, 0o755); err != nil {
		return nil, fmt.Errorf("create raft log dir: %w", err)
	}
	bolt, err := openBolt(dir, 0)
	if err != nil {
		return nil, err
	}
	// raft-wal v0.4.0's Close leaves its meta DB (and that file's lock)
	// open, so kvorum owns the meta DB and closes it after the log.
	meta := &metadb.BoltMetaDB{}
	log, err := wal.Open(walDir, wal.WithMetaStore(meta), wal.WithLogger(hclogFor(cfg.Logger, "wal")),
		wal.WithSegmentFiler(sealedTailFiler{segment.NewFiler(walDir, walfs.New())}))
	if err != nil {
		meta.Close()
		bolt.Close()
		return nil, fmt.Errorf("open raft log %s: %w", walDir, err)
	}
	return &countingStore{LogStore: log, StableStore: bolt, closers: []io.Closer{log, meta, bolt}}, nil
}

// sealedTailFiler works around raft-wal v0.4.0's tail truncation (fixed in
// v0.4.1 by hashicorp/raft-wal#33): a DeleteRange of a suffix that ends
// inside the tail segment marks that segment sealed without writing its
// index block, so after a restart its entries cannot be read ("sealed
// segment has no index block") and raft panics applying them. A follower
// does that whenever a new leader overwrites its uncommitted tail. Such a
// segment is opened as a tail is, by scanning its frames; nothing is
// written to it. Drop this with v0.4.1 (TestOpenStores_TailTruncation).
type sealedTailFiler struct{ types.SegmentFiler }

func (f sealedTailFiler) Open(info types.SegmentInfo) (types.SegmentReader, error) {
	if info.IndexStart == 0 {
		return f.RecoverTail(info)
	}
	return f.SegmentFiler.Open(info)
}

// openBolt opens dir/raft.db, failing within a second with
// ErrDataDirLocked if another process holds it. mmap is the initial map
// size (0: bolt's default).
func openBolt(dir string, mmap int) (*raftboltdb.BoltStore, error) {
	path := filepath.Join(dir, "raft.db")
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: boltOptions(mmap)})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w", path, ErrDataDirLocked)
		}
		return nil, fmt.Errorf("open raft store %s: %w", path, err)
	}
	return bolt, nil
}

// boltOptions are the log's bolt settings. They may trade only what a
// restart rebuilds, never the durability of an entry once StoreLogs
// returns: NoFreelistSync (bolt rebuilds the freelist by scanning at open)
// and the map freelist are kept; NoGrowSync is not, because bolt grows its
// file by writing pages past the end and, on ext3/ext4, fdatasync does not
// wait for the new file size to reach the journal (boltdb/bolt#284), so an
// acknowledged entry in the grown part could be lost in a power cut. The
// truncate and fsync it costs come once per growth, which the initial mmap
// size makes rare.
func boltOptions(mmap int) *bbolt.Options {
	return &bbolt.Options{
		Timeout:         time.Second,
		NoFreelistSync:  true,
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: mmap,
	}
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
