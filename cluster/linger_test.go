package cluster

import (
	"testing"
	"time"
)

// runs makes an entry's client runs: one write from each client given.
func runs(clients ...uint64) []clientRun {
	out := make([]clientRun, len(clients))
	for i, c := range clients {
		out[i] = clientRun{client: c, writes: 1}
	}
	return out
}

// at is a clock stopped at t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// trained returns a linger whose clients have always come back: it lingers.
func trained(t *testing.T, t0 time.Time) *linger {
	var l linger
	for range 10 {
		l.start(runs(1, 2, 3), 4*time.Millisecond, t0)
		for c := uint64(1); c <= 3; c++ {
			l.arrive(c, at(t0))
		}
	}
	if l.share < minReturnShare {
		t.Fatalf("share %.2f after ten rounds of every client back", l.share)
	}
	return &l
}

// The linger's decisions, on a clock of its own: after an entry of three
// clients' writes committed in 4 ms, the next batch waits for those clients
// to write again, but not longer than half a commit without one of them
// writing, nor than one commit in all.
func TestLinger_WaitsForTheAnsweredClients(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	l := trained(t, t0)
	l.start(runs(1, 2, 2, 3), 4*time.Millisecond, t0) // client 2 sent two writes
	if got := l.left(t0); got != 2*time.Millisecond {
		t.Errorf("right after the commit: left %v, want the 2ms gap", got)
	}
	l.arrive(99, at(ms(1))) // not an answered client: changes nothing
	if got := l.left(ms(1)); got != time.Millisecond {
		t.Errorf("after another client's write: left %v, want the gap's last 1ms", got)
	}
	l.arrive(1, at(ms(1.5)))
	if got := l.left(ms(1.5)); got != 2*time.Millisecond {
		t.Errorf("after an answered client's write: left %v, want the gap again", got)
	}
	if got := l.left(ms(3.6)); got != 0 {
		t.Errorf("after 2ms without an answered client: left %v, want 0", got)
	}
	l.arrive(2, at(ms(3.5)))
	if got := l.left(ms(3.6)); got != 400*time.Microsecond {
		t.Errorf("answered clients keep coming: left %v, want up to the 4ms deadline", got)
	}
	if got := l.left(ms(4)); got != 0 {
		t.Errorf("at the deadline: left %v, want 0", got)
	}
	l.arrive(3, at(ms(3.7))) // client 2 still owes its second write
	if got := l.left(ms(3.7)); got == 0 {
		t.Error("sent before client 2's second write")
	}
	l.arrive(2, at(ms(3.8)))
	if got := l.left(ms(3.8)); got != 0 {
		t.Errorf("with every answered client back: left %v, want 0", got)
	}
}

// A lone sequential client never waits: its own write brings everyone
// back. kvorum's own writes (client 0) are nobody to wait for.
func TestLinger_LoneClientNeverWaits(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := trained(t, t0)
	l.start(runs(7), 5*time.Millisecond, t0)
	l.arrive(7, at(t0.Add(100*time.Microsecond)))
	if got := l.left(t0.Add(100 * time.Microsecond)); got != 0 {
		t.Errorf("left %v, want 0", got)
	}
	l.start(runs(0, 0), 5*time.Millisecond, t0)
	if got := l.left(t0); got != 0 {
		t.Errorf("after an entry of kvorum's own writes: left %v, want 0", got)
	}
	var zero linger // before any commit
	if got := zero.left(t0); got != 0 {
		t.Errorf("before any commit: left %v, want 0", got)
	}
}

// Clients that do not write again before the next commit (they think
// between writes) turn lingering off within a few commits, and clients that
// do turn it back on.
func TestLinger_OnlyWhileClientsComeBack(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := trained(t, t0)
	rounds := 0
	for l.start(runs(1, 2, 3, 4), 4*time.Millisecond, t0); l.on; l.start(runs(1, 2, 3, 4), 4*time.Millisecond, t0) {
		if rounds++; rounds > 10 {
			t.Fatalf("still lingering after %d commits that no client came back by (share %.2f)", rounds, l.share)
		}
		l.arrive(1, at(t0)) // one of four back
	}
	if rounds < 2 {
		t.Errorf("stopped lingering after %d commits; want a moving average, not one sample", rounds)
	}
	for rounds = 0; !l.on; rounds++ {
		if rounds > 20 {
			t.Fatalf("not lingering after %d commits with every client back (share %.2f)", rounds, l.share)
		}
		for c := uint64(1); c <= 4; c++ {
			l.arrive(c, at(t0))
		}
		l.start(runs(1, 2, 3, 4), 4*time.Millisecond, t0)
	}
}
