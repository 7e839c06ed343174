package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// Against a real three-node cluster: a client seeded with only a follower
// writes and reads through the redirect.
func TestClient_RealClusterViaFollower(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	f := c.Followers()[0]
	cl, err := client.New(client.Options{Addrs: []string{f.ClientAddr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.MSet(ctx, map[string]any{"k2": []any{"v2-0", int64(1), "v2-2"}}); err != nil {
		t.Fatal(err)
	}
	got, err := cl.Get(ctx, "k2")
	if err != nil || fmt.Sprint(got) != "[v2-0 1 v2-2]" {
		t.Fatalf("Get = %#v, %v", got, err)
	}
	if cl.Leader() != leader.ClientAddr() {
		t.Fatalf("client leader = %q, want %q", cl.Leader(), leader.ClientAddr())
	}
	// A pipeline of 1,000 commands sent to a follower keeps its order. The
	// server answers a pipelined batch when it has run all of it (about 3s
	// for this one under -race), so the read timeout is raised: a timeout
	// would resend the batch, and the GETs would rightly see the last SET.
	fresh, _ := client.New(client.Options{Addrs: []string{f.ClientAddr()}, ReadTimeout: 30 * time.Second,
		OnRedirect: func(from, to string) { t.Logf("redirect %s -> %s", from, to) }})
	defer fresh.Close()
	p := fresh.Pipeline()
	for i := 0; i < 500; i++ {
		p.Do("SET", "p", i)
		p.Do("GET", "p")
	}
	// 500 writes each behind a read commit one after the other: on a
	// loaded machine under -race that takes well over the 10s above.
	pctx, pcancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer pcancel()
	vals, err := p.Exec(pctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if vals[2*i+1].Int() != int64(i) {
			t.Fatalf("pipeline reply %d = %v, want %d; around: %v", 2*i+1, vals[2*i+1], i, vals[max(0, 2*i-4):2*i+4])
		}
	}
}

// The leader is killed during 5,000 SETs from 8 goroutines (and INCRs of a
// counter from 2 more). Every SET that returned success is readable, SETs
// (safe to retry) never fail, and, with write sessions, neither do INCRs:
// one cut off by the kill is resent under its seq, and the counter is
// exact.
func TestClient_LeaderKilledDuringWrites(t *testing.T) {
	c, leader, cl, ctx := startForKill(t)

	const writers, perWriter = 8, 625
	var acked, setFailures atomic.Int64
	var incrOK, incrUnknown atomic.Int64
	var otherIncrErr atomic.Value
	killAt := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	stopIncr := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if err := cl.Set(ctx, fmt.Sprintf("w%d-%d", w, i), i); err != nil {
					setFailures.Add(1)
					t.Errorf("SET w%d-%d failed: %v", w, i, err)
					continue
				}
				if acked.Add(1) == 1000 {
					once.Do(func() { close(killAt) })
				}
			}
		}(w)
	}
	var incrWG sync.WaitGroup
	for g := 0; g < 2; g++ {
		incrWG.Add(1)
		go func() {
			defer incrWG.Done()
			for {
				select {
				case <-stopIncr:
					return
				default:
				}
				_, err := cl.Do(ctx, "INCR", "counter")
				switch {
				case err == nil:
					incrOK.Add(1)
				case errors.Is(err, client.ErrUnknownOutcome):
					incrUnknown.Add(1)
				default:
					otherIncrErr.Store(err)
				}
			}
		}()
	}
	<-killAt
	c.Kill(leader.Index)
	wg.Wait()
	close(stopIncr)
	incrWG.Wait()
	if err, _ := otherIncrErr.Load().(error); err != nil {
		t.Errorf("INCR failed with something other than an unknown outcome: %v", err)
	}
	if setFailures.Load() != 0 {
		t.Fatalf("%d SETs failed", setFailures.Load())
	}
	checkAcked(t, cl, writers, perWriter)
	v, err := cl.Do(ctx, "GET", "counter")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := resp.ParseInt([]byte(v.Text()))
	if st := cl.Stats(); n != incrOK.Load() || incrUnknown.Load() != 0 || st.SessionsOpened == 0 {
		t.Fatalf("counter = %d, but %d INCRs succeeded and %d had unknown outcomes; stats %+v", n, incrOK.Load(), incrUnknown.Load(), st)
	}
	t.Logf("5,000 SETs acked through the kill; INCR: %d ok, counter %d; stats %+v", incrOK.Load(), n, cl.Stats())
}

// Pipelines of session writes go as KVORUM.SEQS frames, and a frame cut
// off by the leader's kill is resent under the same seqs: 6 goroutines each
// send pipelines of 8 INCRs of a counter of their own while the leader is
// killed, and every INCR succeeds, the replies each goroutine sees are
// 1, 2, 3, ... in order (none applied twice, none lost, no reply matched to
// the wrong request), and the new leader counted frames.
func TestClient_LeaderKilledDuringFramedPipelines(t *testing.T) {
	c, leader, cl, ctx := startForKill(t)
	const workers, depth, rounds = 6, 8, 60
	var done atomic.Int64
	killAt := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("framed-%d", w)
			for r := range rounds {
				p := cl.Pipeline()
				for range depth {
					p.Do("INCR", key)
				}
				vals, err := p.Exec(ctx)
				if err != nil {
					t.Errorf("%s round %d: %v", key, r, err)
					return
				}
				for i, v := range vals {
					if want := int64(r*depth + i + 1); v.Int() != want {
						t.Errorf("%s round %d reply %d = %v; want %d", key, r, i, v, want)
						return
					}
				}
				if done.Add(1) == workers*rounds/3 {
					once.Do(func() { close(killAt) })
				}
			}
		}()
	}
	select {
	case <-killAt:
		c.Kill(leader.Index)
	case <-ctx.Done():
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	info, err := cl.Do(ctx, "INFO", "commandstats")
	if err != nil || !strings.Contains(info.Text(), "cmdstat_kvorum.seqs:calls=") {
		t.Fatalf("the new leader's commandstats name no KVORUM.SEQS frame: %v, %v", info, err)
	}
	t.Logf("%d pipelines of %d INCRs exact through the kill; stats %+v", workers*rounds, depth, cl.Stats())
}

// checkAcked reads back the keys the writers of
// TestClient_LeaderKilledDuringWrites set: wW-I holds I.
func checkAcked(t *testing.T, cl *client.Client, writers, perWriter int) {
	t.Helper()
	for w := 0; w < writers; w++ {
		for i := 0; i < perWriter; i++ {
			v, err := cl.Do(t.Context(), "GET", fmt.Sprintf("w%d-%d", w, i))
			if err != nil || v.Text() != fmt.Sprint(i) {
				t.Fatalf("acked key w%d-%d = %v, %v", w, i, v, err)
			}
		}
	}
}

// startForKill starts a three-node cluster for a test that kills its
// leader during a workload: the cluster, its leader, a smart client on
// every node, and a minute for the whole test.
func startForKill(t *testing.T) (*testcluster.Cluster, *testcluster.Node, *client.Client, context.Context) {
	t.Helper()
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c, leader, clusterClient(t, c), ctx
}

// clusterClient returns a smart client seeded with every node of c, closed
// when the test ends.
func clusterClient(t *testing.T, c *testcluster.Cluster) *client.Client {
	t.Helper()
	cl, err := client.New(client.Options{Addrs: c.ClientAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}
