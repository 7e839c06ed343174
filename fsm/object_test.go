package fsm_test

import (
	"strings"
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// OBJECT ENCODING of kvorum's native values (an integer, an array, a dict
// stored with SET), under the node's thresholds. The Redis-mode answers are
// diffed against redis-server in cluster/door.
func TestObject_EncodingOfNativeValues(t *testing.T) {
	n := newNode(t, resp.Native)
	long := strings.Repeat("x", 65)
	n.apply("SET", "i", 7)
	n.apply("SET", "a", []any{"x", 1})
	n.apply("SET", "d", resp.Dict(resp.Bulk([]byte("f")), resp.Bulk([]byte("v"))))
	n.apply("SET", "dl", resp.Dict(resp.Bulk([]byte("f")), resp.Bulk([]byte(long))))
	n.apply("SET", "dn", resp.Dict(resp.Bulk([]byte("f")), resp.Array(resp.Int(1))))
	for _, c := range []struct{ key, want string }{
		{"i", "int"}, {"a", "quicklist"}, {"d", "listpack"}, {"dl", "hashtable"}, {"dn", "hashtable"},
	} {
		if got := n.read("OBJECT", "ENCODING", c.key); got.Text() != c.want {
			t.Errorf("OBJECT ENCODING %s = %v, want %s", c.key, got, c.want)
		}
	}
	// Thresholds are the node's: a dict of one field is a hashtable when the
	// count allowed is 0, and the long value fits when values may be longer.
	n.f.SetEncodingLimits(fsm.EncodingLimits{HashEntries: 0, HashValue: 64, IntsetEntries: 512, ZsetEntries: 128, ZsetValue: 64})
	if got := n.read("OBJECT", "ENCODING", "d"); got.Text() != "hashtable" {
		t.Errorf("OBJECT ENCODING d with hash-max-listpack-entries 0 = %v, want hashtable", got)
	}
	n.f.SetEncodingLimits(fsm.EncodingLimits{HashEntries: 512, HashValue: 100, IntsetEntries: 512, ZsetEntries: 128, ZsetValue: 64})
	if got := n.read("OBJECT", "ENCODING", "dl"); got.Text() != "listpack" {
		t.Errorf("OBJECT ENCODING dl with hash-max-listpack-value 100 = %v, want listpack", got)
	}
	// An expired key is missing.
	n.apply("PEXPIRE", "i", 10)
	n.now += 11
	if got := n.read("OBJECT", "ENCODING", "i"); !got.IsNull() {
		t.Errorf("OBJECT ENCODING of an expired key = %v, want null", got)
	}
	if got := n.read("OBJECT", "IDLETIME", "a"); !got.IsError() {
		t.Errorf("OBJECT IDLETIME = %v, want an error (kvorum does not track access times)", got)
	}
}
