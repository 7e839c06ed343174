package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// eachLogStore runs test once per --raft-log-store, in parallel subtests
// named after the store; store is the flag to start every server with.
func eachLogStore(t *testing.T, test func(t *testing.T, store ...string)) {
	t.Parallel()
	for _, name := range []string{"boltdb", "wal"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, "--raft-log-store", name)
		})
	}
}

// TestDurability_SIGKILL writes 10,000 keys (every ack received), then
// keeps a pipelined stream of writes in flight while the process is killed
// with SIGKILL. On restart over the same data directory every acknowledged
// key holds its value: an ack means the entry was fsynced.
func TestDurability_SIGKILL(t *testing.T) { eachLogStore(t, testDurabilitySIGKILL) }

func testDurabilitySIGKILL(t *testing.T, store ...string) {
	dir := t.TempDir()
	p := start(t, dir, store...)
	const n = 10000
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	value := func(prefix string, i int) string { return fmt.Sprintf("%s-value-%d-%s", prefix, i, run) }

	c := dial(t, p.addr)
	reqs := make([][]resp.Value, n)
	for i := range reqs {
		reqs[i] = strArgs("SET", fmt.Sprintf("key:%d", i), value("key", i))
	}
	for i, v := range c.pipeline(reqs) {
		if v.Kind() != resp.KindInt || v.Int() != 1 {
			t.Fatalf("SET key:%d: got %v, want :1", i, v)
		}
	}

	// A stream of writes in flight when the process dies: count the acks.
	acked := streamUntilKilled(t, p, "inflight", value)
	t.Logf("%d acks of the in-flight stream before SIGKILL", acked)

	p2 := start(t, dir, store...)
	c2 := dial(t, p2.addr)
	check := func(prefix string, count int) {
		t.Helper()
		gets := make([][]resp.Value, count)
		for i := range gets {
			gets[i] = strArgs("GET", fmt.Sprintf("%s:%d", prefix, i))
		}
		missing := 0
		for i, v := range c2.pipeline(gets) {
			if want := value(prefix, i); v.Kind() != resp.KindBulk || v.Text() != want {
				if missing < 5 {
					t.Errorf("after restart GET %s:%d = %v, want %q", prefix, i, v, want)
				}
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("%d of %d acknowledged %s keys lost after SIGKILL", missing, count, prefix)
		}
	}
	check("key", n)
	check("inflight", acked)
}

// streamUntilKilled pipelines SETs of prefix:i on one connection and
// SIGKILLs the server once a few hundred are acknowledged, with more still
// in flight. It returns how many were acknowledged, in order, before the
// connection died.
func streamUntilKilled(t *testing.T, p *proc, prefix string, value func(string, int) string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	const chunk, limit = 100, 100000
	go func() { // the writer ends when the socket dies or the limit is reached
		var buf []byte
		for i := 0; i < limit; i += chunk {
			buf = buf[:0]
			for j := i; j < i+chunk; j++ {
				buf = resp.AppendCommand(buf, "SET", fmt.Sprintf("%s:%d", prefix, j), value(prefix, j))
			}
			if _, err := conn.Write(buf); err != nil {
				return
			}
		}
	}()
	rd := resp.NewReader(conn, resp.Limits{})
	acked := 0
	killed := false
	for {
		v, err := rd.ReadValue()
		if err != nil {
			if !killed {
				t.Fatalf("stream broke after %d acks before the kill: %v", acked, err)
			}
			break
		}
		if v.Kind() != resp.KindInt || v.Int() != 1 {
			t.Fatalf("SET %s:%d: got %v, want :1", prefix, acked, v)
		}
		acked++
		if acked == 500 {
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("SIGKILL: %v", err)
			}
			killed = true
		}
		if acked == limit {
			t.Fatalf("all %d writes acknowledged: the server outlived SIGKILL", limit)
		}
	}
	if code := p.waitExit(exitTimeout); code != -1 {
		t.Fatalf("exit code after SIGKILL = %d, want -1 (killed by signal)", code)
	}
	return acked
}

// writeWorkload applies count varied writes to c (nested values, integers,
// MSET, deletes, overwrites, a TTL), keys drawn from a space of 200. It
// sends them one at a time, so each is its own log entry whatever the
// write path batches.
func writeWorkload(t *testing.T, c *client, round, count int) {
	t.Helper()
	reqs := make([][]resp.Value, 0, count)
	for i := 0; len(reqs) < count; i++ {
		k := fmt.Sprintf("k%d", (round*count+i*7)%200)
		tag := fmt.Sprintf("r%d-%d", round, i)
		var r []resp.Value
		switch i % 6 {
		case 0:
			r = strArgs("SET", k, tag)
		case 1:
			r = []resp.Value{resp.BulkString("SET"), resp.BulkString(k), resp.Array(resp.BulkString(tag), resp.Int(int64(i)),
				resp.Dict(resp.BulkString("n"), resp.Array(resp.Int(1), resp.BulkString("two"))))}
		case 2:
			r = []resp.Value{resp.BulkString("SET"), resp.BulkString(k), resp.Int(int64(-i))}
		case 3:
			r = strArgs("MSET", k, tag, k+"-m", tag+"-m")
		case 4:
			r = strArgs("DEL", fmt.Sprintf("k%d", (i*13)%200))
		case 5:
			r = strArgs("SET", k, tag, "EX", "100000")
		}
		reqs = append(reqs, r)
	}
	for i, r := range reqs {
		if v := c.doValue(r...); v.IsError() {
			t.Fatalf("round %d write %d %v: %v", round, i, r, v)
		}
	}
}

// writeUntilSnapshot applies rounds of writes until INFO raft reports a
// snapshot past index after, and returns the new snapshot index.
func (p *proc) writeUntilSnapshot(c *client, round int, after uint64) uint64 {
	p.t.Helper()
	deadline := time.Now().Add(startTimeout)
	for i := 0; time.Now().Before(deadline); i++ {
		writeWorkload(p.t, c, round*1000+i, 100)
		idx, err := strconv.ParseUint(p.infoField("raft_last_snapshot_index"), 10, 64)
		if err != nil {
			p.t.Fatalf("raft_last_snapshot_index: %v", err)
		}
		if idx > after {
			return idx
		}
	}
	p.t.Fatalf("no snapshot past index %d within %v of writes", after, startTimeout)
	return 0
}

// dump returns every key's value (exactly encoded) and whether it has a TTL.
func dump(t *testing.T, addr string) map[string]string {
	t.Helper()
	c := dial(t, addr)
	keys := c.do("KEYS", "*")
	if keys.Kind() != resp.KindArray {
		t.Fatalf("KEYS *: %v", keys)
	}
	var reqs [][]resp.Value
	for _, k := range keys.Elems() {
		reqs = append(reqs, strArgs("GET", k.Text()), strArgs("PTTL", k.Text()))
	}
	replies := c.pipeline(reqs)
	out := make(map[string]string, keys.Len())
	for i, k := range keys.Elems() {
		ttl := "no-ttl"
		if replies[2*i+1].Int() > 0 {
			ttl = "ttl"
		}
		out[k.Text()] = string(resp.AppendValue(nil, replies[2*i])) + " " + ttl
	}
	if size := c.do("DBSIZE"); size.Int() != int64(len(out)) {
		t.Fatalf("DBSIZE %v, KEYS * listed %d", size, len(out))
	}
	return out
}

// snapshotFlags make snapshots frequent (every 100 entries, checked often)
// on the given log store.
func snapshotFlags(store []string) []string {
	return append([]string{"--snapshot-threshold", "100", "--snapshot-interval", "50ms"}, store...)
}

// TestSnapshots_Restart forces several snapshots, leaves a log tail after
// the last one, stops with SIGTERM and restarts: the state (every key, its
// exact value and whether it has a TTL) equals the state before.
func TestSnapshots_Restart(t *testing.T) { eachLogStore(t, testSnapshotsRestart) }

func testSnapshotsRestart(t *testing.T, store ...string) {
	dir := t.TempDir()
	p := start(t, dir, snapshotFlags(store)...)
	c := dial(t, p.addr)
	var snap uint64
	for round := 0; round < 3; round++ {
		snap = p.writeUntilSnapshot(c, round, snap)
	}
	writeWorkload(t, c, 3, 30) // a tail below the threshold: only in the log
	before := dump(t, p.addr)
	if len(before) < 100 {
		t.Fatalf("workload left only %d keys", len(before))
	}
	if code := p.signal(syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit code %d, want 0", code)
	}
	if list := snapshotDirs(t, dir); len(list) == 0 || len(list) > 2 {
		t.Fatalf("snapshots kept: %v, want 1 or 2", list)
	}

	p2 := start(t, dir, snapshotFlags(store)...)
	if idx := p2.infoField("raft_last_snapshot_index"); idx == "0" {
		t.Fatalf("restarted node reports no snapshot")
	}
	after := dump(t, p2.addr)
	if len(after) != len(before) {
		t.Errorf("DBSIZE %d after restart, %d before", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("key %q: %q after restart, %q before", k, after[k], v)
		}
	}
}

type snapshotMeta struct {
	ID    string
	Term  uint64
	Index uint64
}

// snapshotDirs lists dir/snapshots newest first, as raft orders them.
func snapshotDirs(t *testing.T, dir string) []snapshotMeta {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "snapshots", "*", "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []snapshotMeta
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m snapshotMeta
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Term != b.Term {
			return a.Term > b.Term
		}
		if a.Index != b.Index {
			return a.Index > b.Index
		}
		return a.ID > b.ID
	})
	return out
}

// TestSnapshot_Corrupt damages the newest snapshot of a stopped node
// (truncated, or one byte flipped): start-up must fail at once with a
// non-zero exit and an error naming the file, not a panic, and not
// silently fall back to an older snapshot.
func TestSnapshot_Corrupt(t *testing.T) { eachLogStore(t, testSnapshotCorrupt) }

func testSnapshotCorrupt(t *testing.T, store ...string) {
	base := t.TempDir()
	p := start(t, base, snapshotFlags(store)...)
	c := dial(t, p.addr)
	p.writeUntilSnapshot(c, 0, 0)
	if code := p.signal(syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit code %d, want 0", code)
	}

	for _, tc := range []struct {
		name   string
		damage func(data []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"flipped-byte", func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			copyDir(t, base, dir)
			list := snapshotDirs(t, dir)
			if len(list) == 0 {
				t.Fatal("no snapshot on disk")
			}
			state := filepath.Join(dir, "snapshots", list[0].ID, "state.bin")
			b, err := os.ReadFile(state)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(state, tc.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			p := launch(t, dir, snapshotFlags(store)...)
			code := p.waitExit(10 * time.Second)
			log := p.log.String()
			t.Logf("exit %d after %v", code, time.Since(began).Round(time.Millisecond))
			if code <= 0 {
				t.Errorf("exit code %d, want > 0", code)
			}
			if !strings.Contains(log, state) {
				t.Errorf("log does not name %s:\n%s", state, log)
			}
			if strings.Contains(log, "panic") || strings.Contains(log, "goroutine ") {
				t.Errorf("start-up panicked:\n%s", log)
			}
		})
	}
}

// copyDir copies a stopped node's data directory.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// TestDataDirLocked starts a second server on a data directory in use: it
// exits non-zero within a few seconds saying so, and the first keeps serving.
func TestDataDirLocked(t *testing.T) { eachLogStore(t, testDataDirLocked) }

func testDataDirLocked(t *testing.T, store ...string) {
	dir := t.TempDir()
	p := start(t, dir, store...)
	began := time.Now()
	second := launch(t, dir, store...)
	code := second.waitExit(5 * time.Second)
	took := time.Since(began)
	log := second.log.String()
	if code <= 0 {
		t.Errorf("second server: exit code %d, want > 0", code)
	}
	if !strings.Contains(log, "in use by another kvorum-server") || !strings.Contains(log, dir) {
		t.Errorf("second server's message does not say the data dir %s is in use:\n%s", dir, log)
	}
	t.Logf("second server exited %d after %v", code, took.Round(time.Millisecond))
	if v := dial(t, p.addr).do("SET", "still", "serving"); v.IsError() {
		t.Errorf("first server after the second's attempt: %v", v)
	}
}
