package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kvorum/kvorum/resp"
)

// Log entry layout (version 1):
//
//	byte 0     format version (1)
//	byte 1     entry kind (EntryCommand)
//	byte 2     reply mode of the proposing connection (resp.Mode)
//	bytes 3-10 the leader's clock when proposed, Unix ms, big-endian int64
//	bytes 11-  the request, one RESP array written with resp.AppendValue
//
// The request is stored as the client sent it, so one codec serves the wire,
// the log and snapshots, and apply re-runs exactly the command the client
// asked for with the leader's time.
const (
	entryVersion    = 1
	entryHeaderSize = 11
)

// EntryKind says what a log entry carries.
type EntryKind uint8

const (
	// EntryCommand is one client command.
	EntryCommand EntryKind = 1
	// EntryBatch is many client commands proposed together, as an array of
	// [mode, request] pairs. Entries of this kind written by earlier
	// versions are still applied; AppendBatchEntry now writes EntryItems.
	EntryBatch EntryKind = 2
	// EntryItems is many client commands proposed together (see
	// AppendBatchEntry): one log entry, one disk write, one reply each.
	// Its body is the count then the items one after another, so that
	// apply parses one request at a time.
	EntryItems EntryKind = 3
)

// AppendBatchItem appends one command of a batch body (AppendBatchEntry):
// its connection's reply mode as a RESP integer, then the request.
//
// A session write, KVORUM.SEQ id seq floor command... with integers
// 0 < floor <= seq, goes in as :mode :id :seq :seq-floor followed by the
// command alone: the numbers as RESP integers (the floor as its distance
// below seq, a few digits), without the KVORUM.SEQ name, so the wrapping
// costs the log, every follower and every apply under half the bytes it
// costs on the wire and no parsed values; apply answers it exactly as the
// wrapped request (the same seq function, the same checks). Any other
// KVORUM.SEQ request goes in as it came.
func AppendBatchItem(dst []byte, mode resp.Mode, args []resp.Value) []byte {
	var w ItemWriter
	return w.Append(dst, mode, args)
}

// ItemWriter appends the items of one batch body, as AppendBatchItem does
// item by item. With Runs set it also writes the run form: a session write
// that follows another session write of the same body, of the same session
// and floor and a higher seq (a client's pipeline, usually), goes in as
// :mode :delta, its seq less the previous one's, and the command, and
// apply takes the rest of its stamp from that previous write. A body's
// writes then carry one full stamp per pipeline instead of one per write:
// fewer bytes through the log store, the network and every apply. A node
// of a version before the run form answers such an item with an error
// instead of applying it, so a leader sets Runs only while every server
// says it applies them (cluster's proposer, as for EntryItems). The zero
// ItemWriter writes AppendBatchItem's form; use one per body.
type ItemWriter struct {
	Runs bool
	last stamp // the body's latest session write, for the next one's run form
}

// stamp is a session write's (id, seq, floor); ok once one is set.
type stamp struct {
	id, seq, floor int64
	ok             bool
}

// Append appends one item to dst, the body being built.
func (w *ItemWriter) Append(dst []byte, mode resp.Mode, args []resp.Value) []byte {
	dst = resp.AppendInt(dst, int64(mode))
	if len(args) >= 5 && isSeqName(args[0]) {
		id, ok1 := argInt(args[1])
		seq, ok2 := argInt(args[2])
		floor, ok3 := argInt(args[3])
		if ok1 && ok2 && ok3 && 0 < floor && floor <= seq {
			l := w.last
			if w.Runs && l.ok && id == l.id && floor == l.floor && seq > l.seq {
				dst = resp.AppendInt(dst, seq-l.seq)
			} else {
				for _, n := range [3]int64{id, seq, seq - floor} {
					dst = resp.AppendInt(dst, n)
				}
			}
			w.last = stamp{id: id, seq: seq, floor: floor, ok: true}
			return resp.AppendValue(dst, resp.Array(args[4:]...))
		}
	}
	return resp.AppendValue(dst, resp.Array(args...))
}

// isSeqName reports whether v names KVORUM.SEQ in any ASCII case, as
// Table.Lookup would find it.
func isSeqName(v resp.Value) bool {
	name := v.TextBytes()
	if !v.IsScalar() || len(name) != len(SeqCommand) {
		return false
	}
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != SeqCommand[i] {
			return false
		}
	}
	return true
}

// AppendBatchEntry appends an EntryItems log entry holding n items whose
// encodings (AppendBatchItem) are body. Applying it answers a []resp.Value,
// one reply per item, in order.
func AppendBatchEntry(dst []byte, now int64, n int, body []byte) []byte {
	dst = append(dst, entryVersion, byte(EntryItems), 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(now))
	dst = resp.AppendValue(dst, resp.Int(int64(n)))
	return append(dst, body...)
}

// AppendPairsItem and AppendPairsEntry write an EntryBatch, the batch
// form that versions before EntryItems apply: an array of [mode, request]
// pairs, KVORUM.SEQ requests as they came. A leader writes it while any
// server in its configuration does not announce that it applies
// EntryItems, as during a rolling upgrade: an older node would skip an
// entry of a kind it does not know and its state would part from the
// others'.
func AppendPairsItem(dst []byte, mode resp.Mode, args []resp.Value) []byte {
	dst = append(dst, "*2\r\n"...)
	dst = resp.AppendValue(dst, resp.Int(int64(mode)))
	return resp.AppendValue(dst, resp.Array(args...))
}

// AppendPairsEntry appends an EntryBatch log entry holding n items whose
// encodings (AppendPairsItem) are body.
func AppendPairsEntry(dst []byte, now int64, n int, body []byte) []byte {
	dst = append(dst, entryVersion, byte(EntryBatch), 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(now))
	dst = resp.AppendArrayHeader(dst, n)
	return append(dst, body...)
}

// Entry header errors.
var (
	ErrEntryVersion = errors.New("fsm: unknown log entry version")
	ErrEntryShort   = errors.New("fsm: log entry too short")
)

// EntryHeader is the fixed part of a log entry.
type EntryHeader struct {
	Kind EntryKind
	Mode resp.Mode
	Now  int64 // leader's clock, Unix ms
}

// AppendEntry appends the log entry for a command request to dst.
func AppendEntry(dst []byte, h EntryHeader, args []resp.Value) []byte {
	dst = append(dst, entryVersion, byte(h.Kind), byte(h.Mode))
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.Now))
	return resp.AppendValue(dst, resp.Array(args...))
}

// parseHeader splits an entry into its header and request bytes.
func parseHeader(data []byte) (EntryHeader, []byte, error) {
	if len(data) < entryHeaderSize {
		return EntryHeader{}, nil, ErrEntryShort
	}
	if data[0] != entryVersion {
		return EntryHeader{}, nil, fmt.Errorf("%w %d", ErrEntryVersion, data[0])
	}
	h := EntryHeader{
		Kind: EntryKind(data[1]),
		Mode: resp.Mode(data[2]),
		Now:  int64(binary.BigEndian.Uint64(data[3:11])),
	}
	return h, data[entryHeaderSize:], nil
}
