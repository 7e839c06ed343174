package fsm_test

import (
	"strconv"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// benchKeys is how many distinct keys the benchmarks cycle through.
const benchKeys = 1024

// BenchmarkFSM_ApplySet applies SET entries as raft hands them over: the
// entries are encoded beforehand (that is the proposer's work).
func BenchmarkFSM_ApplySet(b *testing.B) {
	f := fsm.New(fsm.Config{})
	value := resp.BulkString("a value of some 32 bytes or so..")
	entries := make([][]byte, benchKeys)
	for i := range entries {
		entries[i] = entry(resp.RESP2, t0, []resp.Value{resp.BulkString("SET"), resp.BulkString("key:" + strconv.Itoa(i)), value})
	}
	var l raft.Log
	l.Type = raft.LogCommand
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.Index = uint64(i + 1)
		l.Data = entries[i%benchKeys]
		f.Apply(&l)
	}
}

// BenchmarkFSM_ReadGet serves GETs of existing keys through Read.
func BenchmarkFSM_ReadGet(b *testing.B) {
	n := newNode(b, resp.RESP2)
	requests := make([][]resp.Value, benchKeys)
	for i := range requests {
		key := "key:" + strconv.Itoa(i)
		n.apply("SET", key, "a value of some 32 bytes or so..")
		requests[i] = vals(req("GET", key))
	}
	get := n.f.Table().Lookup([]byte("GET"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n.f.Read(get, requests[i%benchKeys], t0, resp.RESP2)
	}
}

// BenchmarkFSM_ApplyBatch applies batch entries of 400 SETs, as the
// proposer builds them under a pipelined load, plain and wrapped in
// KVORUM.SEQ by one session (the client acknowledging as it goes, 800
// writes in flight). ns/op is per SET.
func BenchmarkFSM_ApplyBatch(b *testing.B) {
	for _, sessions := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "session"}[sessions]
		b.Run(name, func(b *testing.B) { benchApplyBatch(b, sessions) })
	}
}

func benchApplyBatch(b *testing.B, sessions bool) {
	const perBatch, inFlight = 400, 800
	f := fsm.New(fsm.Config{})
	var l raft.Log
	l.Type = raft.LogCommand
	apply := func(data []byte) []resp.Value {
		l.Index++
		l.Data = data
		out, _ := f.Apply(&l).([]resp.Value)
		return out
	}
	open := fsm.AppendBatchItem(nil, resp.RESP2, vals(req("KVORUM.SESSION", "OPEN")))
	id := apply(fsm.AppendBatchEntry(nil, t0, 1, open))[0].Text()
	value := resp.BulkString("xxx")
	seq := 0
	batch := func() []byte { // the next perBatch SETs: new seqs, keys cycling
		var body []byte
		for range perBatch {
			seq++
			args := []resp.Value{resp.BulkString("SET"), resp.BulkString("bench:r1:" + strconv.Itoa(seq%50) + ":" + strconv.Itoa(seq%1000)), value}
			if sessions {
				args = append([]resp.Value{resp.BulkString("KVORUM.SEQ"), resp.BulkString(id),
					resp.BulkString(strconv.Itoa(seq)), resp.BulkString(strconv.Itoa(max(1, seq-inFlight)))}, args...)
			}
			body = fsm.AppendBatchItem(body, resp.RESP2, args)
		}
		return fsm.AppendBatchEntry(nil, t0, perBatch, body)
	}
	data := batch()
	b.SetBytes(int64(len(data) / perBatch))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += perBatch {
		for _, r := range apply(data) {
			if r.IsError() {
				b.Fatalf("SET answered %v", r)
			}
		}
		b.StopTimer()
		data = batch()
		b.StartTimer()
	}
}
