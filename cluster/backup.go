package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Backups: a consistent copy of the whole state, taken on the leader, and
// its restore into a cluster (KVORUM.BACKUP and KVORUM.RESTORE; kvorum-cli
// --backup and --restore).
//
// A backup is a header line, then the state machine's snapshot stream
// (fsm/snapshot.go) exactly as Raft stores it:
//
//	KVORUM-BACKUP 1 <index> <term> <size> <sha-256 of the stream>\n
//
// The checksum is checked before anything is restored, so a damaged or
// truncated file changes nothing.

// backupMagic starts every backup; the number after it is the format.
const backupMagic = "KVORUM-BACKUP 1"

// maxBackupHeader bounds the header line a restore reads.
const maxBackupHeader = 256

// ErrBackupFormat is Restore's error for input that is not a whole,
// undamaged backup.
var ErrBackupFormat = errors.New("not a kvorum backup, or a damaged one")

// Backup writes a backup of the state to w: the leader makes sure every
// write it acknowledged is applied (a linearizable read's wait), takes a
// snapshot, and copies it. Only the leader can: a follower's state may be behind.
func (n *Node) Backup(w io.Writer) error {
	if !n.IsLeader() {
		return n.NotLeading()
	}
	// A linearizable read's wait: leadership confirmed, and everything
	// committed before it applied. (A Raft barrier would do the second,
	// but it is an entry the state machine never sees, so reads after it
	// would wait for an index the state machine does not reach.)
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ApplyTimeout)
	defer cancel()
	if err := n.ReadIndex().Wait(ctx); err != nil {
		return fmt.Errorf("backup: wait for the log to apply: %w", err)
	}
	meta, rc, err := n.snapshotNow()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer rc.Close()
	if meta.Size > MaxBackupSize {
		return fmt.Errorf("backup: the state's snapshot is %d bytes, more than a backup may be (%d)", meta.Size, MaxBackupSize)
	}
	// The checksum goes in the header, so the stream is read twice: it is
	// a file in the data dir, which Raft keeps until a newer snapshot.
	data, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("backup: read snapshot %s: %w", meta.ID, err)
	}
	sum := sha256.Sum256(data)
	if _, err := fmt.Fprintf(w, "%s %d %d %d %s\n", backupMagic, meta.Index, meta.Term, len(data), hex.EncodeToString(sum[:])); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// snapshotNow takes a snapshot holding everything applied so far, or opens
// the latest one when nothing was applied since it.
func (n *Node) snapshotNow() (*raft.SnapshotMeta, io.ReadCloser, error) {
	f := n.raft.Snapshot()
	if err := f.Error(); err == nil {
		return f.Open()
	} else if !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil, nil, fmt.Errorf("snapshot: %w", err)
	}
	list, err := n.snaps.List()
	if err != nil || len(list) == 0 {
		return nil, nil, fmt.Errorf("no snapshot to copy: %v", err)
	}
	return n.snaps.Open(list[0].ID)
}

// Restore replaces the whole state with backup, through Raft's restore
// of an external snapshot: the leader installs it, and the followers
// receive it as a snapshot. The Raft configuration stays the cluster's own,
// so a backup restores into another cluster, and the log moves past the
// backup's index (Raft takes the larger of it and the log's own, plus
// one). It is meant for recovery into a fresh cluster (the door refuses it
// over existing keys unless told to).
//
// Everything is checked before Raft sees the backup: the header, the
// size, the checksum, and the state machine reading the whole stream
// (Raft's restore panics if the state machine cannot), with the index it
// names not past the header's (the snapshot's log index, which may follow
// entries the state machine does not see).
func (n *Node) Restore(backup []byte) error {
	if !n.IsLeader() {
		return n.NotLeading()
	}
	meta, stream, err := parseBackup(backup)
	if err != nil {
		return err
	}
	if _, applied, err := fsm.ReadSnapshot(bytes.NewReader(stream)); err != nil {
		return fmt.Errorf("%w: %v", ErrBackupFormat, err)
	} else if applied > meta.Index {
		return fmt.Errorf("%w: the stream is of index %d, past its header's %d", ErrBackupFormat, applied, meta.Index)
	}
	if err := n.raft.Restore(meta, bytes.NewReader(stream), n.cfg.ApplyTimeout); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The restored state machine says it is as of the backup's index, and
	// it sees no entry until the next write (Raft's no-op is not applied
	// to it), so reads would wait for an index it never reaches. One write
	// that changes nothing brings it to the log's present. It goes straight
	// to the proposer: the disk guard must not turn a restore that happened
	// into an error.
	t := n.lead.current()
	if t == nil {
		return fmt.Errorf("restore: %w", raft.ErrLeadershipLost)
	}
	args := []resp.Value{resp.BulkString("KVORUM.SESSION"), resp.BulkString("CLOSE"), resp.BulkString("0")}
	if _, _, err := t.proposer.propose(0, resp.RESP2, args).Wait(); err != nil {
		return fmt.Errorf("restore: bring the state machine to the log's index: %w", err)
	}
	return nil
}

// parseBackup splits a backup into its snapshot's meta and its stream,
// checking the header's fields, the size and the checksum. It copies
// nothing.
func parseBackup(b []byte) (*raft.SnapshotMeta, []byte, error) {
	nl := bytes.IndexByte(b[:min(len(b), maxBackupHeader)], '\n')
	if nl < 0 {
		return nil, nil, fmt.Errorf("%w: no header line", ErrBackupFormat)
	}
	var (
		version int
		sum     string
		meta    = raft.SnapshotMeta{Version: raft.SnapshotVersionMax}
	)
	n, err := fmt.Sscanf(string(b[:nl+1]), "KVORUM-BACKUP %d %d %d %d %s\n", &version, &meta.Index, &meta.Term, &meta.Size, &sum)
	stream := b[nl+1:]
	switch {
	case err != nil || n != 5:
		return nil, nil, fmt.Errorf("%w: bad header", ErrBackupFormat)
	case version != 1:
		return nil, nil, fmt.Errorf("%w: format %d, this build reads 1", ErrBackupFormat, version)
	case meta.Index == 0 || meta.Index > maxBackupIndex:
		return nil, nil, fmt.Errorf("%w: index %d", ErrBackupFormat, meta.Index)
	case meta.Size != int64(len(stream)):
		return nil, nil, fmt.Errorf("%w: the stream is %d bytes, its header says %d", ErrBackupFormat, len(stream), meta.Size)
	}
	if h := sha256.Sum256(stream); hex.EncodeToString(h[:]) != sum {
		return nil, nil, fmt.Errorf("%w: checksum mismatch", ErrBackupFormat)
	}
	return &meta, stream, nil
}

// maxBackupIndex bounds the log index a backup may claim: Raft moves the
// log past it, and an index near the top of uint64 would wrap.
const maxBackupIndex = 1 << 62

// MaxBackupSize bounds a backup: it travels as one bulk string of the
// client protocol, whose limit is 512 MiB, and is held in memory whole.
const MaxBackupSize = 512 << 20
