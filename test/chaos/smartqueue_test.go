package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kvorum/kvorum/client"
)

// The smart-client queue: the same queue workload through package client
// (Push, Reserve, Ack) with its write sessions, which resend a cut-off
// write under the session so it applies once. Nothing is resent by the
// workload: a call that fails is recorded (an unknown outcome, or not
// applied) and the worker moves on, so checkQueue allows no duplicate at
// all except after client.ErrUnknownOutcome, which should not occur while
// the calls' contexts last. Each call has 10 s of its own, so the run's
// end stops the workers between calls, never cuts one off.

// smartOutcome classifies a client call's error: none is ok, one matching
// client.ErrUnknownOutcome unknown, any other failed (not applied).
func smartOutcome(err error) outcome {
	switch {
	case err == nil:
		return ok
	case errors.Is(err, client.ErrUnknownOutcome):
		return unknown
	}
	return failed
}

// smartOutcome classifies a client call's error, and keeps the first
// errors' text for the report.
func (q *queue) smartOutcome(call string, err error) outcome {
	if err != nil {
		q.mu.Lock()
		if len(q.errs) < 10 {
			q.errs = append(q.errs, fmt.Sprintf("%.3fs %s: %v", time.Since(q.began).Seconds(), call, err))
		}
		q.mu.Unlock()
	}
	return smartOutcome(err)
}

// smartProducer pushes unique items through cl until ctx ends.
func (q *queue) smartProducer(ctx context.Context, cl *client.Client, id int) {
	for n := 0; ctx.Err() == nil; n++ {
		item := fmt.Sprintf("smart:%d:%d", id, n)
		opCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // not cut off by the run's end
		_, err := cl.Push(opCtx, q.pending, item)
		cancel()
		o := q.smartOutcome("Push "+item, err)
		q.mu.Lock()
		q.counts.add(o)
		q.rec.Pushes[item] = &pushRec{Acked: o == ok, Unknown: btoi(o == unknown)}
		q.mu.Unlock()
		time.Sleep(4 * time.Millisecond) // pacing
	}
}

// smartConsumer reserves and acks items until ctx ends or, once produced
// is closed, a Reserve begun after that finds nothing.
func (q *queue) smartConsumer(ctx context.Context, cl *client.Client, produced <-chan struct{}) {
	for ctx.Err() == nil {
		last := closed(produced)
		opCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // not cut off by the run's end
		job, got, err := cl.Reserve(opCtx, q.pending, q.processing, 500*time.Millisecond)
		cancel()
		o := q.smartOutcome("Reserve", err)
		q.mu.Lock()
		q.counts.add(o)
		q.mu.Unlock()
		if o != ok || !got {
			if o == ok && last {
				return
			}
			continue
		}
		item, _ := job.(string)
		opCtx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		found, err := cl.Ack(opCtx, q.processing, item)
		cancel()
		o = q.smartOutcome("Ack "+item, err)
		q.mu.Lock()
		q.counts.add(o)
		q.rec.Delivered[item]++
		switch {
		case o != ok:
			q.rec.AckUnknown[item] = o == unknown
			q.rec.AckUnresolved[item] = true
		case !found:
			q.rec.AckMissing = append(q.rec.AckMissing, item)
		}
		q.mu.Unlock()
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
