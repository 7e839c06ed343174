package fsm_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// For each mutable container (list, hash, set, sorted set): a snapshot taken
// before the container changes in place still holds the old contents (the
// entry is copied on write, not shared), and restores as the same kind.
func TestSnapshot_CopyOnWrite(t *testing.T) {
	cases := []struct {
		kind   string
		before [][]any // applied before the snapshot
		after  [][]any // applied while the snapshot is held
		read   []any
		want   resp.Value
	}{
		{"list", [][]any{{"RPUSH", "k", "a", "b"}}, [][]any{{"RPUSH", "k", "c"}, {"LPOP", "k"}},
			[]any{"LRANGE", "k", 0, -1}, arr("a", "b")},
		{"hash", [][]any{{"HSET", "k", "a", "1", "b", "2"}}, [][]any{{"HSET", "k", "c", "3", "a", "9"}, {"HDEL", "k", "b"}},
			[]any{"HGETALL", "k"}, dict("a", "1", "b", "2")},
		{"set", [][]any{{"SADD", "k", "x", "y"}}, [][]any{{"SREM", "k", "x"}, {"SADD", "k", "z"}},
			[]any{"SMEMBERS", "k"}, arr("x", "y")},
		{"zset", [][]any{{"ZADD", "k", 2, "b", 1, "a"}}, [][]any{{"ZADD", "k", 0, "z"}, {"ZREM", "k", "a"}},
			[]any{"ZRANGE", "k", 0, -1, "WITHSCORES"}, arr("a", d(1), "b", d(2))},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			n := newNode(t, resp.RESP2)
			for _, r := range tc.before {
				n.apply(r...)
			}
			snap, err := n.f.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.after {
				n.apply(r...)
			}
			sink := &memSink{}
			if err := snap.Persist(sink); err != nil {
				t.Fatal(err)
			}
			restored := fsm.New(fsm.Config{})
			if err := restored.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
				t.Fatal(err)
			}
			read := func(args ...any) resp.Value {
				return restored.Read(restored.Table().Lookup([]byte(args[0].(string))), vals(args), t0, resp.RESP2)
			}
			if got := read(tc.read...); !resp.Equal(got, tc.want) {
				t.Fatalf("snapshot holds %v, want %v", got, tc.want)
			}
			if got := read("TYPE", "k"); got.Text() != tc.kind {
				t.Fatalf("restored TYPE = %v, want %s", got, tc.kind)
			}
		})
	}
}
