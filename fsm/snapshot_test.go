package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// valueKinds are values of every kind a key can hold: nested, binary
// (with RESP framing inside), empty, null, and the RESP3 scalars a client
// may send.
func valueKinds() []resp.Value {
	return []resp.Value{
		bulk("plain"), bulk(""), bulk("a\r\nb\x00\xff$-1\r\n*3\r\n"), bulk(string(bytes.Repeat([]byte("5k"), 2500))),
		resp.Int(0), resp.Int(minInt), resp.Int(maxInt),
		arr("v2-0", 1, "v2-2"), dict("vx", dict("vy", 0, "vz", arr(1, 2, 3))), arr(), dict(),
		arr(arr(arr(dict(1, arr(nil, resp.Null()), "k\r\n", dict())))),
		resp.NullBulk(), resp.Null(), resp.NullArray(), resp.Double(-2.5), resp.Bool(false), resp.Simple("s"),
	}
}

// fill writes keys keys of every kind through the log, a quarter of them
// with a deadline still ahead and a quarter past theirs (held, not yet
// deleted), plus an empty key, a binary key and integer keys.
func fill(n *node, keys int) {
	n.t.Helper()
	kinds := valueKinds()
	must := func(v resp.Value) {
		n.t.Helper()
		if v.IsError() {
			n.t.Fatalf("fill: %v", v)
		}
	}
	for i := 0; i < keys; i++ {
		key, v := "key:"+strconv.Itoa(i), kinds[i%len(kinds)]
		switch i % 4 {
		case 0:
			must(n.apply("SET", key, v))
		case 1:
			must(n.apply("SET", key, v, "PX", 100_000+i))
		case 2:
			must(n.apply("SET", key, v, "PX", 1))
		case 3:
			must(n.apply("MSET", key, v, i, v))
		}
	}
	must(n.apply("SET", "", "empty key"))
	must(n.apply("SET", "bin\r\nkey\x00\xff", "binary key"))
	for _, r := range containerWrites {
		must(n.apply(r...))
	}
	n.now += 10 // the PX 1 keys are now past their deadline
}

// containerWrites leave a key of each container kind (list, hash, set,
// sorted set), some with a deadline, for fill.
var containerWrites = [][]any{
	{"RPUSH", "list", "a", 1, dict("job", 2)},
	{"HSET", "hash", "f", "v", "g", "2"},
	{"HDEL", "hash", "f"},
	{"SADD", "set", "m", "n", 3},
	{"ZADD", "zset", "-inf", "lo", "1.5", "mid", "+inf", "hi", 0, "zero"},
	{"PEXPIRE", "set", 100_000},
	{"SADD", "set-gone", "x"},
	{"PEXPIRE", "set-gone", 1},
}

// sameAnswers checks that a and b answer every read of keys alike.
func sameAnswers(t *testing.T, a, b *node, keys []resp.Value) {
	t.Helper()
	reads := [][]any{req("DBSIZE"), req("KEYS", "*")}
	for _, k := range keys {
		reads = append(reads, req("GET", k), req("PTTL", k), req("TYPE", k), req("EXISTS", k))
	}
	for _, r := range reads {
		if x, y := a.read(r...), b.read(r...); !resp.Equal(x, y) {
			t.Errorf("%v: %v before, %v after", vals(r), x, y)
		}
	}
}

func TestSnapshot_RoundTrip(t *testing.T) {
	src := newNode(t, resp.Native)
	fill(src, 2000)
	big := bytes.Repeat([]byte("x\r\n"), 100_000) // larger than the reader's slabs and buffers
	src.apply("SET", "big", big)
	stream := snapshotOf(t, src.f)

	dst := newNode(t, resp.Native)
	dst.apply("SET", "stale", "v") // replaced by the restore
	if err := restore(dst.f, stream); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	dst.index, dst.now = src.index, src.now
	if got := dst.f.Applied(); got != src.index {
		t.Errorf("Applied() after Restore = %d, want the snapshot's %d", got, src.index)
	}
	if !bytes.Equal(dump(t, src.f), dump(t, dst.f)) {
		t.Fatal("restored state differs from the snapshot's")
	}
	if src.f.Keys() != dst.f.Keys() {
		t.Errorf("Keys(): %d before, %d after", src.f.Keys(), dst.f.Keys())
	}
	keys := vals(req("stale", "", "bin\r\nkey\x00\xff", "big", 7, "key:7", "list", "hash", "set", "zset", "set-gone"))
	for i := 0; i < 2000; i += 7 {
		keys = append(keys, bulk("key:"+strconv.Itoa(i)))
	}
	sameAnswers(t, src, dst, keys)
	if got := dst.read("GET", "big"); !resp.Equal(got, resp.Bulk(big)) {
		t.Errorf("GET big after Restore: %d bytes, want %d", got.Len(), len(big))
	}

	// Both go on alike.
	for _, n := range []*node{src, dst} {
		n.apply("INCR", "key:4")
		n.apply("RENAME", "key:1", "moved")
		n.apply("APPEND", "key:0", "!")
		n.apply("EXPIRE", "key:8", 5)
		n.apply("LPUSH", "list", "z")
		n.apply("HSET", "hash", "h", "1")
		n.apply("SREM", "set", "m")
		n.apply("ZADD", "zset", "INCR", 1, "mid")
	}
	if !bytes.Equal(dump(t, src.f), dump(t, dst.f)) {
		t.Error("states differ after the same writes following a restore")
	}
}

// TestSnapshot_PointInTime: a snapshot persists the state as it was when
// taken, while writes go on.
func TestSnapshot_PointInTime(t *testing.T) {
	n := newNode(t, resp.Native)
	fill(n, 200)
	before := dump(t, n.f)
	snap, err := n.f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	for _, w := range [][]any{
		req("SET", "key:0", "changed"), req("APPEND", "key:2", "more"), req("INCR", "key:4"),
		req("EXPIRE", "key:8", 100), req("PERSIST", "key:1"), req("RENAME", "key:12", "new"),
		req("DEL", "key:16"), req("MSET", "key:20", "x", "fresh", arr(1)), req("FLUSH"), req("SET", "after", "flush"),
	} {
		n.apply(w...)
	}
	if got := canonical(t, persist(t, snap)); !bytes.Equal(got, before) {
		t.Error("the persisted snapshot shows writes applied after it was taken")
	}
}

// refused restores stream into f, which must fail and leave f's state
// (before, in dump form) and applied index as they were. It returns the error.
func refused(t testing.TB, f *fsm.FSM, stream, before []byte, applied uint64, what string) error {
	t.Helper()
	err := restore(f, stream)
	if err == nil {
		t.Fatalf("%s: Restore succeeded", what)
	}
	unchanged(t, f, before, applied, what)
	return err
}

// unchanged checks that a failed Restore left f's state (before, in dump
// form) and applied index as they were.
func unchanged(t testing.TB, f *fsm.FSM, before []byte, applied uint64, what string) {
	t.Helper()
	if f.Applied() != applied || !bytes.Equal(dump(t, f), before) {
		t.Fatalf("%s: the failed Restore changed the state", what)
	}
}

func TestRestore_UnknownVersion(t *testing.T) {
	n := newNode(t, resp.Native)
	n.apply("SET", "k", "v")
	before := dump(t, n.f)
	for _, version := range []int64{0, 4, 99, -1} {
		stream := resp.AppendValue(nil, arr("kvorum-snapshot", version, 5, 0))
		stream = resp.AppendValue(stream, arr("end", 0))
		what := "version " + strconv.FormatInt(version, 10)
		if err := refused(t, n.f, stream, before, 1, what); !errors.Is(err, fsm.ErrSnapshotVersion) {
			t.Errorf("%s: Restore = %v, want ErrSnapshotVersion", what, err)
		}
	}
}

// TestRestore_Truncated cuts a snapshot at every offset (stepping through
// the long bulk strings' interiors): each cut is an error, and the state and
// applied index stay as they were.
func TestRestore_Truncated(t *testing.T) {
	src := newNode(t, resp.Native)
	fill(src, 40)
	stream := snapshotOf(t, src.f)

	dst := newNode(t, resp.RESP2)
	dst.apply("SET", "mine", "v")
	dst.apply("SET", "t", "v", "EX", 10)
	before := dump(t, dst.f)
	for cut := 0; cut < len(stream); cut++ {
		if cut >= 2 && cut+2 <= len(stream) && cut%101 != 0 && len(bytes.Trim(stream[cut-2:cut+2], "5k")) == 0 {
			continue // the middle of the "5k5k..." value
		}
		refused(t, dst.f, stream[:cut], before, 2, "cut at "+strconv.Itoa(cut)+" of "+strconv.Itoa(len(stream)))
	}
	if err := restore(dst.f, stream); err != nil {
		t.Fatalf("the whole stream: %v", err)
	}
}

// streamOf encodes records as a snapshot stream.
func streamOf(records ...resp.Value) []byte {
	var b []byte
	for _, r := range records {
		b = resp.AppendValue(b, r)
	}
	return b
}

func TestRestore_Malformed(t *testing.T) {
	head := func(count int) resp.Value { return arr("kvorum-snapshot", 1, 9, count) }
	head2 := func(count int) resp.Value { return arr("kvorum-snapshot", 2, 9, count) }
	end := func(count int) resp.Value { return arr("end", count) }
	rec := arr("k", "v", 0, 3)
	cases := map[string][]byte{
		"empty":               nil,
		"text":                []byte("hello world\n"),
		"not an array":        streamOf(bulk("kvorum-snapshot")),
		"other magic":         streamOf(arr("redis-snapshot", 1, 9, 0), end(0)),
		"short header":        streamOf(arr("kvorum-snapshot", 1, 9), end(0)),
		"version as text":     streamOf(arr("kvorum-snapshot", "1", 9, 0), end(0)),
		"negative index":      streamOf(arr("kvorum-snapshot", 1, -9, 0), end(0)),
		"negative count":      streamOf(arr("kvorum-snapshot", 1, 9, -1), end(-1)),
		"index as text":       streamOf(arr("kvorum-snapshot", 1, "9", 0), end(0)),
		"no end":              streamOf(head(1), rec),
		"fewer records":       streamOf(head(2), rec, end(2)),
		"more records":        streamOf(head(1), rec, rec, end(1)),
		"end disagrees":       streamOf(head(1), rec, end(2)),
		"end count as text":   streamOf(head(0), arr("end", "0")),
		"three fields":        streamOf(head(1), arr("k", "v", 0), end(1)),
		"integer key":         streamOf(head(1), arr(5, "v", 0, 3), end(1)),
		"null key":            streamOf(head(1), arr(nil, "v", 0, 3), end(1)),
		"array key":           streamOf(head(1), arr(arr("k"), "v", 0, 3), end(1)),
		"expire as text":      streamOf(head(1), arr("k", "v", "0", 3), end(1)),
		"negative mod":        streamOf(head(1), arr("k", "v", 0, -3), end(1)),
		"record is a dict":    streamOf(head(1), dict("k", "v", 0, 3), end(1)),
		"kind in v1":          streamOf(head(1), arr("k", "v", 0, 3, 0), end(1)),
		"unknown kind":        streamOf(head2(1), arr("k", "v", 0, 3, 3), end(1)),
		"kind as text":        streamOf(head2(1), arr("k", "v", 0, 3, "1"), end(1)),
		"set not an array":    streamOf(head2(1), arr("k", "v", 0, 3, 1), end(1)),
		"empty set":           streamOf(head2(1), arr("k", arr(), 0, 3, 1), end(1)),
		"set member repeated": streamOf(head2(1), arr("k", arr("a", "a"), 0, 3, 1), end(1)),
		"set member array":    streamOf(head2(1), arr("k", arr(arr("a")), 0, 3, 1), end(1)),
		"zset odd":            streamOf(head2(1), arr("k", arr("a", d(1), "b"), 0, 3, 2), end(1)),
		"zset score as text":  streamOf(head2(1), arr("k", arr("a", "1"), 0, 3, 2), end(1)),
		"zset NaN score":      streamOf(head2(1), arr("k", arr("a", d(math.NaN())), 0, 3, 2), end(1)),
		"zset repeated":       streamOf(head2(1), arr("k", arr("a", d(1), "a", d(2)), 0, 3, 2), end(1)),
		"six fields":          streamOf(head2(1), arr("k", "v", 0, 3, 0, 0), end(1)),
		"bad frame in record": append(streamOf(head(1)), "*4\r\n$1\r\nk\r\n$9\r\nv\r\n:0\r\n:3\r\n"...),
	}
	rng := rand.New(rand.NewPCG(7, 7))
	const alphabet = "*$:%+-_#,\r\n01239akvorum-snapshot"
	for i := range 300 {
		b := make([]byte, rng.IntN(300))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		cases["random "+strconv.Itoa(i)] = b
	}
	n := newNode(t, resp.Native)
	n.apply("SET", "k", "mine")
	before := dump(t, n.f)
	for name, stream := range cases {
		if err := refused(t, n.f, stream, before, 1, name); errors.Is(err, fsm.ErrSnapshotVersion) {
			t.Errorf("%s: Restore = %v, not a version error", name, err)
		}
	}

	// The smallest good stream: no keys, the applied index from its header.
	if err := restore(n.f, streamOf(head(0), end(0))); err != nil {
		t.Fatalf("empty snapshot: %v", err)
	}
	if n.f.Keys() != 0 || n.f.Applied() != 9 {
		t.Errorf("after an empty snapshot at 9: %d keys, applied %d", n.f.Keys(), n.f.Applied())
	}
}

// A version 2 stream written by hand restores every record kind, an
// explicit kind 0 included.
func TestRestore_Version2Kinds(t *testing.T) {
	stream := streamOf(arr("kvorum-snapshot", 2, 9, 5),
		arr("plain", "v", 0, 3),
		arr("plain0", dict("f", 1), 0, 4, 0),
		arr("set", arr("b", "a"), 0, 5, 1),
		arr("zset", arr("lo", d(math.Inf(-1)), "x", d(2)), 0, 6, 2),
		arr("list", arr(1, 2), 0, 7, 0),
		arr("end", 5))
	n := newNode(t, resp.RESP3)
	if err := restore(n.f, stream); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	n.index = 9
	n.run([]step{
		{args: req("GET", "plain"), want: bulk("v")},
		{args: req("HGET", "plain0", "f"), want: bulk("1")},
		{args: req("SMEMBERS", "set"), want: arr("a", "b")},
		{args: req("ZRANGE", "zset", 0, -1, "WITHSCORES"), want: arr(arr("lo", d(math.Inf(-1))), arr("x", d(2)))}, // RESP3: [member, score] pairs, as Redis 7
		{args: req("LRANGE", "list", 0, -1), want: arr("1", "2")},
		{args: req("TYPE", "set"), want: resp.Simple("set")},
		{args: req("TYPE", "zset"), want: resp.Simple("zset")},
		{args: req("KVORUM.MODS", "set", "zset"), want: arr(5, 6)},
	})
}

// TestRestore_AppliedIndex: the applied index becomes the snapshot's,
// even below the current one, and WaitApplied callers wake for it.
func TestRestore_AppliedIndex(t *testing.T) {
	src := newNode(t, resp.Native)
	fill(src, 10)
	stream := snapshotOf(t, src.f) // at src.index

	dst := newNode(t, resp.Native)
	done := make(chan error, 1)
	go func() { done <- dst.f.WaitApplied(context.Background(), src.index) }()
	if err := restore(dst.f, stream); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	awaitErr(t, done, "WaitApplied to return after restoring a snapshot at its index")
	if dst.f.Applied() != src.index {
		t.Fatalf("Applied() = %d, want %d", dst.f.Applied(), src.index)
	}

	dst.index = src.index
	fill(dst, 30)
	if err := restore(dst.f, stream); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if dst.f.Applied() != src.index {
		t.Errorf("after restoring a snapshot at %d over index %d: Applied() = %d", src.index, dst.index, dst.f.Applied())
	}
}

// closeRecorder is a snapshot source that records whether it was closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestRestore_ClosesSource(t *testing.T) {
	f := fsm.New(fsm.Config{})
	for _, stream := range [][]byte{snapshotOf(t, f), []byte("garbage")} {
		src := &closeRecorder{Reader: bytes.NewReader(stream)}
		f.Restore(src)
		if !src.closed {
			t.Errorf("Restore(%q) left its source open", stream)
		}
	}
}

// roundTrips checks that f's snapshot restores into a fresh FSM with the
// same state and applied index.
func roundTrips(t testing.TB, f *fsm.FSM) {
	t.Helper()
	again := fsm.New(fsm.Config{})
	if err := restore(again, snapshotOf(t, f)); err != nil {
		t.Fatalf("Restore of a snapshot: %v", err)
	}
	if !bytes.Equal(dump(t, f), dump(t, again)) || f.Applied() != again.Applied() {
		t.Fatal("the state does not snapshot and restore to itself")
	}
}

// FuzzRestore: any stream is restored or refused; a refused one leaves
// the state alone, an accepted one snapshots and restores to itself.
func FuzzRestore(f *testing.F) {
	n := newNode(f, resp.Native)
	fill(n, 30)
	good := snapshotOf(f, n.f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(streamOf(arr("kvorum-snapshot", 1, 9, 1), arr("k", arr(1, dict("a", nil)), 5, 3), arr("end", 1)))
	f.Add([]byte("*4\r\n$15\r\nkvorum-snapshot\r\n:1\r\n:0\r\n:0\r\n*2\r\n$3\r\nend\r\n:0\r\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		n := newNode(t, resp.Native)
		n.apply("SET", "k", "mine")
		before := dump(t, n.f)
		if err := restore(n.f, stream); err != nil {
			unchanged(t, n.f, before, 1, err.Error())
			return
		}
		roundTrips(t, n.f)
	})
}
