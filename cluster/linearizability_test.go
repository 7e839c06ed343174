package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/regmodel"
	"github.com/kvorum/kvorum/internal/testcluster"
)

// Clients read and write three keys through the smart client while a
// nemesis kills, restarts and partitions nodes; porcupine checks that the
// history is linearizable. Writes use SET ... GET, which the client never
// resends after an unknown outcome, so every write is applied at most once
// and the register model (internal/regmodel) is exact. A failed write is
// recorded as possibly applied at any time after its call; a failed read
// observed nothing and is dropped.
func TestLinearizability_UnderFaults(t *testing.T) {
	if os.Getenv("KVORUM_FAULTS") != "1" {
		t.Skip("set KVORUM_FAULTS=1 for the fault-injection run (8 s; .ci/run does, under -race)")
	}
	const (
		clients = 6
		keys    = 3
		runFor  = 8 * time.Second
	)
	c := testcluster.Start(t, testcluster.Options{})
	c.Leader(10 * time.Second)
	seeds := c.ClientAddrs()

	start := time.Now()
	now := func() int64 { return time.Since(start).Nanoseconds() } // monotonic
	run, stopClients := context.WithTimeout(context.Background(), runFor)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopClients() // also on a failure below: no client outlives the test

	histories := make([][]porcupine.Operation, clients) // one per client goroutine
	for id := range clients {
		cl, err := client.New(client.Options{Addrs: seeds, MinRetryBackoff: 5 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cl.Close()
			rng := rand.New(rand.NewPCG(uint64(id), uint64(start.UnixNano())))
			for n := 0; run.Err() == nil; n++ {
				in := regmodel.Input{Key: fmt.Sprint("k", rng.IntN(keys)), Write: rng.IntN(2) == 0}
				if in.Write {
					in.Value = fmt.Sprintf("c%d-%d", id, n)
				}
				op, err := registerOp(cl, in, now)
				op.ClientId = id
				if err != nil {
					if !in.Write {
						continue // a failed read observed nothing
					}
					// ErrUnknownOutcome: it may have been applied. Any other
					// error (refused, or the context ended between retries)
					// should mean it was not, but count it as unknown too:
					// a write that may take effect at any point after its
					// call is never wrongly accused.
					op.Output, op.Return = regmodel.Output{Unknown: true}, math.MaxInt64
					if !errors.Is(err, client.ErrUnknownOutcome) {
						t.Logf("client %d: SET %s failed: %v", id, in.Key, err)
					}
				}
				histories[id] = append(histories[id], op)
			}
		}()
	}

	// The nemesis, on the test goroutine: one fault at a time, each healed
	// (or the node restarted) before the next; none starts in the last 2 s,
	// so the clients finish on a healed cluster.
	seed := uint64(start.UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	var faults []string
	var notes []porcupine.Annotation
	for time.Until(start.Add(runFor)) > 2*time.Second {
		time.Sleep(time.Duration(300+rng.IntN(200)) * time.Millisecond) // pace: let the cluster settle
		leader := c.Leader(10 * time.Second)
		hold := time.Duration(700+rng.IntN(300)) * time.Millisecond
		from := now()
		var what string
		switch rng.IntN(3) {
		case 0:
			what = "kill+restart leader " + leader.ID()
			c.Kill(leader.Index)
			time.Sleep(hold)
			c.StartNode(leader.Index)
		case 1:
			what = "partition leader " + leader.ID()
			c.Partition(leader.Index)
			time.Sleep(hold)
			c.Heal(leader.Index)
		case 2:
			fs := c.Followers()
			if len(fs) == 0 {
				continue
			}
			f := fs[rng.IntN(len(fs))]
			what = "partition follower " + f.ID()
			c.Partition(f.Index)
			time.Sleep(hold)
			c.Heal(f.Index)
		}
		faults = append(faults, fmt.Sprintf("%.1fs %s", time.Duration(from).Seconds(), what))
		notes = append(notes, porcupine.Annotation{Tag: "nemesis", Start: from, End: now(), Description: what})
	}
	wg.Wait()

	var history []porcupine.Operation
	var reads, writes, unknown int
	for _, h := range histories {
		history = append(history, h...)
		for _, op := range h {
			switch {
			case !op.Input.(regmodel.Input).Write:
				reads++
			case op.Output.(regmodel.Output).Unknown:
				unknown++
			default:
				writes++
			}
		}
	}
	if reads == 0 || writes == 0 {
		t.Fatalf("only %d reads and %d acknowledged writes: the history checks nothing", reads, writes)
	}
	checkStart := time.Now()
	model := regmodel.Model()
	result, info := porcupine.CheckOperationsVerbose(model, history, 30*time.Second)
	t.Logf("%d operations in %v (%d reads, %d acknowledged writes, %d writes of unknown outcome) from %d clients on %d keys; nemesis seed %d: %s; check took %v: %v",
		len(history), runFor, reads, writes, unknown, clients, keys, seed, strings.Join(faults, ", "), time.Since(checkStart).Round(time.Millisecond), result)
	switch result {
	case porcupine.Illegal:
		info.AddAnnotations(notes)
		path := filepath.Join(t.ArtifactDir(), "linearizability.html")
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			t.Logf("visualization: %v", err)
		} else {
			t.Logf("visualization: %s (kept with go test -artifacts)", path)
		}
		t.Fatal("history is not linearizable")
	case porcupine.Unknown:
		t.Skip("linearizability check timed out; the history is neither proven nor refuted")
	}
}

// registerOp runs in through cl and returns it as an operation stamped with
// its call and return times, and the call's error. A write is
// SET key value GET, so its reply is the value it replaced.
func registerOp(cl *client.Client, in regmodel.Input, now func() int64) (porcupine.Operation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	args := []any{"GET", in.Key}
	if in.Write {
		args = []any{"SET", in.Key, in.Value, "GET"}
	}
	call := now()
	v, err := cl.Do(ctx, args...)
	ret := now()
	return porcupine.Operation{Input: in, Call: call, Output: regmodel.Output{Value: v.Text()}, Return: ret}, err
}
