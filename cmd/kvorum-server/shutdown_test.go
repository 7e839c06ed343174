package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// A stop that hangs is abandoned at the deadline, with every goroutine's
// stack written for the operator; one that finishes returns its error.
func TestShutdown_Deadline(t *testing.T) {
	var out bytes.Buffer
	hang := make(chan struct{})
	defer close(hang)
	err := shutdown(func() error { <-hang; return nil }, 50*time.Millisecond, &out)
	if err == nil || !strings.Contains(err.Error(), "did not finish in 50ms") {
		t.Fatalf("a hanging stop: err = %v, want the deadline's error", err)
	}
	if !strings.Contains(out.String(), "goroutine ") || !strings.Contains(out.String(), "TestShutdown_Deadline") {
		t.Fatalf("no goroutine stacks written at the deadline:\n%s", out.String())
	}
	closed := errors.New("closed with an error")
	out.Reset()
	if err := shutdown(func() error { return closed }, time.Minute, &out); err != closed || out.Len() != 0 {
		t.Fatalf("a stop that finishes: err = %v, output %q; want its own error and nothing written", err, out.String())
	}
	if err := shutdown(func() error { return nil }, 0, &out); err != nil {
		t.Fatalf("no limit: err = %v", err)
	}
}
