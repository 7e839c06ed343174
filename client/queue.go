package client

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// Queue helpers: a list used as a work queue, with Redis's reliable-queue
// pattern. Producers Push to the tail of a pending list; a worker Reserves
// the head, which atomically moves it to a processing list, works on it,
// and Acks it (removing it from processing). A job whose worker died stays
// in processing, to be requeued by whoever watches that list: at-least-once
// processing.
//
// Pushes, pops and moves travel in the client's write session, so a
// connection cut while one is in flight is resent under the same seq: a
// pop whose reply was lost gets, on the resend, the item it popped. A
// leadership change while a pop waits is followed as a redirect and the
// wait goes on at the new leader. Without sessions
// (Options.DisableSessions) pops and moves are not safe to resend, and a
// cut-off one fails with ErrUnknownOutcome (the job may be in processing
// already).

// Push appends values to the tail of queue (RPUSH) and returns its length.
func (c *Client) Push(ctx context.Context, queue string, values ...any) (int64, error) {
	args := append([]any{"RPUSH", queue}, values...)
	v, err := c.Do(ctx, args...)
	if err != nil {
		return 0, err
	}
	return v.Int(), nil
}

// Pop removes and returns the value at the head of queue (BLPOP), waiting
// up to timeout for one to be pushed; ok is false if none came in time. A
// timeout of 0 waits until ctx ends.
func (c *Client) Pop(ctx context.Context, queue string, timeout time.Duration) (value any, ok bool, err error) {
	v, err := c.Do(ctx, "BLPOP", queue, blockSeconds(ctx, timeout))
	if err != nil || v.IsNull() {
		return nil, false, err
	}
	if v.Kind() != resp.KindArray || v.Len() != 2 {
		return nil, false, fmt.Errorf("client: BLPOP: unexpected reply %v", v)
	}
	return ToGo(v.Elems()[1]), true, nil
}

// Reserve moves the value at the head of pending to the tail of processing
// and returns it (BLMOVE pending processing LEFT RIGHT), waiting up to
// timeout; ok is false if nothing came in time. Pass the value to Ack when
// the work is done.
func (c *Client) Reserve(ctx context.Context, pending, processing string, timeout time.Duration) (job any, ok bool, err error) {
	v, err := c.Do(ctx, "BLMOVE", pending, processing, "LEFT", "RIGHT", blockSeconds(ctx, timeout))
	if err != nil || v.IsNull() {
		return nil, false, err
	}
	return ToGo(v), true, nil
}

// Ack removes one occurrence of job from processing (LREM processing 1 job)
// and reports whether it was there.
func (c *Client) Ack(ctx context.Context, processing string, job any) (bool, error) {
	v, err := c.Do(ctx, "LREM", processing, 1, job)
	if err != nil {
		return false, err
	}
	return v.Int() == 1, nil
}

// blockSeconds is a blocking command's timeout argument: timeout in
// seconds, or with timeout 0 the time left on ctx (0, forever, if none).
func blockSeconds(ctx context.Context, timeout time.Duration) string {
	if timeout <= 0 {
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(time.Until(dl), time.Millisecond)
		}
	}
	return strconv.FormatFloat(timeout.Seconds(), 'f', 3, 64)
}
