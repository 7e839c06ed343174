package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
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

// registerModel is a map of independent registers, partitioned by key.
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
}

// Clients read and write three keys through the smart client while a
// nemesis kills, restarts and partitions nodes; porcupine checks that the
// history of acknowledged operations is linearizable. Writes use SET ... GET,
// which the client never resends after an unknown outcome, so every write
// is applied at most once and the register model is exact.
func TestLinearizability_UnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault-injection run")
	}
	c := testcluster.Start(t, testcluster.Options{})
	c.Leader(10 * time.Second)
	seeds := c.ClientAddrs()
	const clients = 5
	runFor := 8 * time.Second
	stop := time.Now().Add(runFor)
	start := time.Now()

	var mu sync.Mutex
	var history []porcupine.Operation
	var wg sync.WaitGroup
	for id := 0; id < clients; id++ {
		cl, err := client.New(client.Options{Addrs: seeds, MinRetryBackoff: 5 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		wg.Add(1)
		go func(id int, cl *client.Client) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 7))
			for n := 0; time.Now().Before(stop); n++ {
				in := regInput{key: fmt.Sprint("k", rng.IntN(3)), write: rng.IntN(2) == 0}
				if in.write {
					in.value = fmt.Sprintf("c%d-%d", id, n)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				call := time.Since(start).Nanoseconds()
				var out regOutput
				var err error
				if in.write {
					v, e := cl.Do(ctx, "SET", in.key, in.value, "GET")
					out.value, err = v.Text(), e
				} else {
					v, e := cl.Do(ctx, "GET", in.key)
					out.value, err = v.Text(), e
				}
				ret := time.Since(start).Nanoseconds()
				cancel()
				if err != nil {
					if !in.write {
						continue // a failed read observed nothing
					}
					// A failed write may have been applied (ErrUnknownOutcome)
					// or not (refused, timed out before sending): either way
					// it may take effect at any point after its call.
					out, ret = regOutput{unknown: true}, math.MaxInt64
					if !errors.Is(err, client.ErrUnknownOutcome) {
						t.Logf("client %d: %s failed: %v", id, in.key, err)
					}
				}
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}(id, cl)
	}

	// The nemesis: one fault at a time, healed before the next.
	rng := rand.New(rand.NewPCG(42, 1))
	var faults []string
	for time.Now().Add(2 * time.Second).Before(stop) {
		time.Sleep(300 * time.Millisecond) // pace: let the cluster settle between faults
		leader := c.Leader(10 * time.Second)
		switch rng.IntN(3) {
		case 0:
			c.Kill(leader.Index)
			time.Sleep(700 * time.Millisecond)
			c.StartNode(leader.Index)
			faults = append(faults, "kill leader")
		case 1:
			c.Partition(leader.Index)
			time.Sleep(time.Second)
			c.Heal(leader.Index)
			faults = append(faults, "partition leader")
		case 2:
			f := c.Followers()[0]
			c.Partition(f.Index)
			time.Sleep(time.Second)
			c.Heal(f.Index)
			faults = append(faults, "partition follower")
		}
	}
	wg.Wait()

	result, info := porcupine.CheckOperationsVerbose(registerModel, history, 30*time.Second)
	t.Logf("%d operations, faults %v, result %v", len(history), faults, result)
	switch result {
	case porcupine.Illegal:
		path := filepath.Join(t.TempDir(), "history.html")
		if err := porcupine.VisualizePath(registerModel, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
		t.Fatal("history is not linearizable")
	case porcupine.Unknown:
		t.Skip("linearizability check timed out")
	}
}
