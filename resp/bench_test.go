package resp

import (
	"io"
	"strconv"
	"testing"

	"github.com/tidwall/redcon"
)

const setRequest = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"

// loopReader serves its data over and over, without allocating. Like a
// pipelining client it delivers whole copies: each Read finishes the
// current copy, then gives as many whole ones as fit (a partial one only
// if none fits), so a reader that keeps a partial frame at the end of its
// buffer is not penalised for it.
type loopReader struct {
	data []byte
	off  int
}

func newLoopReader(data string) *loopReader { return &loopReader{data: []byte(data)} }

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && (l.off != 0 || n == 0 || len(p)-n >= len(l.data)) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

// benchLoop runs op b.N times, reporting allocations and bytes per op.
func benchLoop(b *testing.B, bytesPerOp int, op func() error) {
	b.SetBytes(int64(bytesPerOp))
	b.ReportAllocs()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchWrite measures writing vs in mode m and flushing them once.
func benchWrite(b *testing.B, m Mode, vs ...Value) {
	w := NewWriter(io.Discard, m)
	n := 0
	for _, v := range vs {
		n += len(AppendReply(nil, v, m))
	}
	benchLoop(b, n, func() error {
		for _, v := range vs {
			w.Write(v)
		}
		return w.Flush()
	})
}

func BenchmarkReader_Set(b *testing.B) {
	r := NewReader(newLoopReader(setRequest), Limits{})
	benchLoop(b, len(setRequest), func() error { _, err := r.ReadRequest(); return err })
}

// BenchmarkRedcon_ReaderSet parses the same SET with tidwall/redcon's
// reader, for the ratio in docs/BENCHMARKS.md.
func BenchmarkRedcon_ReaderSet(b *testing.B) {
	r := redcon.NewReader(newLoopReader(setRequest))
	benchLoop(b, len(setRequest), func() error { _, err := r.ReadCommand(); return err })
}

// nestedReply is a reply of some depth and breadth: an array of 8 dicts of 4
// fields, one of them a list of 4 numbers.
func nestedReply() Value {
	var rows []Value
	for i := range 8 {
		id := strconv.Itoa(i)
		rows = append(rows, Dict(
			BulkString("id"), BulkString(id),
			BulkString("name"), BulkString("job-"+id),
			BulkString("tries"), Int(int64(i)),
			BulkString("scores"), Array(Int(1), Int(2), Double(3.5), Null()),
		))
	}
	return Array(rows...)
}

func BenchmarkReader_Nested(b *testing.B) {
	wire := AppendValue(nil, nestedReply())
	r := NewReader(newLoopReader(string(wire)), Limits{})
	benchLoop(b, len(wire), func() error { _, err := r.ReadValue(); return err })
}

func BenchmarkWriter_Bulk(b *testing.B) {
	benchWrite(b, RESP2, BulkString("a value of a typical size: sixty-four bytes, give or take ....."))
}

func BenchmarkWriter_Nested(b *testing.B) {
	benchWrite(b, RESP3, nestedReply())
}

// BenchmarkWriter_Pipeline16Sets encodes a pipelined batch of 16 SET
// requests, as a client sends it, and flushes it once.
func BenchmarkWriter_Pipeline16Sets(b *testing.B) {
	req := Array(BulkString("SET"), BulkString("key:000123"), BulkString("value"))
	batch := make([]Value, 16)
	for i := range batch {
		batch[i] = req
	}
	benchWrite(b, Exact, batch...)
}
