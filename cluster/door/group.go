package door

import "sync"

// group owns the goroutines the door runs on its own (the watches of
// tenure.go, proxy.go and sentinel_events.go): start runs one until the
// group closes, and Door.Close closes it and waits for them all.
type group struct {
	mu      sync.Mutex
	stop    chan struct{}
	stopped bool
	wg      sync.WaitGroup
}

func newGroup() *group { return &group{stop: make(chan struct{})} }

// start runs f on a goroutine of the group, unless the group is closed
// (then it reports false). f must return once stop is closed.
func (g *group) start(f func(stop <-chan struct{})) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f(g.stop)
	}()
	return true
}

// close tells the goroutines to stop and waits for them. Idempotent.
func (g *group) close() {
	g.mu.Lock()
	if !g.stopped {
		g.stopped = true
		close(g.stop)
	}
	g.mu.Unlock()
	g.wg.Wait()
}
