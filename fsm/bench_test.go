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
