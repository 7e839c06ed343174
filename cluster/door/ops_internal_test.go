package door

import (
	"testing"
	"time"
)

// opsRing's rate is the requests of the 16 complete 100 ms slots before
// now's, per second: requests in the current slot wait for it to end, and
// slots older than 1.6 s fall out, as in Redis's 16 samples.
func TestOpsRing_Rate(t *testing.T) {
	var r opsRing
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for ms := 0; ms < 1600; ms += 10 { // 10 per slot over 1.6 s: 100 a second
		r.add(at(ms))
	}
	for _, tc := range []struct {
		now  int
		want uint64
	}{
		{1599, 93},  // 15 complete slots: 150 requests over 1.6 s
		{1600, 100}, // all 16
		{1650, 100},
		{1700, 93}, // the first slot has fallen out
		{3200, 0},  // all of them
		{50000, 0}, // long after: a slot number far ahead never matches
	} {
		if got := r.rate(at(tc.now)); got != tc.want {
			t.Errorf("rate at %d ms = %d, want %d", tc.now, got, tc.want)
		}
	}
	// A slot reused 1.6 s later starts afresh.
	r.add(at(1600))
	if got, want := r.rate(at(1700)), uint64((150+1)*10/16); got != want {
		t.Errorf("rate after reusing the first slot = %d, want %d", got, want)
	}
	r.reset()
	if got := r.rate(at(1700)); got != 0 {
		t.Errorf("rate after reset = %d, want 0", got)
	}
}

// Requests from many goroutines are all counted.
func TestOpsRing_Concurrent(t *testing.T) {
	var r opsRing
	now := time.Unix(1_700_000_000, 0)
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 1000; i++ {
				r.add(now)
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	if got, want := r.rate(now.Add(opsSlot)), uint64(8000*10/16); got != want {
		t.Fatalf("rate = %d, want %d", got, want)
	}
}
