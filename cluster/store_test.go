package cluster

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

var logStores = []string{LogStoreBolt, LogStoreWAL}

func openTestStores(t *testing.T, dir, kind string) *countingStore {
	t.Helper()
	store, _, err := openStores(dir, Config{LogStore: kind}.withDefaults())
	if err != nil {
		t.Fatalf("open %s stores in %s: %v", kind, dir, err)
	}
	return store
}

func appendLogs(t *testing.T, s raft.LogStore, from, to uint64, term uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := from; i <= to; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("entry-%d-%d", term, i))})
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatalf("StoreLogs %d..%d: %v", from, to, err)
	}
}

// checkLogs asserts the store holds exactly first..last, each entry written
// in the term terms gives it.
func checkLogs(t *testing.T, s raft.LogStore, first, last uint64, term func(uint64) uint64) {
	t.Helper()
	if got, err := s.FirstIndex(); err != nil || got != first {
		t.Fatalf("FirstIndex = %d, %v; want %d", got, err, first)
	}
	if got, err := s.LastIndex(); err != nil || got != last {
		t.Fatalf("LastIndex = %d, %v; want %d", got, err, last)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil {
			t.Fatalf("GetLog %d: %v", i, err)
		}
		if want := fmt.Sprintf("entry-%d-%d", term(i), i); string(l.Data) != want {
			t.Fatalf("GetLog %d = %q, want %q", i, l.Data, want)
		}
	}
}

// Both stores count writes and entries, keep the log and the stable store
// across a reopen, and tell raft whether they can hold a gap.
func TestOpenStores_EachStore(t *testing.T) {
	for _, kind := range logStores {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestStores(t, dir, kind)
			appendLogs(t, s, 1, 10, 1)
			if err := s.StoreLog(&raft.Log{Index: 11, Term: 1, Data: []byte("entry-1-11")}); err != nil {
				t.Fatal(err)
			}
			if w, e := s.writes.Load(), s.entries.Load(); w != 2 || e != 11 {
				t.Errorf("counted %d writes, %d entries; want 2, 11", w, e)
			}
			if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
				t.Fatal(err)
			}
			if got, want := s.IsMonotonic(), kind == LogStoreWAL; got != want {
				t.Errorf("IsMonotonic = %v, want %v", got, want)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			s = openTestStores(t, dir, kind) // in the same process: every lock released
			defer s.Close()
			checkLogs(t, s, 1, 11, func(uint64) uint64 { return 1 })
			if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 7 {
				t.Errorf("CurrentTerm after reopen = %d, %v; want 7", v, err)
			}
		})
	}
}

// A follower whose uncommitted tail a new leader overwrites deletes a
// suffix of its log (raft's DeleteRange(min, last)) and appends the new
// entries; after a restart the log must read back whole.
func TestOpenStores_TailTruncation(t *testing.T) {
	for _, kind := range logStores {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestStores(t, dir, kind)
			appendLogs(t, s, 1, 10, 1)
			if err := s.DeleteRange(8, 10); err != nil {
				t.Fatalf("DeleteRange(8, 10): %v", err)
			}
			appendLogs(t, s, 8, 12, 2)
			term := func(i uint64) uint64 {
				if i >= 8 {
					return 2
				}
				return 1
			}
			checkLogs(t, s, 1, 12, term)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			// Again in the new tail, then a head truncation (a snapshot's
			// compaction), each across a restart.
			s = openTestStores(t, dir, kind)
			checkLogs(t, s, 1, 12, term)
			if err := s.DeleteRange(11, 12); err != nil {
				t.Fatalf("DeleteRange(11, 12): %v", err)
			}
			appendLogs(t, s, 11, 14, 3)
			term = func(i uint64) uint64 {
				switch {
				case i >= 11:
					return 3
				case i >= 8:
					return 2
				}
				return 1
			}
			s.Close()
			s = openTestStores(t, dir, kind)
			checkLogs(t, s, 1, 14, term)
			if err := s.DeleteRange(1, 5); err != nil {
				t.Fatalf("DeleteRange(1, 5): %v", err)
			}
			s.Close()
			s = openTestStores(t, dir, kind)
			defer s.Close()
			checkLogs(t, s, 6, 14, term)
		})
	}
}

// A data dir keeps its log store: opening it with the other one fails with
// a message that names the store it holds and the flag to use.
func TestOpenStores_Mismatch(t *testing.T) {
	for _, tc := range []struct{ holds, want string }{{LogStoreBolt, LogStoreWAL}, {LogStoreWAL, LogStoreBolt}} {
		t.Run(tc.holds+"-dir-opened-as-"+tc.want, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestStores(t, dir, tc.holds)
			appendLogs(t, s, 1, 3, 1)
			s.Close()

			_, _, err := openStores(dir, Config{LogStore: tc.want}.withDefaults())
			var mismatch *LogStoreMismatchError
			if !errors.As(err, &mismatch) || mismatch.Holds != tc.holds || mismatch.Want != tc.want {
				t.Fatalf("open %s dir as %s: err %v, want a LogStoreMismatchError", tc.holds, tc.want, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "--raft-log-store "+tc.holds) || !strings.Contains(msg, dir) {
				t.Errorf("message %q does not name the dir and --raft-log-store %s", msg, tc.holds)
			}

			s = openTestStores(t, dir, tc.holds) // the refusal left the dir as it was
			defer s.Close()
			checkLogs(t, s, 1, 3, func(uint64) uint64 { return 1 })
		})
	}
}

// The log's bolt settings trade nothing an acknowledged entry needs: every
// commit syncs, and growing the file syncs its new size (NoGrowSync is
// unsafe on ext3/ext4, where fdatasync may return before the size is
// journaled). Only the freelist, which bolt rebuilds at open, skips syncs.
func TestBoltOptions_KeepTheLogDurable(t *testing.T) {
	o := boltOptions(256 << 20)
	if o.NoSync || o.NoGrowSync {
		t.Fatalf("bolt options trade the log's durability: NoSync %v, NoGrowSync %v", o.NoSync, o.NoGrowSync)
	}
	if !o.NoFreelistSync {
		t.Errorf("NoFreelistSync is off: every commit writes the freelist too")
	}
}
