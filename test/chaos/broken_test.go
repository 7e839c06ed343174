package chaos

import (
	"fmt"
	"os"
	"testing"

	"github.com/kvorum/kvorum/internal/buildtest"
)

// The broken build's schedules: brokenTries seeds from brokenSeed.
const (
	brokenSeed  = 1300
	brokenTries = 3
)

// TestChaos_CatchesBrokenBuild proves the suite can fail: it runs
// schedules against kvorum-server built with -tags kvorum_broken, whose
// leader acknowledges a SET before it commits, with a reply from its
// state of the moment (cluster/door/broken.go), and fails unless the
// register checker finds a history not linearizable and writes its
// visualization, within brokenTries schedules of fixed seeds.
//
// It costs a build and up to three runs, so only KVORUM_FAULTS=1 runs it.
// KVORUM_CHAOS_BROKEN_SERVER=path runs a binary built with the tag
// elsewhere instead.
func TestChaos_CatchesBrokenBuild(t *testing.T) {
	if os.Getenv("KVORUM_FAULTS") != "1" {
		t.Skip("a server build and up to 3 chaos runs: KVORUM_FAULTS=1 runs it")
	}
	bin := os.Getenv("KVORUM_CHAOS_BROKEN_SERVER")
	if bin == "" {
		b, cleanup, err := buildtest.Build("./cmd/kvorum-server", "-tags", "kvorum_broken")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cleanup)
		bin = b
	}
	for i := range brokenTries {
		seed := uint64(brokenSeed + i)
		var r *report
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r = runSchedule(t, loopback(bin), seed, shortDuration)
			t.Log(r.summary())
		})
		if r == nil || r.Verdicts.Linearizability != "ILLEGAL" {
			continue
		}
		if st, err := os.Stat(r.Verdicts.Visualization); err != nil || st.Size() == 0 {
			t.Fatalf("caught with seed %d, but the visualization %q was not written: %v", seed, r.Verdicts.Visualization, err)
		}
		t.Logf("caught with seed %d: %v", seed, r.Verdicts.Problems)
		return
	}
	t.Fatalf("the broken build passed %d schedules (seeds %d..%d): the register checker caught nothing",
		brokenTries, brokenSeed, brokenSeed+brokenTries-1)
}
