package cluster

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
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
// write it acknowledged is applied (a Raft barrier), snapshots, and copies
// that snapshot. Only the leader can: a follower's state may be behind.
func (n *Node) Backup(w io.Writer) error {
	if !n.IsLeader() {
		return n.NotLeading()
	}
	if err := n.raft.Barrier(n.cfg.ApplyTimeout).Error(); err != nil {
		return fmt.Errorf("backup: wait for the log to apply: %w", err)
	}
	meta, rc, err := n.snapshotNow()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer rc.Close()
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

// Restore replaces the whole state with the backup read from r, through
// Raft's restore of an external snapshot: the leader installs it, and the
// followers receive it as a snapshot. The Raft configuration stays the
// cluster's own, so a backup restores into another cluster. It is meant for
// recovery into a fresh cluster (the door refuses it over existing keys
// unless told to).
func (n *Node) Restore(r io.Reader) error {
	if !n.IsLeader() {
		return n.NotLeading()
	}
	br := bufio.NewReader(r)
	meta, err := readBackupHeader(br)
	if err != nil {
		return err
	}
	data := make([]byte, meta.Size)
	if _, err := io.ReadFull(br, data); err != nil {
		return fmt.Errorf("%w: the stream is shorter than its header says (%d bytes)", ErrBackupFormat, meta.Size)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != meta.ID {
		return fmt.Errorf("%w: checksum mismatch", ErrBackupFormat)
	}
	meta.ID = ""
	if err := n.raft.Restore(meta, bytes.NewReader(data), n.cfg.ApplyTimeout); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The restored state machine says it is as of the backup's index, and
	// it sees no entry until the next write (Raft's no-op is not applied
	// to it), so reads would wait for an index it never reaches. One write
	// that changes nothing brings it to the log's present.
	args := []resp.Value{resp.BulkString("KVORUM.SESSION"), resp.BulkString("CLOSE"), resp.BulkString("0")}
	if _, _, err := n.Propose(resp.RESP2, args).Wait(); err != nil {
		return fmt.Errorf("restore: bring the state machine to the log's index: %w", err)
	}
	return nil
}

// readBackupHeader parses a backup's header line into the snapshot's meta
// (its ID holding the checksum).
func readBackupHeader(br *bufio.Reader) (*raft.SnapshotMeta, error) {
	line, err := br.ReadSlice('\n')
	if err != nil || len(line) > maxBackupHeader {
		return nil, fmt.Errorf("%w: no header line", ErrBackupFormat)
	}
	var (
		version int
		meta    = raft.SnapshotMeta{Version: raft.SnapshotVersionMax}
	)
	n, err := fmt.Sscanf(string(line), "KVORUM-BACKUP %d %d %d %d %s\n", &version, &meta.Index, &meta.Term, &meta.Size, &meta.ID)
	switch {
	case err != nil || n != 5:
		return nil, fmt.Errorf("%w: bad header", ErrBackupFormat)
	case version != 1:
		return nil, fmt.Errorf("%w: format %d, this build reads 1", ErrBackupFormat, version)
	case meta.Size < 0 || meta.Size > maxBackupSize:
		return nil, fmt.Errorf("%w: size %d", ErrBackupFormat, meta.Size)
	}
	return &meta, nil
}

// maxBackupSize bounds the state a restore takes in memory at once.
const maxBackupSize = 4 << 30
