package cluster

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// INFO raft's accounting counts every applied command once (a batch entry
// as its commands), the log writes and their syncs per command, and the
// time of each part of the commit cycle; nothing stays in flight after.
func TestAccounting_CommitCycle(t *testing.T) {
	n := startSoleNode(t)
	field := func(name string) float64 {
		t.Helper()
		for _, line := range n.raftInfo() {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return f
			}
		}
		t.Fatalf("INFO raft has no %s", name)
		return 0
	}
	before := field("raft_commands_applied")
	const writes = 300
	var wg sync.WaitGroup
	errs := make(chan error, writes)
	for i := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []resp.Value{resp.BulkString("SET"), resp.BulkString("k" + strconv.Itoa(i)), resp.BulkString("v")}
			if _, _, err := n.Propose(0, resp.RESP2, args).Wait(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := field("raft_commands_applied") - before; got != writes {
		t.Fatalf("raft_commands_applied grew by %v for %d writes", got, writes)
	}
	logWrites := field("raft_log_writes")
	if want := logWrites * 2 / field("raft_commands_applied"); math.Abs(field("raft_fsyncs_per_command")-want) > 0.006 {
		t.Fatalf("raft_fsyncs_per_command %v, want 2 syncs x %v writes / commands = %.2f", field("raft_fsyncs_per_command"), logWrites, want)
	}
	if field("raft_fsyncs_per_command") >= 2 {
		t.Fatalf("raft_fsyncs_per_command %v: %d concurrent writes were not batched", field("raft_fsyncs_per_command"), writes)
	}
	for _, name := range []string{"raft_log_write_usec", "raft_apply_usec", "raft_batch_commit_usec"} {
		if field(name) <= 0 {
			t.Errorf("%s is %v after %d writes", name, field(name), writes)
		}
	}
	if v := field("raft_batches_in_flight"); v != 0 {
		t.Errorf("raft_batches_in_flight %v with every write answered", v)
	}
	if field("raft_log_syncs_per_write") != 2 {
		t.Errorf("raft_log_syncs_per_write %v on boltdb, want 2", field("raft_log_syncs_per_write"))
	}
}
