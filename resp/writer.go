package resp

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// Mode is how a connection wants its replies shaped (SPEC §3).
type Mode uint8

const (
	// Native is the tutorial's dialect: '%' dicts, no RESP3-only scalars
	// (null as $-1, booleans as :1/:0, doubles as bulk strings).
	Native Mode = iota
	// RESP2 is Redis's protocol 2: dicts are sent as flat arrays.
	RESP2
	// RESP3 is Redis's protocol 3: '%' dicts, '_' null, '#' booleans, ',' doubles.
	RESP3

	// exact writes every kind as itself: for the log, snapshots and requests.
	exact Mode = 255
)

func (m Mode) String() string {
	switch m {
	case Native:
		return "native"
	case RESP2:
		return "resp2"
	case RESP3:
		return "resp3"
	}
	return "exact"
}

// ParseMode reads "native", "resp2" or "resp3".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "native":
		return Native, nil
	case "resp2", "2":
		return RESP2, nil
	case "resp3", "3":
		return RESP3, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want native, resp2 or resp3)", s)
}

// AppendValue appends v's exact encoding, every kind as itself: what the
// client sends as a request and what the log and snapshots store. Reading
// it back with a Reader gives a Value Equal to v.
func AppendValue(dst []byte, v Value) []byte { return appendValue(dst, v, exact) }

// AppendReply appends v shaped for a connection in mode m (SPEC §3).
func AppendReply(dst []byte, v Value, m Mode) []byte { return appendValue(dst, v, m) }

func appendValue(dst []byte, v Value, m Mode) []byte {
	switch v.kind {
	case KindNull:
		if m == exact || m == RESP3 {
			return append(dst, "_\r\n"...)
		}
		return append(dst, "$-1\r\n"...)
	case KindSimple:
		dst = append(dst, '+')
		dst = append(dst, v.str...)
		return append(dst, '\r', '\n')
	case KindError:
		dst = append(dst, '-')
		dst = append(dst, v.str...)
		return append(dst, '\r', '\n')
	case KindInt:
		return appendPrefixed(dst, ':', int64(v.num))
	case KindBulk:
		if v.null {
			if m == RESP3 {
				return append(dst, "_\r\n"...)
			}
			return append(dst, "$-1\r\n"...)
		}
		return appendBulk(dst, v.str)
	case KindBool:
		if m == exact || m == RESP3 {
			if v.num != 0 {
				return append(dst, "#t\r\n"...)
			}
			return append(dst, "#f\r\n"...)
		}
		return appendPrefixed(dst, ':', int64(v.num))
	case KindDouble:
		f := math.Float64frombits(v.num)
		if m == exact || m == RESP3 {
			dst = append(dst, ',')
			dst = appendDouble(dst, f, m)
			return append(dst, '\r', '\n')
		}
		var tmp [32]byte
		return appendBulk(dst, appendDouble(tmp[:0], f, m))
	case KindArray:
		if v.null {
			if m == RESP3 {
				return append(dst, "_\r\n"...)
			}
			return append(dst, "*-1\r\n"...)
		}
		dst = appendPrefixed(dst, '*', int64(len(v.elem)))
	case KindDict:
		if m == RESP2 {
			dst = appendPrefixed(dst, '*', int64(len(v.elem)))
		} else {
			dst = appendPrefixed(dst, '%', int64(len(v.elem)/2))
		}
	}
	for _, e := range v.elem {
		dst = appendValue(dst, e, m)
	}
	return dst
}

// appendDouble appends f as the wire spells a double. To a Redis client
// (RESP2's bulk string, RESP3's ',') it is what Redis 7.0 writes, C's
// "%.17g": 0.1 is 0.10000000000000001, which reads back as f. Elsewhere
// (the log, snapshots, native mode) it is the shortest decimal
// that reads back as f, in exponent form only for magnitudes below 1e-6 or
// from 1e21 up (as Go's JSON encoder does; FormatDouble would spell 1e300
// with 301 digits, longer than a small Limits.MaxInline), and inf, -inf or
// nan.
func appendDouble(dst []byte, f float64, m Mode) []byte {
	switch abs := math.Abs(f); {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return append(dst, FormatDouble(f)...)
	case m == RESP2 || m == RESP3:
		return strconv.AppendFloat(dst, f, 'g', 17, 64)
	case abs != 0 && (abs < 1e-6 || abs >= 1e21):
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

func appendPrefixed(dst []byte, prefix byte, n int64) []byte {
	dst = append(dst, prefix)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

func appendBulk(dst []byte, b []byte) []byte {
	dst = appendPrefixed(dst, '$', int64(len(b)))
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendInt appends n as a RESP integer (:n), as AppendValue(dst, Int(n))
// does without its dispatch: the log's batch items open with a few.
func AppendInt(dst []byte, n int64) []byte { return appendPrefixed(dst, ':', n) }

// AppendBulkInt appends n in decimal as a bulk string, as a client sends a
// number argument.
func AppendBulkInt(dst []byte, n int64) []byte {
	var num [20]byte
	return appendBulk(dst, strconv.AppendInt(num[:0], n, 10))
}

// AppendArrayHeader appends the header of an array of n elements (*n),
// for a caller that appends the elements itself.
func AppendArrayHeader(dst []byte, n int) []byte { return appendPrefixed(dst, '*', int64(n)) }

// AppendCommand appends a request array of bulk strings, the way clients
// send commands: AppendCommand(buf, "SET", "k", "v").
func AppendCommand(dst []byte, args ...string) []byte {
	dst = appendPrefixed(dst, '*', int64(len(args)))
	for _, a := range args {
		dst = appendPrefixed(dst, '$', int64(len(a)))
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// Writer buffers encoded values for one stream; Flush sends them in one write.
type Writer struct {
	w    io.Writer
	buf  []byte
	mode Mode
}

// NewWriter returns a Writer that shapes values for mode m. Use Exact for
// requests.
func NewWriter(w io.Writer, m Mode) *Writer { return &Writer{w: w, mode: m} }

// Exact is the Writer mode that writes every kind as itself (requests, log
// entries, snapshots).
const Exact = exact

// Write appends v to the buffer.
func (w *Writer) Write(v Value) { w.buf = appendValue(w.buf, v, w.mode) }

// Buffered returns the number of bytes waiting for Flush.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes the buffer in one call and empties it.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}
