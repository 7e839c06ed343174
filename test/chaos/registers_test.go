package chaos

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/kvorum/kvorum/internal/regmodel"
)

// registers is the register workload's shared record.
type registers struct {
	clock  *clock
	keys   int           // registers live at once
	rotate time.Duration // a new set of keys every rotate, so each key's history stays short

	mu      sync.Mutex
	history []porcupine.Operation
	counts  opCounts
	nkeys   int // distinct keys in history, set by check
}

// worker runs GETs and SETs through its own plain connection until ctx ends.
func (r *registers) worker(ctx context.Context, seeds []string, id int, seed uint64) {
	cl := newPlain(seeds, seed+uint64(id))
	defer cl.Close()
	rng := rand.New(rand.NewPCG(seed, uint64(id)))
	for n := 0; ctx.Err() == nil; n++ {
		epoch := r.clock.since() / r.rotate
		in := regmodel.Input{Key: fmt.Sprintf("reg:%d:%d", epoch, rng.IntN(r.keys)), Write: rng.IntN(2) == 0}
		args := []string{"GET", in.Key}
		if in.Write {
			in.Value = fmt.Sprintf("w%d-%d", id, n)
			args = []string{"SET", in.Key, in.Value, "GET"}
		}
		opCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
		call := r.clock.now()
		v, o := cl.do(opCtx, 3*time.Second, args...)
		ret := r.clock.now()
		cancel()
		op := porcupine.Operation{ClientId: id, Input: in, Call: call, Output: regmodel.Output{Value: v.Text()}, Return: ret}
		if v.IsError() && o == ok {
			o = failed // refused: applied nothing, observed nothing
		}
		r.mu.Lock()
		r.counts.add(o)
		switch {
		case o == ok:
			r.history = append(r.history, op)
		case o == unknown && in.Write:
			// It may take effect at any time after its call.
			op.Output, op.Return = regmodel.Output{Unknown: true}, math.MaxInt64
			r.history = append(r.history, op)
		}
		r.mu.Unlock()
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond) // pacing
	}
}

// check runs porcupine over the history within timeout. On an illegal
// history it writes the visualization, with the nemesis's faults as
// annotations, to a file in dir and returns its path.
func (r *registers) check(timeout time.Duration, notes []porcupine.Annotation, dir string) (verdict, vis string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := map[string]bool{}
	for _, op := range r.history {
		keys[op.Input.(regmodel.Input).Key] = true
	}
	r.nkeys = len(keys)
	began := time.Now()
	model := regmodel.Model()
	res, info := porcupine.CheckOperationsVerbose(model, r.history, timeout)
	took = time.Since(began)
	switch res {
	case porcupine.Ok:
		return "linearizable", "", took
	case porcupine.Unknown:
		return "unknown (check timed out)", "", took
	}
	info.AddAnnotations(notes)
	f, err := os.CreateTemp(dir, "linearizability-*.html")
	if err == nil {
		f.Close()
		vis = f.Name()
		err = porcupine.VisualizePath(model, info, vis)
	}
	if err != nil {
		vis = filepath.Join(dir, "visualization failed: "+err.Error())
	}
	return "ILLEGAL", vis, took
}

// clock is the one monotonic clock every recorded time comes from.
type clock struct{ start time.Time }

func (c *clock) now() int64             { return time.Since(c.start).Nanoseconds() }
func (c *clock) since() time.Duration   { return time.Since(c.start) }
func (c *clock) at(t time.Time) float64 { return t.Sub(c.start).Seconds() }

// opCounts is a workload's operations by outcome.
type opCounts struct {
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`
}

func (c *opCounts) add(o outcome) {
	switch o {
	case ok:
		c.OK++
	case failed:
		c.Failed++
	case unknown:
		c.Unknown++
	}
}
