package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// counterRecord is what the counter workload saw of one counter.
type counterRecord struct {
	Acked   int     `json:"acked"`   // INCRs answered
	Unknown int     `json:"unknown"` // INCRs with an unknown outcome
	Replies []int64 `json:"-"`       // the answered INCRs' replies
	Final   int64   `json:"final"`   // its value at the end
}

// checkCounter reports a violation, or "" if the counter's final value
// lies within [acknowledged, acknowledged+unknown] and the answered
// replies are distinct and within [1, final].
func checkCounter(key string, r counterRecord) string {
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

// counters is the counter workload's shared record.
type counters struct {
	keys   int
	mu     sync.Mutex
	rec    map[string]*counterRecord
	counts opCounts
}

func newCounters(keys int) *counters {
	c := &counters{keys: keys, rec: map[string]*counterRecord{}}
	for k := range keys {
		c.rec[fmt.Sprintf("ctr:%d", k)] = &counterRecord{}
	}
	return c
}

// worker sends INCRs until ctx ends; it never resends one whose outcome
// is unknown (that is what would make a plain client's count drift).
func (c *counters) worker(ctx context.Context, seeds []string, id int, seed uint64) {
	cl := newPlain(seeds, seed+300+uint64(id))
	defer cl.Close()
	rng := rand.New(rand.NewPCG(seed, 300+uint64(id)))
	for ctx.Err() == nil {
		key := fmt.Sprintf("ctr:%d", rng.IntN(c.keys))
		opCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
		v, o := cl.do(opCtx, 3*time.Second, "INCR", key)
		cancel()
		if v.IsError() && o == ok {
			o = failed
		}
		c.mu.Lock()
		c.counts.add(o)
		r := c.rec[key]
		switch o {
		case ok:
			r.Acked++
			r.Replies = append(r.Replies, v.Int())
		case unknown:
			r.Unknown++
		}
		c.mu.Unlock()
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond) // pacing
	}
}

// readFinal reads every counter through the leader and checks it.
func (c *counters) readFinal(ctx context.Context, seeds []string) (problems []string, err error) {
	cl := newPlain(seeds, 998)
	defer cl.Close()
	for k := range c.keys {
		key := fmt.Sprintf("ctr:%d", k)
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
