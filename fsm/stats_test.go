package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Reads count each key argument as a keyspace hit or miss (an expired key
// is a miss); writes count neither; the expiry sweep's KVORUM.REAP counts
// the keys it removed.
func TestFSM_Stats(t *testing.T) {
	n := newNode(t, resp.RESP2)
	n.apply("SET", "a", "1")
	n.apply("SET", "b", "2")
	n.apply("SET", "gone", "x", "PX", "10")
	n.apply("RPUSH", "l", "x")
	n.now += 20
	n.read("GET", "a")
	n.read("GET", "nosuch")
	n.read("GET", "gone") // past its deadline: a miss
	n.read("MGET", "a", "b", "c")
	n.read("LRANGE", "l", "0", "-1")
	n.read("EXISTS", 42) // an integer key argument
	n.read("DBSIZE")     // no key arguments
	want := fsm.Stats{KeyspaceHits: 4, KeyspaceMisses: 4}
	if got := n.f.Stats(); got != want {
		t.Fatalf("after reads: Stats = %+v, want %+v", got, want)
	}
	n.apply("GET", "a") // a write path run (inside the log): not counted
	n.apply("KVORUM.REAP", "gone", "a", "missing")
	want.ExpiredKeys = 1
	if got := n.f.Stats(); got != want {
		t.Fatalf("after the sweep: Stats = %+v, want %+v", got, want)
	}
}
