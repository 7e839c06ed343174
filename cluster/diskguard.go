package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// Low disk. A leader whose log store cannot write fails the write, steps
// down, and leaves the cluster electing leaders that may fail the same way
// (nodes of one machine share a disk), while the log write that failed
// half-way is one more thing to recover. Instead each node checks the free
// space of its data directory's filesystem every diskCheckEvery and, below
// Config.MinFreeDisk, refuses new writes with MISCONF — Redis's reply when
// it cannot persist — while it keeps its role and serves reads. Writes
// resume by themselves once space is freed.
type diskGuard struct {
	dir  string
	min  uint64
	log  *slog.Logger
	free atomic.Uint64 // bytes available to the node at the last check
	low  atomic.Bool   // free < min at the last check
}

// diskCheckEvery is how often the free space is read: a statfs, cheap, and
// a disk fills in seconds only under writes far beyond what one interval
// lets through.
const diskCheckEvery = time.Second

// check reads the free space and logs when the guard changes state.
func (g *diskGuard) check() {
	free, err := freeBytes(g.dir)
	if err != nil {
		if !g.low.Load() {
			g.log.Warn("cannot read the data directory's free space; writes go on", "dir", g.dir, "err", err)
		}
		return
	}
	g.free.Store(free)
	low := free < g.min
	switch was := g.low.Swap(low); {
	case low && !was:
		g.log.Error("data disk low: refusing writes until space is freed (reads are served)",
			"dir", g.dir, "free_bytes", free, "min_free_disk", g.min)
	case !low && was:
		g.log.Info("data disk has space again: accepting writes", "dir", g.dir, "free_bytes", free)
	}
}

// run checks until ctx ends.
func (g *diskGuard) run(ctx context.Context) {
	t := time.NewTicker(diskCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.check()
		}
	}
}

// refusal is a write's reply while the disk is low, or nil.
func (g *diskGuard) refusal() error {
	if g == nil || !g.low.Load() {
		return nil
	}
	return &resp.Error{Code: "MISCONF", Msg: fmt.Sprintf(
		"kvorum cannot persist writes: the data directory's disk has %d bytes free, below --min-free-disk %d; "+
			"commands that may modify the data set are refused until space is freed (reads are served)",
		g.free.Load(), g.min)}
}
