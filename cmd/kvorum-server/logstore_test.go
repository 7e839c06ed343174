package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A data dir keeps the log store it was created with: a server started on
// it with the other --raft-log-store (or KVORUM_RAFT_LOG_STORE) exits
// non-zero at once, naming the dir, the store it holds and the flag to use,
// and leaves the dir as it was: the right store still finds the key.
func TestLogStore_MismatchRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ holds, other string }{{"boltdb", "wal"}, {"wal", "boltdb"}} {
		t.Run(tc.holds+"-dir", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := start(t, dir, "--raft-log-store", tc.holds)
			if v := dial(t, p.addr).do("SET", "kept", tc.holds); v.IsError() {
				t.Fatalf("SET: %v", v)
			}
			if code := p.signal(syscall.SIGTERM); code != 0 {
				t.Fatalf("SIGTERM: exit code %d, want 0", code)
			}

			want := []string{"data dir " + dir, "holds a " + tc.holds + " Raft log", "--raft-log-store " + tc.holds}
			refused := launch(t, dir, "--raft-log-store", tc.other)
			checkRefused(t, "--raft-log-store "+tc.other, refused.waitExit(10*time.Second), refused.log.String(), want)
			_, errOut, code := runBin(t, append(os.Environ(), "KVORUM_RAFT_LOG_STORE="+tc.other), serverBin,
				"--gossip-addr", "", "--listen", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--data-dir", dir)
			checkRefused(t, "KVORUM_RAFT_LOG_STORE="+tc.other, code, errOut, want)

			p2 := start(t, dir, "--raft-log-store", tc.holds)
			if v := dial(t, p2.addr).do("GET", "kept"); v.Text() != tc.holds {
				t.Errorf("GET kept after the refused starts = %v, want %q", v, tc.holds)
			}
		})
	}
}

func checkRefused(t *testing.T, how string, code int, log string, want []string) {
	t.Helper()
	if code <= 0 {
		t.Errorf("started with %s: exit code %d, want > 0", how, code)
	}
	for _, w := range want {
		if !strings.Contains(log, w) {
			t.Errorf("started with %s: log lacks %q:\n%s", how, w, log)
		}
	}
}

// --raft-log-store takes boltdb or wal; anything else exits 2 with one line.
// A wal node keeps its segments under wal/ and its term and vote in raft.db.
func TestLogStore_Flag(t *testing.T) {
	t.Parallel()
	_, errOut, code := runBin(t, nil, serverBin, "--raft-log-store", "leveldb")
	if want := `--raft-log-store: "leveldb" is neither boltdb nor wal`; code != 2 || strings.Count(errOut, want) != 1 {
		t.Errorf("--raft-log-store leveldb: exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
	dir := t.TempDir()
	p := start(t, dir, "--raft-log-store", "wal")
	if v := dial(t, p.addr).do("SET", "a", "1"); v.IsError() {
		t.Fatalf("SET: %v", v)
	}
	for _, name := range []string{"raft.db", "wal/wal-meta.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("wal node's data dir: %v", err)
		}
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal")); len(segs) == 0 {
		t.Errorf("no segment files in %s/wal", dir)
	}
}
