package cluster

import (
	"testing"
	"time"
)

// The linger's decisions, on a clock of its own: after an entry of 3
// writes committed in 4 ms with 1 write queued, the batch waits for the 3
// to return, but not longer than half a commit without an arrival, nor
// than one commit in all.
func TestLinger_WaitsForTheAnsweredWriters(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	var l linger
	l.start(3, 1, 4*time.Millisecond, t0)
	b := &proposal{count: 1}
	if got := l.left(b, t0); got != 2*time.Millisecond {
		t.Errorf("right after the commit: left %v, want the 2ms gap", got)
	}
	l.last, b.count = ms(1.5), 2 // a writer came back
	if got := l.left(b, ms(1.5)); got != 2*time.Millisecond {
		t.Errorf("after an arrival: left %v, want the gap again", got)
	}
	if got := l.left(b, ms(3)); got != 500*time.Microsecond {
		t.Errorf("near the gap's end: left %v, want 0.5ms", got)
	}
	if got := l.left(b, ms(3.6)); got != 0 {
		t.Errorf("after 2ms without an arrival: left %v, want 0", got)
	}
	l.last = ms(3.5)
	if got := l.left(b, ms(3.6)); got != 400*time.Microsecond {
		t.Errorf("arrivals keep coming: left %v, want up to the 4ms deadline", got)
	}
	if got := l.left(b, ms(4)); got != 0 {
		t.Errorf("at the deadline: left %v, want 0", got)
	}
	b.count = 4
	l.last = ms(1)
	if got := l.left(b, ms(1)); got != 0 {
		t.Errorf("with every writer back: left %v, want 0", got)
	}
}

// A single sequential writer never waits: its own write is the target.
func TestLinger_SequentialWriterNeverWaits(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var l linger
	l.start(1, 0, 5*time.Millisecond, t0)
	if got := l.left(&proposal{count: 1}, t0.Add(100*time.Microsecond)); got != 0 {
		t.Errorf("left %v, want 0", got)
	}
	var zero linger // before any commit
	if got := zero.left(&proposal{count: 1}, t0); got != 0 {
		t.Errorf("before any commit: left %v, want 0", got)
	}
}

// Lingers that no write joins turn lingering off for 1, 3, 7, ... batches,
// up to maxLingerSkip; one that a write joins turns it back on.
func TestLinger_BacksOffWhenNobodyComesBack(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var l linger
	waits := func() bool {
		l.start(10, 1, 4*time.Millisecond, t0)
		return l.left(&proposal{count: 1}, t0) > 0
	}
	for round, skip := range []int{1, 3, 7, 15, 31, 63, 63} {
		if !waits() {
			t.Fatalf("round %d: no linger where one was due", round)
		}
		l.joined(0)
		for i := range skip {
			if waits() {
				t.Fatalf("round %d: lingered on skipped batch %d of %d", round, i+1, skip)
			}
		}
	}
	if !waits() {
		t.Fatal("no linger after the skips")
	}
	l.joined(3)
	if !waits() || !waits() {
		t.Error("a fruitful linger did not keep lingering on")
	}
}
