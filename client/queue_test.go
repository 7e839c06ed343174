package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/testcluster"
)

// Producers push, workers reserve and ack against a real cluster: every
// job is processed exactly once when nothing fails, and nothing is left in
// either list.
func TestQueue_ReserveAck(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	c.Leader(10 * time.Second)
	cl := clusterClient(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const jobs, workers = 200, 4
	var mu sync.Mutex
	done := map[string]int{}
	for i := 0; i < jobs; i++ {
		if _, err := cl.Push(ctx, "pending", fmt.Sprint("job-", i)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				job, ok, err := cl.Reserve(ctx, "pending", "processing", 500*time.Millisecond)
				if err != nil {
					t.Errorf("Reserve: %v", err)
					return
				}
				if !ok {
					return // drained
				}
				mu.Lock()
				done[fmt.Sprint(job)]++
				mu.Unlock()
				if acked, err := cl.Ack(ctx, "processing", job); err != nil || !acked {
					t.Errorf("Ack(%v) = %v, %v", job, acked, err)
				}
			}
		}()
	}
	wg.Wait()
	if len(done) != jobs {
		t.Fatalf("%d distinct jobs processed, want %d", len(done), jobs)
	}
	for j, n := range done {
		if n != 1 {
			t.Fatalf("job %s processed %d times", j, n)
		}
	}
	for _, list := range []string{"pending", "processing"} {
		if v, err := cl.Do(ctx, "LLEN", list); err != nil || v.Int() != 0 {
			t.Fatalf("LLEN %s = %v, %v", list, v, err)
		}
	}
	if _, ok, err := cl.Pop(ctx, "pending", 50*time.Millisecond); ok || err != nil {
		t.Fatalf("Pop on an empty queue = %v, %v", ok, err)
	}
}
