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
	"github.com/kvorum/kvorum/resp"
)

// registers is the register workload's shared record.
type registers struct {
	clock  *clock
	keys   int           // registers live at once
	rotate time.Duration // a new set of keys every rotate, so each key's history stays short
	label  string        // names the visualization's file: linearizability-<label>*.html

	mu      sync.Mutex
	history []porcupine.Operation
	counts  opCounts
	cas     casCounts
	nkeys   int // distinct keys in history, set by check
	maxOps  int // the most operations on one key, set by check
}

// casCounts are the compare-and-sets by how they ended.
type casCounts struct {
	Swapped  int `json:"swapped"`  // EXEC ran the SET
	Differed int `json:"differed"` // GET read another value than expected: no EXEC
	Changed  int `json:"changed"`  // EXEC answered nil: the key changed after WATCH
	Failed   int `json:"failed"`   // refused or cut off before EXEC was sent: nothing applied
	Unknown  int `json:"unknown"`  // cut off after EXEC was sent
}

// casEnd is how one compare-and-set ended.
type casEnd int

const (
	notCAS casEnd = iota
	casSwapped
	casDiffered
	casChanged
	casFailed
	casUnknown
)

func (c *casCounts) add(e casEnd) {
	switch e {
	case casSwapped:
		c.Swapped++
	case casDiffered:
		c.Differed++
	case casChanged:
		c.Changed++
	case casFailed:
		c.Failed++
	case casUnknown:
		c.Unknown++
	}
}

// worker runs GETs, SET ... GETs and compare-and-sets, a third each,
// through its own plain connection until ctx ends. A CAS expects the last
// value the worker saw in the key.
func (r *registers) worker(ctx context.Context, seeds []string, id int, seed uint64) {
	cl := newPlain(seeds, seed+uint64(id))
	defer cl.Close()
	rng := rand.New(rand.NewPCG(seed, uint64(id)))
	seen := map[string]string{} // key -> the last value this worker saw in it
	for n, epoch := 0, time.Duration(-1); ctx.Err() == nil; n++ {
		if e := r.clock.since() / r.rotate; e != epoch {
			epoch = e
			clear(seen) // the old keys are never used again
		}
		key, val := fmt.Sprintf("reg:%d:%d", epoch, rng.IntN(r.keys)), fmt.Sprintf("w%d-%d", id, n)
		opCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
		var op porcupine.Operation
		var o outcome
		end := notCAS
		switch rng.IntN(3) {
		case 0:
			op, o = r.request(opCtx, cl, regmodel.Input{Key: key})
		case 1:
			op, o = r.request(opCtx, cl, regmodel.Input{Key: key, Write: true, Value: val})
		default:
			op, o, end = r.compareAndSet(opCtx, cl, key, seen[key], val)
		}
		cancel()
		op.ClientId = id
		in, out := op.Input.(regmodel.Input), op.Output.(regmodel.Output)
		r.mu.Lock()
		r.counts.add(o)
		r.cas.add(end)
		switch {
		case o == ok:
			r.history = append(r.history, op)
		case o == unknown && (in.Write || in.CAS):
			// It may take effect at any time after its call.
			op.Output, op.Return = regmodel.Output{Value: out.Value, Unknown: true}, math.MaxInt64
			r.history = append(r.history, op)
		}
		r.mu.Unlock()
		switch {
		case o != ok:
		case in.Write || out.Swapped:
			seen[key] = in.Value
		case !in.CAS || out.Value != in.Expect: // a read, or a CAS's GET
			seen[key] = out.Value
		}
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond) // pacing
	}
}

// request runs a GET or a SET ... GET.
func (r *registers) request(ctx context.Context, cl *plain, in regmodel.Input) (porcupine.Operation, outcome) {
	args := []string{"GET", in.Key}
	if in.Write {
		args = []string{"SET", in.Key, in.Value, "GET"}
	}
	call := r.clock.now()
	v, o := cl.do(ctx, 3*time.Second, args...)
	ret := r.clock.now()
	if v.IsError() && o == ok {
		o = failed // refused: applied nothing, observed nothing
	}
	return porcupine.Operation{Input: in, Call: call, Output: regmodel.Output{Value: v.Text()}, Return: ret}, o
}

// compareAndSet sets key from expect to val: WATCH key (following
// redirects, as any request), then, on the connection that answered it,
// GET key, and MULTI, SET key val, EXEC pipelined if the GET read
// expect, else UNWATCH. The operation's interval is the GET's if it read
// another value, else MULTI's send to EXEC's reply: the reads and writes
// the model judges happened within them.
//
// It ends failed (nothing applied, nothing observed) if the WATCH or the
// GET did not succeed, or EXEC was refused as not applied (a redirect,
// TRYAGAIN, EXECABORT), or nothing of MULTI ... EXEC was sent; unknown if
// the connection broke after EXEC was sent or EXEC answered UNCERTAIN or
// another error.
func (r *registers) compareAndSet(ctx context.Context, cl *plain, key, expect, val string) (porcupine.Operation, outcome, casEnd) {
	in := regmodel.Input{Key: key, CAS: true, Expect: expect, Value: val}
	if v, o := cl.do(ctx, 3*time.Second, "WATCH", key); o != ok || v.IsError() {
		return porcupine.Operation{Input: in, Output: regmodel.Output{}}, failed, casFailed // WATCH applies nothing
	}
	call := r.clock.now()
	vs, _, err := cl.pipeline(3*time.Second, []string{"GET", key})
	ret := r.clock.now()
	op := func(out regmodel.Output) porcupine.Operation {
		return porcupine.Operation{Input: in, Call: call, Output: out, Return: ret}
	}
	if err != nil || vs[0].IsError() { // a new leader, or cut off: the WATCH is lost with the connection
		cl.drop()
		return op(regmodel.Output{}), failed, casFailed
	}
	if got := vs[0].Text(); got != expect {
		if _, _, err := cl.pipeline(3*time.Second, []string{"UNWATCH"}); err != nil {
			cl.drop()
		}
		return op(regmodel.Output{Value: got}), ok, casDiffered
	}
	call = r.clock.now()
	vs, sent, err := cl.pipeline(3*time.Second, []string{"MULTI"}, []string{"SET", key, val}, []string{"EXEC"})
	ret = r.clock.now()
	read := regmodel.Output{Value: expect}
	switch {
	case err != nil && !sent:
		return op(read), failed, casFailed
	case err != nil:
		return op(read), unknown, casUnknown
	}
	switch exec := vs[2]; {
	case exec.IsError() && notApplied(exec):
		cl.drop() // the leader moved: the next request starts afresh
		return op(read), failed, casFailed
	case exec.Kind() == resp.KindArray && exec.IsNull():
		return op(read), ok, casChanged
	case exec.Kind() == resp.KindArray && exec.Len() == 1 && exec.Elems()[0].Text() == "OK":
		return op(regmodel.Output{Value: expect, Swapped: true}), ok, casSwapped
	}
	cl.drop()
	return op(read), unknown, casUnknown // UNCERTAIN, or a reply that says nothing
}

// check runs porcupine over the history within timeout. On an illegal
// history it writes the visualization, with the nemesis's faults as
// annotations, to a file in dir and returns its path.
func (r *registers) check(timeout time.Duration, notes []porcupine.Annotation, dir string) (verdict, vis string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := map[string]int{}
	for _, op := range r.history {
		keys[op.Input.(regmodel.Input).Key]++
	}
	r.nkeys = len(keys)
	r.maxOps = 0
	for _, n := range keys {
		r.maxOps = max(r.maxOps, n)
	}
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
	f, err := os.CreateTemp(dir, "linearizability-"+r.label+"*.html")
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
