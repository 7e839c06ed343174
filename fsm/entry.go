package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

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
	// EntryBatch is many client commands proposed together (see
	// AppendBatchEntry): one log entry, one disk write, one reply each.
	EntryBatch EntryKind = 2
)

// AppendBatchItem appends one command of a batch body: a RESP pair
// [mode, request], so each command keeps its connection's reply mode.
func AppendBatchItem(dst []byte, mode resp.Mode, args []resp.Value) []byte {
	dst = append(dst, "*2\r\n"...)
	dst = resp.AppendValue(dst, resp.Int(int64(mode)))
	return resp.AppendValue(dst, resp.Array(args...))
}

// AppendBatchEntry appends a batch log entry holding n items whose
// encodings (AppendBatchItem) are body. Applying it answers a []resp.Value,
// one reply per item, in order.
func AppendBatchEntry(dst []byte, now int64, n int, body []byte) []byte {
	dst = append(dst, entryVersion, byte(EntryBatch), 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(now))
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, '\r', '\n')
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
