package door

import (
	"sync/atomic"
	"time"
)

// Stats are the door's counters for a metrics endpoint: what clients ask
// of this node and how long they wait. The front door keeps them in
// atomics on the request path; Stats copies them, so it is safe to call
// from any goroutine.
type Stats struct {
	// BlockedClients counts the blocking commands waiting now.
	BlockedClients int64
	// Redirects counts the requests this node did not serve because it
	// does not lead: answered -MOVED, or -CLUSTERDOWN while no leader is
	// known.
	Redirects uint64
	// Commands are each called command's INFO commandstats counters
	// (which CONFIG RESETSTAT zeroes), sorted by name.
	Commands []CommandStats
	// Writes and Reads are the latencies of the writes and reads this
	// node served as leader: from the request's arrival to its reply
	// being known (the commit and apply, or the read barrier, included).
	Writes, Reads Histogram
}

// CommandStats are one command's counters.
type CommandStats struct {
	Name                    string
	Calls, Rejected, Failed uint64
	Time                    time.Duration // the door's own work (INFO commandstats' usec)
}

// Histogram is a latency distribution: Counts[i] requests took at most
// Bounds[i] seconds and more than Bounds[i-1]; the last count is over
// every bound.
type Histogram struct {
	Bounds []float64
	Counts []uint64 // len(Bounds)+1
	Sum    time.Duration
}

// latencyBounds are the histograms' upper bounds, in seconds: from a
// pipelined read to an election's wait.
var latencyBounds = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}

// latency is one histogram, filled with atomics.
type latency struct {
	counts [14]atomic.Uint64 // len(latencyBounds)+1
	sum    atomic.Int64      // ns
}

func (l *latency) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(latencyBounds) && s > latencyBounds[i] {
		i++
	}
	l.counts[i].Add(1)
	l.sum.Add(int64(d))
}

func (l *latency) snapshot() Histogram {
	h := Histogram{Bounds: latencyBounds, Counts: make([]uint64, len(l.counts)), Sum: time.Duration(l.sum.Load())}
	for i := range l.counts {
		h.Counts[i] = l.counts[i].Load()
	}
	return h
}

// Stats returns the door's counters.
func (d *Door) Stats() Stats {
	s := Stats{BlockedClients: d.waiters.blocked.Load(), Redirects: d.stats.redirects.Load(),
		Writes: d.stats.writes.snapshot(), Reads: d.stats.reads.snapshot()}
	for _, cmd := range d.reg.All() {
		cs := CommandStats{Name: cmd.Name, Calls: cmd.stats.calls.Load(), Rejected: cmd.stats.rejected.Load(),
			Failed: cmd.stats.failed.Load(), Time: time.Duration(cmd.stats.nanos.Load())}
		if cs.Calls > 0 || cs.Rejected > 0 {
			s.Commands = append(s.Commands, cs)
		}
	}
	return s
}
