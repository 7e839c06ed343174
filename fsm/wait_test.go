package fsm_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// await returns what done delivers, failing the test (naming what it
// waited for) if nothing comes within a deadline.
func await(t *testing.T, done <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
}

// awaitErr awaits a nil error.
func awaitErr(t *testing.T, done <-chan error, what string) {
	t.Helper()
	if err := await(t, done, what); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor starts WaitApplied(index) on n's FSM and returns its result channel.
func waitFor(ctx context.Context, n *node, index uint64) <-chan error {
	done := make(chan error, 1)
	go func() { done <- n.f.WaitApplied(ctx, index) }()
	return done
}

func TestFSM_WaitApplied(t *testing.T) {
	n := newNode(t, resp.RESP2)
	ctx := context.Background()
	if err := n.f.WaitApplied(ctx, 0); err != nil {
		t.Fatalf("WaitApplied(0) on a fresh FSM: %v", err)
	}
	n.apply("SET", "k", "v")
	if err := n.f.WaitApplied(ctx, 1); err != nil {
		t.Fatalf("WaitApplied(1) after applying 1: %v", err)
	}

	// Waiters for later indexes return as their entries are applied, and
	// not before.
	var waiters []<-chan error
	for i := uint64(2); i <= 6; i++ {
		waiters = append(waiters, waitFor(ctx, n, i))
	}
	for i, done := range waiters {
		index := uint64(i + 2)
		for _, later := range waiters[i:] {
			select {
			case err := <-later:
				t.Fatalf("a WaitApplied returned (%v) with only %d applied", err, n.index)
			default:
			}
		}
		n.apply("INCR", "ctr")
		awaitErr(t, done, "WaitApplied("+strconv.FormatUint(index, 10)+") after applying it")
	}

	// A batch wakes everyone it covers.
	many := make([]<-chan error, 50)
	for i := range many {
		many[i] = waitFor(ctx, n, uint64(7+i%5))
	}
	incr := req("INCR", "ctr")
	n.f.ApplyBatch(n.logs(incr, incr, incr, incr, incr))
	for _, done := range many {
		awaitErr(t, done, "WaitApplied after a batch covering its index")
	}
}

func TestFSM_WaitAppliedContext(t *testing.T) {
	n := newNode(t, resp.RESP2)
	ctx, cancel := context.WithCancel(context.Background())
	done := waitFor(ctx, n, 1)
	cancel()
	if err := await(t, done, "WaitApplied to see its context canceled"); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitApplied after cancel = %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := n.f.WaitApplied(ctx, 100); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitApplied past its deadline = %v, want context.DeadlineExceeded", err)
	}

	// An index already applied wins over a canceled context.
	n.apply("SET", "k", "v")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.f.WaitApplied(canceled, 1); err != nil {
		t.Errorf("WaitApplied(1) with 1 applied and a canceled context = %v, want nil", err)
	}
}

// TestFSM_ConcurrentReads runs reads, snapshots and restores against a
// stream of writes (with -race, this is the FSM's locking test). A single
// writer INCRs a counter, so every reader must see it never go back.
func TestFSM_ConcurrentReads(t *testing.T) {
	n := newNode(t, resp.RESP2)
	fill(n, 100)
	base := snapshotOf(t, n.f)
	table := n.f.Table()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	// loop runs body on a goroutine of its own until stop closes or body fails.
	loop := func(body func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := body(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	reads := [][]resp.Value{
		vals(req("GET", "ctr")), vals(req("MGET", "ctr", "key:1", "key:2")), vals(req("KEYS", "key:1*")),
		vals(req("DBSIZE")), vals(req("EXISTS", "ctr", "key:0")), vals(req("PTTL", "key:1")),
		vals(req("TYPE", "key:7")), vals(req("STRLEN", "key:0")),
	}
	for r := range 4 {
		i, last := r, int64(-1)
		loop(func() error {
			args := reads[i%len(reads)]
			got := n.f.Read(table.Lookup(args[0].Bytes()), args, t0, resp.RESP2)
			if got.IsError() && got.Code() != "WRONGTYPE" {
				return errors.New(args[0].Text() + ": " + got.Text())
			}
			if i%len(reads) == 0 && !got.IsNull() {
				v, _ := resp.ParseInt(got.Bytes())
				if v < last {
					return errors.New("the counter went back from " + strconv.FormatInt(last, 10) + " to " + got.Text())
				}
				last = v
			}
			i++
			_ = n.f.Keys() + int(n.f.Applied())
			return nil
		})
	}
	loop(func() error { // snapshots while writes go on
		snap, err := n.f.Snapshot()
		if err != nil {
			return err
		}
		defer snap.Release()
		return snap.Persist(&memSink{})
	})

	for i := range 3000 {
		n.apply("INCR", "ctr")
		switch i % 10 {
		case 1:
			n.apply("SET", "key:"+strconv.Itoa(i%50), strconv.Itoa(i), "PX", 1000)
		case 3:
			n.apply("DEL", "key:"+strconv.Itoa(i%50))
		case 5:
			n.apply("MSET", "a", i, "b", arr(i))
		case 7:
			n.apply("RENAME", "a", "c")
		}
	}
	// A restore under the readers' feet: the counter is gone (a reader
	// seeing it vanish sees null, not a smaller number), then restarts.
	if err := restore(n.f, base); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	n.index = n.f.Applied()
	n.apply("SET", "ctr", 1_000_000)
	for range 100 {
		n.apply("INCR", "ctr")
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
