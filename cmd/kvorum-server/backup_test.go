package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	kvclient "github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/resp"
)

// backupKeys is how many keys the round trip writes: a fifth of each kind.
const backupKeys = 100_000

// backupRead returns the read that shows key i of the round trip whole.
func backupRead(i int) []any {
	k := "k" + strconv.Itoa(i)
	switch i % 5 {
	case 0:
		return []any{"GET", k}
	case 1:
		return []any{"LRANGE", k, 0, -1}
	case 2:
		return []any{"HGETALL", k}
	case 3:
		return []any{"SMEMBERS", k}
	}
	return []any{"ZRANGE", k, 0, -1, "WITHSCORES"}
}

// backupWrite returns the write that makes key i; every fourth key also
// gets a deadline an hour away.
func backupWrite(i int) [][]any {
	k := "k" + strconv.Itoa(i)
	var w []any
	switch i % 5 {
	case 0:
		w = []any{"SET", k, "v" + strconv.Itoa(i)}
	case 1:
		w = []any{"RPUSH", k, "a", i, "c"}
	case 2:
		w = []any{"HSET", k, "f", i, "g", "x"}
	case 3:
		w = []any{"SADD", k, "m1", i}
	default:
		w = []any{"ZADD", k, 1.5, "one", i, "two"}
	}
	out := [][]any{w}
	if i%4 == 0 {
		out = append(out, []any{"PEXPIRE", k, 3_600_000})
	}
	return out
}

// pipelined runs cmds through c in pipelines of 1,000 and returns the
// replies; any error fails the test.
func pipelined(t *testing.T, c *kvclient.Client, cmds [][]any) []resp.Value {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out []resp.Value
	for start := 0; start < len(cmds); start += 1000 {
		p := c.Pipeline()
		for _, cmd := range cmds[start:min(start+1000, len(cmds))] {
			p.Do(cmd...)
		}
		replies, err := p.Exec(ctx)
		if err != nil {
			t.Fatalf("pipeline at %d: %v", start, err)
		}
		out = append(out, replies...)
	}
	return out
}

// kvorum-cli --backup of 100,000 keys of every kind, with deadlines, and
// --restore into a fresh node give back the same keys, values and
// deadlines; a second restore needs --force.
func TestBackup_CLIRoundTrip(t *testing.T) {
	cli, cleanup, err := buildtest.Build("./cmd/kvorum-cli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	src := start(t, t.TempDir())
	dst := start(t, t.TempDir())
	clients := map[string]*kvclient.Client{}
	for _, p := range []*proc{src, dst} {
		c, err := kvclient.New(kvclient.Options{Addrs: []string{p.addr}, Protocol: resp.RESP2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients[p.addr] = c
	}
	var writes, reads, ttls [][]any
	for i := range backupKeys {
		writes = append(writes, backupWrite(i)...)
		reads = append(reads, backupRead(i))
		ttls = append(ttls, []any{"PTTL", "k" + strconv.Itoa(i)})
	}
	pipelined(t, clients[src.addr], writes)
	want := pipelined(t, clients[src.addr], reads)

	file := filepath.Join(t.TempDir(), "kvorum.backup")
	runCLI := func(p *proc, args ...string) string {
		t.Helper()
		host, port, _ := strings.Cut(p.addr, ":")
		out, err := exec.Command(cli, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Sprintf("exit: %v: %s", err, out)
		}
		return string(out)
	}
	if out := runCLI(src, "--backup", file); !strings.HasPrefix(out, "Backup written to "+file) {
		t.Fatalf("kvorum-cli --backup: %s", out)
	}
	if st, err := os.Stat(file); err != nil || st.Size() == 0 {
		t.Fatalf("backup file: %v", err)
	}
	if v, _ := clients[dst.addr].Do(context.Background(), "SET", "in-the-way", "1"); v.IsError() {
		t.Fatalf("SET = %v", v)
	}
	if out := runCLI(dst, "--restore", file); !strings.Contains(out, "holds 1 key and") || !strings.Contains(out, "FORCE") {
		t.Fatalf("kvorum-cli --restore over a key, without --force: %s", out)
	}
	if out := runCLI(dst, "--restore", file, "--force"); !strings.HasPrefix(out, "Cluster restored from "+file) {
		t.Fatalf("kvorum-cli --restore --force: %s", out)
	}
	got := pipelined(t, clients[dst.addr], reads)
	if len(got) != len(want) {
		t.Fatalf("%d replies after restore, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i].String(), want[i].String()) {
			t.Fatalf("%v after restore = %v, want %v", reads[i], got[i], want[i])
		}
	}
	for i, v := range pipelined(t, clients[dst.addr], ttls) {
		if expiring := i%4 == 0; expiring != (v.Int() > 0) || v.Int() > 3_600_000 {
			t.Fatalf("PTTL k%d after restore = %v (a deadline: %v)", i, v, expiring)
		}
	}
	if v, _ := clients[dst.addr].Do(context.Background(), "DBSIZE"); v.Int() != backupKeys {
		t.Fatalf("DBSIZE after restore = %v, want %d (the key in the way replaced)", v, backupKeys)
	}
}
