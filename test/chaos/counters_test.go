package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/kvorum/kvorum/client"
)

// counterRecord is what the counter workload saw of one counter.
type counterRecord struct {
	Acked   int     `json:"acked"`   // INCRs answered
	Unknown int     `json:"unknown"` // INCRs with an unknown outcome
	Replies []int64 `json:"-"`       // the answered INCRs' replies
	Final   int64   `json:"final"`   // its value at the end
}

// checkCounter reports a violation, or "" if the counter's final value
// lies within [acknowledged, acknowledged+unknown] (so equals the
// acknowledged INCRs when none is unknown) and the answered replies are
// distinct and within [1, final].
func checkCounter(key string, r counterRecord) string {
	if r.Unknown == 0 && r.Final != int64(r.Acked) {
		return fmt.Sprintf("%s = %d, want exactly %d: every INCR was answered (%d acknowledged, none unknown)",
			key, r.Final, r.Acked, r.Acked)
	}
	if r.Final < int64(r.Acked) || r.Final > int64(r.Acked+r.Unknown) {
		return fmt.Sprintf("%s = %d, want %d..%d (%d acknowledged, %d unknown INCRs)",
			key, r.Final, r.Acked, r.Acked+r.Unknown, r.Acked, r.Unknown)
	}
	seen := make(map[int64]bool, len(r.Replies))
	for _, n := range r.Replies {
		if seen[n] {
			return fmt.Sprintf("%s: two answered INCRs both returned %d", key, n)
		}
		if n < 1 || n > r.Final {
			return fmt.Sprintf("%s: an INCR returned %d, outside 1..%d (the final value)", key, n, r.Final)
		}
		seen[n] = true
	}
	return ""
}

// counters is a counter workload's shared record: the plain one's
// (prefix "ctr") or the smart client's ("sctr").
type counters struct {
	prefix string
	keys   int
	began  time.Time
	mu     sync.Mutex
	rec    map[string]*counterRecord
	counts opCounts
	errs   []string // the smart client's first errors, with seconds since began
}

func newCounters(prefix string, keys int) *counters {
	c := &counters{prefix: prefix, keys: keys, began: time.Now(), rec: map[string]*counterRecord{}}
	for k := range keys {
		c.rec[c.key(k)] = &counterRecord{}
	}
	return c
}

func (c *counters) key(k int) string { return fmt.Sprintf("%s:%d", c.prefix, k) }

// record adds one INCR's outcome and, if answered, its reply.
func (c *counters) record(key string, o outcome, reply int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.add(o)
	r := c.rec[key]
	switch o {
	case ok:
		r.Acked++
		r.Replies = append(r.Replies, reply)
	case unknown:
		r.Unknown++
	}
}

// worker sends INCRs until ctx ends; it never resends one whose outcome
// is unknown (that is what would make a plain client's count drift).
func (c *counters) worker(ctx context.Context, seeds []string, id int, seed uint64) {
	cl := newPlain(seeds, seed+300+uint64(id))
	defer cl.Close()
	rng := rand.New(rand.NewPCG(seed, 300+uint64(id)))
	for ctx.Err() == nil {
		key := c.key(rng.IntN(c.keys))
		opCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
		v, o := cl.do(opCtx, 3*time.Second, "INCR", key)
		cancel()
		if v.IsError() && o == ok {
			o = failed
		}
		c.record(key, o, v.Int())
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond) // pacing
	}
}

// smartWorker sends INCRs through cl (sessions on) until ctx ends, in
// pipelines of 1 to 4 (a pipeline's writes go as one KVORUM.SEQS frame),
// each with 10 s of its own, so the run's end stops it between calls and
// never cuts one off. It resends nothing itself: the client resends a
// cut-off INCR under its session, which applies it once, so only an INCR
// that ends with client.ErrUnknownOutcome leaves the count uncertain, and
// with none checkCounter's bounds meet: the final value must equal the
// acknowledged INCRs. Any other error (a *client.RetryError) means not
// applied.
func (c *counters) smartWorker(ctx context.Context, cl *client.Client, id int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 400+uint64(id)))
	for ctx.Err() == nil {
		keys := make([]string, 1+rng.IntN(4))
		p := cl.Pipeline()
		for i := range keys {
			keys[i] = c.key(rng.IntN(c.keys))
			p.Do("INCR", keys[i])
		}
		opCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // not cut off by the run's end
		vals, err := p.Exec(opCtx)
		cancel()
		var pe *client.PipelineError
		errors.As(err, &pe)
		for i, key := range keys {
			ierr := err // the whole call's error, or this INCR's in the pipeline's
			if pe != nil {
				ierr = pe.Errs[i]
			}
			if ierr != nil {
				c.mu.Lock()
				if len(c.errs) < 10 {
					c.errs = append(c.errs, fmt.Sprintf("%.3fs INCR %s: %v", time.Since(c.began).Seconds(), key, ierr))
				}
				c.mu.Unlock()
			}
			c.record(key, smartOutcome(ierr), vals[i].Int())
		}
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond) // pacing
	}
}

// check reads the final values, checks every counter, adds any
// violation to r's problems and returns the verdict: "ok (exact)" when no
// INCR had an unknown outcome (the final value had to equal the
// acknowledged INCRs), "ok (bounds, N unknown)" otherwise, or "VIOLATION".
func (c *counters) check(ctx context.Context, seeds []string, r *report) string {
	probs, err := c.readFinal(ctx, seeds)
	if err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		r.Verdicts.Problems = append(r.Verdicts.Problems, probs...)
		return "VIOLATION"
	}
	if c.counts.Unknown == 0 {
		return "ok (exact)"
	}
	return fmt.Sprintf("ok (bounds, %d unknown)", c.counts.Unknown)
}

// readFinal reads every counter through the leader and checks it.
func (c *counters) readFinal(ctx context.Context, seeds []string) (problems []string, err error) {
	cl := newPlain(seeds, 998)
	defer cl.Close()
	for k := range c.keys {
		key := c.key(k)
		v, o := cl.do(ctx, 3*time.Second, "GET", key)
		if o != ok || v.IsError() {
			return nil, fmt.Errorf("GET %s: %v %v", key, o, v)
		}
		r := c.rec[key]
		if !v.IsNull() {
			if r.Final, err = strconv.ParseInt(v.Text(), 10, 64); err != nil {
				return nil, fmt.Errorf("GET %s = %q: %w", key, v.Text(), err)
			}
		}
		if p := checkCounter(key, *r); p != "" {
			problems = append(problems, p)
		}
	}
	return problems, nil
}
