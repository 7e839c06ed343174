package fsm_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/resp"
)

// applyFuzzed applies data as n's next entry. Fuzzed bytes can form a
// well-formed batch or items entry, which answers one reply per command
// (a []resp.Value, possibly empty); anything else answers one reply.
func applyFuzzed(n *node, data []byte) {
	n.t.Helper()
	switch got := n.applyRaw(data); got.(type) {
	case resp.Value, []resp.Value:
	default:
		n.t.Fatalf("Apply(%q) returned %T, want resp.Value or []resp.Value", data, got)
	}
}

// FuzzApply: any bytes as a log entry's data, and any bytes as the request
// of a well-formed header, are answered with a reply (errors are fine),
// never a panic; the FSM goes on serving, and whatever it stored snapshots
// and restores to itself.
func FuzzApply(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 40 {
		f.Add(entry(resp.Native, t0, vals(randomRequest(rng))))
	}
	for _, seed := range [][]byte{
		nil, {1}, {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, '*', '0', '\r', '\n'},
		[]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"),
		[]byte("*2\r\n$3\r\nGET\r\n*1\r\n%1\r\n:1\r\n*-1\r\n"),
		[]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n-ERR stored\r\n"),
		[]byte("*5\r\n$3\r\nSET\r\n$1\r\nk\r\n_\r\n$2\r\nPX\r\n:-9223372036854775808\r\n"),
	} {
		f.Add(seed)
	}
	header := entry(resp.RESP3, t0, nil)[:11]
	f.Fuzz(func(t *testing.T, data []byte) {
		n := newNode(t, resp.RESP2)
		applyFuzzed(n, data)
		applyFuzzed(n, append(header[:11:11], data...))
		n.index++
		n.f.ApplyBatch([]*raft.Log{{Type: raft.LogCommand, Index: n.index, Data: data}})
		if got := n.apply("SET", "after", "v"); !resp.Equal(got, plusOK) {
			t.Fatalf("SET after the fuzzed entries: %v", got)
		}
		roundTrips(t, n.f)
	})
}
