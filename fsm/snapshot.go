package fsm

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/resp"
)

// Snapshot stream (version 1): a sequence of RESP arrays written with
// resp.AppendValue:
//
//	["kvorum-snapshot", version, applied index, key count]
//	[key, value, expire ms, last-modified index]   one per key
//	["end", key count]
//
// The end record makes a truncated file an error rather than a smaller state.
//
// Version 2 adds an optional fifth field, the kind, to a record whose value
// is not a plain value: 1 for a set (value: [member, ...], sorted), 2 for a
// sorted set (value: [member, score, ...], in order). The writer leaves it
// out for a plain value, list or hash (which restore as array and dict
// values, turned into containers by their first write); a reader also takes
// an explicit 0.
//
// Version 3 adds the client sessions (sessions.go), one record each after
// the keys: ["session", id, idle ms, last seen, floor, [seq, reply, ...]].
// Versions 1 and 2 are still read.
const snapshotVersion = 3

// Snapshot record kinds (the optional fifth field).
const (
	recordPlain = 0
	recordSet   = 1
	recordZset  = 2
	// recordStream (a stream: [last id ms, last id seq, [id, [field, value,
	// ...]], ...]) is a kind of version 3's records too: a build that does
	// not know it refuses the snapshot as malformed.
	recordStream = 3
)

// ErrSnapshotVersion is returned by Restore for a snapshot written by a
// format this build does not know.
var ErrSnapshotVersion = errors.New("fsm: unknown snapshot format version")

type snapshotRecord struct {
	key string
	e   *Entry
}

type snapshot struct {
	applied  uint64
	records  []snapshotRecord
	sessions []resp.Value // session records, taken under the lock
}

// Snapshot captures the state for Raft. It copies only the key index: the
// entries are shared, and a later change to one copies it first, so Apply
// goes on while Persist streams.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &snapshot{applied: f.applied.Load(), records: make([]snapshotRecord, 0, len(f.state.keys)),
		sessions: f.state.sessionRecords()}
	for k, e := range f.state.keys {
		s.records = append(s.records, snapshotRecord{k, e})
	}
	// From now on the captured entries are the snapshot's: a change in
	// place copies first (State.mutable).
	f.state.gen++
	return s, nil
}

// Persist writes the snapshot stream to sink.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var buf []byte
	n := int64(len(s.records))
	buf = resp.AppendValue(buf[:0], resp.Array(resp.BulkString("kvorum-snapshot"),
		resp.Int(snapshotVersion), resp.Int(int64(s.applied)), resp.Int(n)))
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	for _, r := range s.records {
		fields := []resp.Value{resp.BulkString(r.key), r.e.Val(), resp.Int(r.e.Expire), resp.Int(int64(r.e.Mod))}
		switch {
		case r.e.zset != nil:
			fields = append(fields, resp.Int(recordZset))
		case r.e.stream != nil:
			fields = append(fields, resp.Int(recordStream))
		case r.e.set != nil:
			fields = append(fields, resp.Int(recordSet))
		}
		buf = resp.AppendValue(buf[:0], resp.Array(fields...))
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	for _, r := range s.sessions {
		buf = resp.AppendValue(buf[:0], r)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	buf = resp.AppendValue(buf[:0], resp.Array(resp.BulkString("end"), resp.Int(n)))
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

// Release drops the snapshot's references.
func (s *snapshot) Release() { s.records, s.sessions = nil, nil }

// Restore replaces the state with a snapshot stream, atomically: the new
// state is built aside and swapped in under the lock readers take.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, applied, err := ReadSnapshot(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.state = st
	f.setApplied(applied) // exactly the snapshot's index: the state is now as of it
	f.mu.Unlock()
	return nil
}

// ReadSnapshot parses a snapshot stream into a State and the index it was
// taken at. It is exported so tools and tests can verify a snapshot file.
// A stream of an unknown format version gives an error wrapping
// ErrSnapshotVersion; a truncated or malformed one, another error.
func ReadSnapshot(r io.Reader) (*State, uint64, error) {
	rd := resp.NewReader(bufio.NewReaderSize(r, 256<<10), entryLimits())
	head, err := rd.ReadValue()
	if err != nil {
		return nil, 0, fmt.Errorf("read snapshot header: %w", err)
	}
	h := head.Elems()
	if head.Kind() != resp.KindArray || len(h) != 4 || h[0].Text() != "kvorum-snapshot" || h[1].Kind() != resp.KindInt {
		return nil, 0, errors.New("read snapshot header: not a kvorum snapshot")
	}
	if h[1].Int() < 1 || h[1].Int() > snapshotVersion {
		return nil, 0, fmt.Errorf("%w %d (this build reads %d)", ErrSnapshotVersion, h[1].Int(), snapshotVersion)
	}
	if !isCount(h[2]) || !isCount(h[3]) {
		return nil, 0, errors.New("read snapshot header: malformed index or key count")
	}
	count := h[3].Int()
	st := NewState()
	for i := int64(0); ; i++ {
		rec, err := rd.ReadValue()
		if err != nil {
			return nil, 0, fmt.Errorf("read snapshot record %d of %d: %w", i, count, err)
		}
		f := rec.Elems()
		if rec.Kind() == resp.KindArray && len(f) == 2 && f[0].Text() == "end" {
			if f[1].Kind() != resp.KindInt || f[1].Int() != i || i != count {
				return nil, 0, fmt.Errorf("read snapshot: end record says %s keys, header %d, read %d", f[1].Text(), count, i)
			}
			return st, uint64(h[2].Int()), nil
		}
		if h[1].Int() >= 3 && rec.Kind() == resp.KindArray && len(f) == 6 && f[0].Text() == "session" {
			if !st.restoreSession(f) {
				return nil, 0, fmt.Errorf("read snapshot record %d: malformed session", i)
			}
			i-- // not a key
			continue
		}
		if rec.Kind() != resp.KindArray || (len(f) != 4 && (len(f) != 5 || h[1].Int() < 2)) || f[0].Kind() != resp.KindBulk ||
			f[0].IsNull() || f[2].Kind() != resp.KindInt || !isCount(f[3]) {
			return nil, 0, fmt.Errorf("read snapshot record %d: malformed", i)
		}
		e := &Entry{Value: f[1], Expire: f[2].Int(), Mod: uint64(f[3].Int())}
		if len(f) == 5 && !restoreKind(e, f[4]) {
			return nil, 0, fmt.Errorf("read snapshot record %d: malformed kind or container", i)
		}
		st.keys[string(f[0].Bytes())] = e
	}
}

// restoreKind rebuilds the container a record's kind field names from its
// value (recordPlain leaves the value as it is) and reports false for an
// unknown kind or a value that does not fit it.
func restoreKind(e *Entry, kind resp.Value) bool {
	if kind.Kind() != resp.KindInt {
		return false
	}
	ok := false
	switch kind.Int() {
	case recordPlain:
		return true
	case recordZset:
		e.zset, ok = zsetFromValue(e.Value)
	case recordSet:
		e.set, ok = setFromValue(e.Value)
	case recordStream:
		e.stream, ok = streamFromValue(e.Value)
	}
	e.Value = resp.Value{}
	return ok
}

// isCount reports whether v is a non-negative integer, as a snapshot's
// indexes and key counts are.
func isCount(v resp.Value) bool { return v.Kind() == resp.KindInt && v.Int() >= 0 }
