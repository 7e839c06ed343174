package exactlyonce

import (
	"context"
	"sync"
)

// gate bounds how many pushes the producers may have started: up to a
// cap that Run raises after each restart.
type gate struct {
	mu      sync.Mutex
	started int
	cap     int
	raised  chan struct{} // closed (and replaced) when cap grows
}

func (g *gate) init(n int) { g.cap, g.raised = n, make(chan struct{}) }

// take claims one push, waiting for the cap to grow if it is reached; it
// reports false if ctx ended first.
func (g *gate) take(ctx context.Context) bool {
	for {
		g.mu.Lock()
		if g.started < g.cap {
			g.started++
			g.mu.Unlock()
			return true
		}
		ch := g.raised
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (g *gate) raise(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n > g.cap {
		g.cap = n
		close(g.raised)
		g.raised = make(chan struct{})
	}
}
