package client

import (
	"context"
	"fmt"
	"slices"

	"github.com/kvorum/kvorum/resp"
)

// The tutorial's six commands, with Go values in and out. Values are
// converted by ToValue on the way in and ToGo on the way out: a string (or
// []byte), an int64, nil, []any or map[string]any, nested. Errors are
// those of Do.

// Get returns the value at key, or nil if there is none.
func (c *Client) Get(ctx context.Context, key string) (any, error) {
	v, err := c.Do(ctx, "GET", key)
	if err != nil {
		return nil, err
	}
	return ToGo(v), nil
}

// Set stores value at key. It is safe to retry (see the package
// documentation), so it never fails with ErrUnknownOutcome.
func (c *Client) Set(ctx context.Context, key string, value any) error {
	_, err := c.Do(ctx, "SET", key, value)
	return err
}

// Delete removes key (the tutorial's DELETE) and reports whether it
// existed. With sessions, a connection cut after sending is resent under
// the session and answers the first application's reply. Without them it
// gives ErrUnknownOutcome: a plain resend could not tell "deleted now"
// from "deleted before".
func (c *Client) Delete(ctx context.Context, key string) (bool, error) {
	v, err := c.Do(ctx, "DELETE", key)
	if err != nil {
		return false, err
	}
	return v.Int() != 0, nil
}

// Flush removes every key (the tutorial's FLUSH) and returns how many
// there were.
func (c *Client) Flush(ctx context.Context) (int64, error) {
	v, err := c.Do(ctx, "FLUSH")
	if err != nil {
		return 0, err
	}
	if v.Kind() != resp.KindInt {
		return 0, fmt.Errorf("client: FLUSH: unexpected reply %v", v)
	}
	return v.Int(), nil
}

// MGet returns the values at keys, in order, nil for a missing key.
func (c *Client) MGet(ctx context.Context, keys ...string) ([]any, error) {
	args := make([]any, 0, 1+len(keys))
	args = append(args, "MGET")
	for _, k := range keys {
		args = append(args, k)
	}
	v, err := c.Do(ctx, args...)
	if err != nil {
		return nil, err
	}
	out, ok := ToGo(v).([]any)
	if !ok {
		return nil, fmt.Errorf("client: MGET: unexpected reply %v", v)
	}
	return out, nil
}

// MSet stores every key/value pair of pairs in one command (keys sent in
// sorted order). Like Set, it is safe to retry.
func (c *Client) MSet(ctx context.Context, pairs map[string]any) error {
	if len(pairs) == 0 {
		return nil
	}
	keys := make([]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	args := make([]any, 0, 1+2*len(pairs))
	args = append(args, "MSET")
	for _, k := range keys {
		args = append(args, k, pairs[k])
	}
	_, err := c.Do(ctx, args...)
	return err
}
