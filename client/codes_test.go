package client_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/resp"
)

// A node that answers TRYAGAIN a few times (not applied) is retried for any
// command; UNCERTAIN (cut off by a leadership change) is retried only for a
// command that is safe to repeat and is an unknown outcome otherwise. The
// node refuses KVORUM.SESSION (ERR unknown), so the client falls back to
// plain writes.
func TestClient_TryAgainAndUncertain(t *testing.T) {
	var tries atomic.Int32
	node, err := clienttest.Start(resp.HandlerFunc(func(c *resp.Conn, args []resp.Value) resp.Reply {
		switch args[0].Text() {
		case "INCR":
			if tries.Add(1) <= 2 {
				return resp.Now(resp.Err(resp.CodeTryAgain + " not yet"))
			}
			return resp.Now(resp.Int(1))
		case "DECR":
			return resp.Now(resp.Err(resp.CodeUncertain + " leadership changed"))
		case "GET":
			if tries.Add(1) <= 4 {
				return resp.Now(resp.Err(resp.CodeUncertain + " leadership changed"))
			}
			return resp.Now(resp.BulkString("v"))
		}
		return resp.Now(resp.Err("ERR unknown"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	c, err := client.New(client.Options{Addrs: []string{node.Addr}, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 1 {
		t.Fatalf("INCR after TRYAGAIN = %v, %v", v, err)
	}
	if _, err := c.Do(ctx, "DECR", "n"); !errors.Is(err, client.ErrUnknownOutcome) {
		t.Fatalf("DECR answered UNCERTAIN: err = %v, want ErrUnknownOutcome", err)
	}
	if v, err := c.Do(ctx, "GET", "k"); err != nil || v.Text() != "v" {
		t.Fatalf("GET after UNCERTAIN = %v, %v", v, err)
	}
}
