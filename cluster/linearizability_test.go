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
	"github.com/kvorum/kvorum/internal/testcluster"
)

// regInput is one operation on a register (one key): a read, or a write
// that also returns the value it replaced (SET k v GET).
type regInput struct {
	key   string
	write bool
	value string
}

// regOutput is what the operation observed; unknown marks a write whose
// outcome the client could not learn (it may or may not have happened).
type regOutput struct {
	value   string
	unknown bool
}

// registerModel is a map of independent registers, partitioned by key. A
// missing key reads as "".
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(regInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in, out, st := input.(regInput), output.(regOutput), state.(string)
		if !in.write {
			return out.value == st, st
		}
		return out.unknown || out.value == st, in.value
	},
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(regInput), output.(regOutput)
		if !in.write {
			return fmt.Sprintf("get(%s) -> %q", in.key, out.value)
		}
		if out.unknown {
			return fmt.Sprintf("getset(%s, %q) -> ?", in.key, in.value)
		}
		return fmt.Sprintf("getset(%s, %q) -> %q", in.key, in.value, out.value)
	},
	DescribeState: func(state interface{}) string { return fmt.Sprintf("%q", state) },
}

// Clients read and write three keys through the smart client while a
// nemesis kills, restarts and partitions nodes; porcupine checks that the
// history is linearizable. Writes use SET ... GET, which the client never
// resends after an unknown outcome, so every write is applied at most once
// and the register model is exact. A failed write is recorded as possibly
// applied at any time after its call; a failed read observed nothing and is
// dropped.
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
				in := regInput{key: fmt.Sprint("k", rng.IntN(keys)), write: rng.IntN(2) == 0}
				if in.write {
					in.value = fmt.Sprintf("c%d-%d", id, n)
				}
				op, err := registerOp(cl, in, now)
				op.ClientId = id
				if err != nil {
					if !in.write {
						continue // a failed read observed nothing
					}
					// ErrUnknownOutcome: it may have been applied. Any other
					// error (refused, or the context ended between retries)
					// should mean it was not, but count it as unknown too:
					// a write that may take effect at any point after its
					// call is never wrongly accused.
					op.Output, op.Return = regOutput{unknown: true}, math.MaxInt64
					if !errors.Is(err, client.ErrUnknownOutcome) {
						t.Logf("client %d: SET %s failed: %v", id, in.key, err)
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
			case !op.Input.(regInput).write:
				reads++
			case op.Output.(regOutput).unknown:
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
	result, info := porcupine.CheckOperationsVerbose(registerModel, history, 30*time.Second)
	t.Logf("%d operations in %v (%d reads, %d acknowledged writes, %d writes of unknown outcome) from %d clients on %d keys; nemesis seed %d: %s; check took %v: %v",
		len(history), runFor, reads, writes, unknown, clients, keys, seed, strings.Join(faults, ", "), time.Since(checkStart).Round(time.Millisecond), result)
	switch result {
	case porcupine.Illegal:
		info.AddAnnotations(notes)
		path := filepath.Join(t.ArtifactDir(), "linearizability.html")
		if err := porcupine.VisualizePath(registerModel, info, path); err != nil {
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
func registerOp(cl *client.Client, in regInput, now func() int64) (porcupine.Operation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	args := []any{"GET", in.key}
	if in.write {
		args = []any{"SET", in.key, in.value, "GET"}
	}
	call := now()
	v, err := cl.Do(ctx, args...)
	ret := now()
	return porcupine.Operation{Input: in, Call: call, Output: regOutput{value: v.Text()}, Return: ret}, err
}
