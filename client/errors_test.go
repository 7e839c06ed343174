package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/resp"
)

// namedErrors is a fake leader whose key "q" holds a list: GET q answers
// WRONGTYPE. INCR always answers TRYAGAIN and DECR UNCERTAIN; every other
// command goes to a clienttest.Store.
func namedErrors() resp.Handler {
	store := clienttest.NewStore()
	return resp.HandlerFunc(func(c *resp.Conn, args []resp.Value) resp.Reply {
		switch inner := unwrap(args); strings.ToUpper(inner[0].Text()) {
		case "GET":
			if len(inner) == 2 && inner[1].Text() == "q" {
				return resp.Now(resp.ErrWrongType.Value())
			}
		case "INCR":
			return resp.Now(resp.TryAgain("leader is catching up").Value())
		case "DECR":
			return resp.Now(resp.Uncertain("leadership changed").Value())
		}
		return store.Serve(c, args)
	})
}

// TestClient_ErrorIsNamed: the error of an error reply matches resp's
// named error of its code with errors.Is, through the client's own error
// types too.
func TestClient_ErrorIsNamed(t *testing.T) {
	c := newClient(t, client.Options{MaxRetries: 2}, startNode(t, namedErrors()).Addr)
	ctx := testCtx(t)

	v, err := c.Do(ctx, "GET", "q")
	if !errors.Is(err, resp.ErrWrongType) || errors.Is(err, resp.ErrTryAgain) {
		t.Fatalf("GET q error = %#v; want one matching only resp.ErrWrongType", err)
	}
	if !v.IsError() || v.Code() != resp.ErrWrongType.Code {
		t.Fatalf("GET q value = %v; want the WRONGTYPE reply", v)
	}

	p := c.Pipeline()
	p.Do("SET", "a", "1")
	p.Do("GET", "q")
	_, err = p.Exec(ctx)
	var pe *client.PipelineError
	if !errors.As(err, &pe) || pe.Errs[0] != nil || !errors.Is(pe.Errs[1], resp.ErrWrongType) || !errors.Is(err, resp.ErrWrongType) {
		t.Fatalf("pipeline error = %v; want GET q's to match resp.ErrWrongType", err)
	}

	// TRYAGAIN until MaxRetries runs out: a *RetryError that still
	// matches the last reply's code.
	_, err = c.Do(ctx, "INCR", "n")
	var rerr *client.RetryError
	if !errors.As(err, &rerr) || !errors.Is(err, resp.ErrTryAgain) || errors.Is(err, resp.ErrUncertain) {
		t.Fatalf("INCR error = %v; want a *client.RetryError matching resp.ErrTryAgain", err)
	}

	// UNCERTAIN every time for a session write: resent under its session
	// until MaxRetries runs out, then an unknown outcome that unwraps to
	// the reply.
	_, err = c.Do(ctx, "DECR", "n")
	if !errors.Is(err, client.ErrUnknownOutcome) || !errors.Is(err, resp.ErrUncertain) {
		t.Fatalf("DECR error = %v; want one matching client.ErrUnknownOutcome and resp.ErrUncertain", err)
	}
}
