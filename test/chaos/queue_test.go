package chaos

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// queueRecord is what the queue workload saw, for checkQueue.
type queueRecord struct {
	Pushes        map[string]*pushRec // item -> its push attempts
	Delivered     map[string]int      // item -> times a BLMOVE answered it
	AckUnknown    map[string]bool     // an LREM of the item had an unknown outcome
	AckUnresolved map[string]bool     // delivered, but no LREM of it was ever answered
	AckMissing    []string            // an LREM answered 0: the delivered item was gone from processing
	Pending       []string            // left in the lists at the end
	Processing    []string
}

// pushRec is one item's RPUSH attempts: one answered (Acked), and how
// many had an unknown outcome before that (each may have been applied).
type pushRec struct {
	Acked   bool
	Unknown int
}

// queueVerdict is checkQueue's finding. Lost, Duplicated, Unexpected and
// AckMissing are violations; DupUnknown are duplicates an unknown push
// outcome explains.
type queueVerdict struct {
	Lost       []string `json:"lost"`
	Duplicated []string `json:"duplicated"`
	Unexpected []string `json:"unexpected"`
	AckMissing []string `json:"ack_missing"`
	DupUnknown []string `json:"dup_unknown,omitempty"`
	Delivered  int      `json:"delivered"`
	Left       int      `json:"left_in_lists"`
}

// ok reports whether the verdict has no violation.
func (v queueVerdict) ok() bool {
	return len(v.Lost)+len(v.Duplicated)+len(v.Unexpected)+len(v.AckMissing) == 0
}

func (v queueVerdict) String() string {
	if v.ok() {
		return fmt.Sprintf("ok (%d delivered, %d left, %d duplicates explained by unknown pushes)", v.Delivered, v.Left, len(v.DupUnknown))
	}
	return fmt.Sprintf("VIOLATION: lost %v, duplicated %v, unexpected %v, ack missing %v",
		head(v.Lost), head(v.Duplicated), head(v.Unexpected), head(v.AckMissing))
}

// checkQueue accounts for every item: copies = times delivered + times in
// a list at the end. An acknowledged push needs at least one copy; an item
// has at most as many copies as pushes of it that may have been applied
// (the acknowledged one and the unknown ones), plus one if its LREM was
// never answered (it may be both delivered and still in processing).
func checkQueue(rec *queueRecord) queueVerdict {
	copies := map[string]int{}
	for it, n := range rec.Delivered {
		copies[it] += n
	}
	for _, it := range rec.Pending {
		copies[it]++
	}
	for _, it := range rec.Processing {
		copies[it]++
	}
	var v queueVerdict
	for _, n := range rec.Delivered {
		v.Delivered += n
	}
	v.Left = len(rec.Pending) + len(rec.Processing)
	for it, n := range copies {
		p := rec.Pushes[it]
		if p == nil || (!p.Acked && p.Unknown == 0) {
			v.Unexpected = append(v.Unexpected, it)
			continue
		}
		hi := p.Unknown
		if p.Acked {
			hi++
		}
		if rec.AckUnresolved[it] {
			hi++
		}
		switch {
		case n > hi:
			v.Duplicated = append(v.Duplicated, it)
		case n > 1 && (p.Unknown > 0 || rec.AckUnresolved[it]):
			v.DupUnknown = append(v.DupUnknown, it)
		}
	}
	for it, p := range rec.Pushes {
		if p.Acked && copies[it] == 0 {
			v.Lost = append(v.Lost, it)
		}
	}
	for _, it := range rec.AckMissing {
		if !rec.AckUnknown[it] && (rec.Pushes[it] == nil || rec.Pushes[it].Unknown == 0) {
			v.AckMissing = append(v.AckMissing, it)
		}
	}
	for _, s := range [][]string{v.Lost, v.Duplicated, v.Unexpected, v.AckMissing, v.DupUnknown} {
		slices.Sort(s)
	}
	return v
}

func head(s []string) []string { return s[:min(len(s), 10)] }

// queue is the queue workload's shared record; its lists are
// name+":pending" and name+":processing".
type queue struct {
	pending, processing string
	mu                  sync.Mutex
	rec                 queueRecord
	counts              opCounts
	errs                []string  // the smart client's first errors, with seconds since began
	began               time.Time // when the queue was made
}

func newQueue(name string) *queue {
	return &queue{began: time.Now(), pending: name + ":pending", processing: name + ":processing", rec: queueRecord{Pushes: map[string]*pushRec{}, Delivered: map[string]int{},
		AckUnknown: map[string]bool{}, AckUnresolved: map[string]bool{}}}
}

// producer pushes unique items until ctx ends, resending an item until a
// push of it is answered, as an at-least-once producer does.
func (q *queue) producer(ctx context.Context, seeds []string, id int, seed uint64) {
	cl := newPlain(seeds, seed+100+uint64(id))
	defer cl.Close()
	for n := 0; ctx.Err() == nil; n++ {
		item := fmt.Sprintf("item:%d:%d", id, n)
		q.mu.Lock()
		rec := &pushRec{}
		q.rec.Pushes[item] = rec
		q.mu.Unlock()
		for !rec.Acked && ctx.Err() == nil {
			opCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
			v, o := cl.do(opCtx, 3*time.Second, "RPUSH", q.pending, item)
			cancel()
			if v.IsError() && o == ok {
				o = failed
			}
			q.mu.Lock()
			q.counts.add(o)
			rec.Acked = rec.Acked || o == ok
			if o == unknown {
				rec.Unknown++
			}
			q.mu.Unlock()
		}
		time.Sleep(4 * time.Millisecond) // pacing: a little slower than the consumers
	}
}

// consumer moves items to processing (BLMOVE) and removes them (LREM)
// until ctx ends, or until a BLMOVE begun after produced was closed finds
// nothing. drain bounds the LREMs still owed.
func (q *queue) consumer(ctx context.Context, seeds []string, id int, seed uint64, produced <-chan struct{}) {
	cl := newPlain(seeds, seed+200+uint64(id))
	defer cl.Close()
	for ctx.Err() == nil {
		last := closed(produced)
		opCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
		v, o := cl.do(opCtx, 3*time.Second, "BLMOVE", q.pending, q.processing, "LEFT", "RIGHT", "0.5")
		cancel()
		if v.IsError() && o == ok {
			o = failed
		}
		q.mu.Lock()
		q.counts.add(o)
		q.mu.Unlock()
		if o != ok {
			continue
		}
		if v.IsNull() {
			if last {
				return
			}
			continue
		}
		item := v.Text()
		q.mu.Lock()
		q.rec.Delivered[item]++
		q.mu.Unlock()
		q.ack(ctx, cl, item)
	}
}

// ack removes item from processing, resending until an LREM is answered.
func (q *queue) ack(ctx context.Context, cl *plain, item string) {
	for ctx.Err() == nil {
		opCtx, cancel := context.WithTimeout(ctx, 4*time.Second)
		v, o := cl.do(opCtx, 3*time.Second, "LREM", q.processing, "1", item)
		cancel()
		if v.IsError() && o == ok {
			o = failed
		}
		q.mu.Lock()
		q.counts.add(o)
		if o == unknown {
			q.rec.AckUnknown[item] = true
		}
		if o == ok && v.Int() == 0 {
			q.rec.AckMissing = append(q.rec.AckMissing, item)
		}
		q.mu.Unlock()
		if o == ok {
			return
		}
	}
	q.mu.Lock()
	q.rec.AckUnresolved[item] = true
	q.mu.Unlock()
}

// readLeft reads both lists through the leader into the record.
func (q *queue) readLeft(ctx context.Context, seeds []string) error {
	cl := newPlain(seeds, 999)
	defer cl.Close()
	for _, l := range []struct {
		key string
		out *[]string
	}{{q.pending, &q.rec.Pending}, {q.processing, &q.rec.Processing}} {
		v, o := lrange(ctx, cl, l.key)
		if o != ok {
			return fmt.Errorf("LRANGE %s: %v %v", l.key, o, v)
		}
		for _, e := range v.Elems() {
			*l.out = append(*l.out, e.Text())
		}
	}
	return nil
}

// lrange reads a whole list, resending until it is answered or ctx ends.
func lrange(ctx context.Context, cl *plain, key string) (resp.Value, outcome) {
	for {
		v, o := cl.do(ctx, 3*time.Second, "LRANGE", key, "0", "-1")
		if (o == ok && !v.IsError()) || ctx.Err() != nil {
			return v, o
		}
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
