package chaos

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	kvcluster "github.com/kvorum/kvorum/cluster"
)

// The short form's workload length: with start-up, the drain and the
// checks, a run takes about 20 s.
const shortDuration = 12 * time.Second

// TestChaos runs the nemesis against three kvorum-server processes while
// the register, queue and counter workloads run, and fails on any
// violation, printing the seed (KVORUM_CHAOS_SEED replays it) and the
// report's path. KVORUM_CHAOS_RUNS=n runs n schedules (seeds seed,
// seed+1, ...), KVORUM_CHAOS_DURATION=d makes each d long. The schedules
// alternate between the Raft log stores (logStore).
func TestChaos(t *testing.T) {
	runSchedules(t, shortDuration, loopback(serverBin))
}

// starter starts a three-node cluster for one schedule, logging under
// logDir, with extra flags for every node.
type starter func(t *testing.T, logDir string, extra ...string) *cluster

// loopback starts bin's nodes on loopback behind the test's Raft proxies.
func loopback(bin string) starter {
	return func(t *testing.T, logDir string, extra ...string) *cluster {
		return startCluster(t, bin, 3, logDir, extra...)
	}
}

// runSchedules runs the schedules chaosEnv asks for (each def long unless
// KVORUM_CHAOS_DURATION says otherwise) on clusters from start, as
// subtests of t, and fails on any violation with the replay command.
func runSchedules(t *testing.T, def time.Duration, start starter) {
	runs, d, seed := chaosEnv(t, def)
	for i := range runs {
		s := seed + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) {
			r := runSchedule(t, start, s, d)
			t.Log(r.summary())
			if !r.ok() {
				t.Errorf("violations with seed %d (replay: %s): %v", s, r.Replay, r.Verdicts.Problems)
			}
		})
	}
}

// chaosEnv reads KVORUM_CHAOS_RUNS, KVORUM_CHAOS_DURATION (default def)
// and KVORUM_CHAOS_SEED (default: the clock).
func chaosEnv(t *testing.T, def time.Duration) (runs int, d time.Duration, seed uint64) {
	runs, d, seed = 1, def, uint64(time.Now().UnixNano())
	var err error
	if s := os.Getenv("KVORUM_CHAOS_RUNS"); s != "" {
		if runs, err = strconv.Atoi(s); err != nil || runs < 1 {
			t.Fatalf("KVORUM_CHAOS_RUNS=%q: want a count", s)
		}
	}
	if s := os.Getenv("KVORUM_CHAOS_DURATION"); s != "" {
		if d, err = time.ParseDuration(s); err != nil || d < 5*time.Second {
			t.Fatalf("KVORUM_CHAOS_DURATION=%q: want a duration of at least 5s", s)
		}
	}
	if s := os.Getenv("KVORUM_CHAOS_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("KVORUM_CHAOS_SEED=%q: want an unsigned integer", s)
		}
	}
	return runs, d, seed
}

// logStore is the Raft log store a schedule's nodes run on: the one
// KVORUM_CHAOS_STORE names, or else one that follows from the seed (even
// seeds boltdb, odd ones wal), so consecutive schedules alternate between
// the stores and a replay by seed runs on the store the schedule ran on.
func logStore(t *testing.T, seed uint64) string {
	s := os.Getenv("KVORUM_CHAOS_STORE")
	if s == "" {
		return [...]string{kvcluster.LogStoreBolt, kvcluster.LogStoreWAL}[seed%2]
	}
	if s != kvcluster.LogStoreBolt && s != kvcluster.LogStoreWAL {
		t.Fatalf("KVORUM_CHAOS_STORE=%q: want %s or %s", s, kvcluster.LogStoreBolt, kvcluster.LogStoreWAL)
	}
	return s
}

// workloads are one run's workloads: registers (plain connections and
// redis-py), the plain queue, the smart-client queue, and counters (plain
// connections and the smart client).
type workloads struct {
	reg  *registers
	py   *redisPy
	q    *queue
	sq   *queue
	ctr  *counters
	sctr *counters
}

// runSchedule starts a cluster of bin, runs the workloads for d under the
// nemesis's plan for seed, checks the histories and writes the report.
func runSchedule(t *testing.T, start starter, seed uint64, d time.Duration) *report {
	dir, err := os.MkdirTemp("", fmt.Sprintf("kvorum-chaos-%d-", seed))
	if err != nil {
		t.Fatal(err)
	}
	store := logStore(t, seed)
	t.Logf("seed %d, %v, --raft-log-store %s; logs and report in %s", seed, d, store, dir)
	r := &report{Seed: seed, Store: store, Duration: d.String(), Logs: dir, Machine: machine(),
		Replay: fmt.Sprintf("KVORUM_FAULTS=1 KVORUM_CHAOS_STORE=%s KVORUM_CHAOS_SEED=%d KVORUM_CHAOS_DURATION=%v go test -run '^%s$' ./test/chaos/",
			store, seed, d, strings.Split(t.Name(), "/")[0]),
		Schedule: plan(seed, d)}
	c := start(t, dir, "--raft-log-store", store, "--snapshot-threshold", "1024", "--snapshot-interval", "1s")
	clk := &clock{start: time.Now()}
	w := workloads{reg: &registers{clock: clk, keys: 3, rotate: 2 * time.Second}, py: newRedisPy(clk),
		q: newQueue("queue"), sq: newQueue("smartqueue"), ctr: newCounters("ctr", 3), sctr: newCounters("sctr", 3)}
	nem := &nemesis{c: c, clock: clk}

	run, stop := context.WithTimeout(context.Background(), d)
	drain, stopDrain := context.WithTimeout(context.Background(), d+20*time.Second)
	var producers, others, consumers sync.WaitGroup
	defer func() { // however the run ends, no worker outlives it
		stop()
		stopDrain()
		producers.Wait()
		others.Wait()
		consumers.Wait()
	}()
	produced := make(chan struct{})
	w.start(run, drain, c.addrs(), seed, &producers, &others, &consumers, produced)
	w.startSmart(t, run, drain, c.addrs(), seed, &producers, &others, &consumers, produced)
	w.py.start(t, c.addrs(), seed, d, dir)

	nem.run(run, r.Schedule, clk.start.Add(d))
	<-run.Done()
	producers.Wait()
	others.Wait()
	close(produced)
	consumers.Wait()
	w.py.stop(redisPyGrace)
	r.Faults = nem.faults
	r.ShutdownDeadlines = c.shutdownDeadlines
	w.check(t, r, c, nem, dir)
	if t.Failed() {
		r.Verdicts.Problems = append(r.Verdicts.Problems, "the run failed outside the checkers (a nemesis step or the cluster; see the test log)")
	}
	r.finish()
	path, err := r.write(dir)
	if err != nil {
		t.Errorf("report: %v", err)
	}
	t.Logf("report: %s", path)
	return r
}

// start launches the workers: 3 register workers, 2 producers, 3
// consumers (which drain after the run until drain ends) and 2 counter
// workers, each with its own connection.
func (w workloads) start(run, drain context.Context, seeds []string, seed uint64,
	producers, others, consumers *sync.WaitGroup, produced chan struct{}) {
	for i := range 3 {
		others.Go(func() { w.reg.worker(run, seeds, i, seed) })
	}
	for i := range 2 {
		producers.Go(func() { w.q.producer(run, seeds, i, seed) })
		others.Go(func() { w.ctr.worker(run, seeds, i, seed) })
	}
	for i := range 3 {
		consumers.Go(func() { w.q.consumer(drain, seeds, i, seed, produced) })
	}
}

// startSmart launches the smart-client workloads: the queue, with one
// producer client and one consumer client (each with its own session), one
// producer and two consumers; and counters, two workers sharing a third
// client. The clients close in t.Cleanup, after the workers are done.
func (w workloads) startSmart(t *testing.T, run, drain context.Context, seeds []string, seed uint64,
	producers, others, consumers *sync.WaitGroup, produced chan struct{}) {
	var cls []*client.Client
	for range 3 {
		cl, err := client.New(client.Options{Addrs: seeds, MinRetryBackoff: 5 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		cls = append(cls, cl)
	}
	producers.Go(func() { w.sq.smartProducer(run, cls[0], 0) })
	for range 2 {
		consumers.Go(func() { w.sq.smartConsumer(drain, cls[1], produced) })
	}
	for i := range 2 {
		others.Go(func() { w.sctr.smartWorker(run, cls[2], i, seed) })
	}
}

// check runs the checkers on a healed cluster and fills in r.
func (w workloads) check(t *testing.T, r *report, c *cluster, nem *nemesis, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seeds := c.addrs()
	r.SmartErrs = w.sq.errs
	r.SmartCtrErrs = w.sctr.errs
	r.Ops = opsBlock{Registers: w.reg.counts, RedisPyRegisters: w.py.reg.counts, Queue: w.q.counts,
		SmartQueue: w.sq.counts, Counters: w.ctr.counts, SmartCounters: w.sctr.counts}
	for _, q := range []struct {
		name    string
		q       *queue
		out     *queueVerdict
		verdict *string
	}{{"queue", w.q, &r.Queue, &r.Verdicts.Queue}, {"smart queue", w.sq, &r.SmartQueue, &r.Verdicts.SmartQueue}} {
		if err := q.q.readLeft(ctx, seeds); err != nil {
			r.Verdicts.Problems = append(r.Verdicts.Problems, q.name+": "+err.Error())
		}
		*q.out = checkQueue(&q.q.rec)
		*q.verdict = q.out.String()
		if !q.out.ok() {
			r.Verdicts.Problems = append(r.Verdicts.Problems, q.name+": "+q.out.String())
		}
	}
	r.Counters, r.SmartCounters = w.ctr.rec, w.sctr.rec
	r.Verdicts.Counters = w.ctr.check(ctx, seeds, r)
	r.Verdicts.SmartCounters = w.sctr.check(ctx, seeds, r)
	verdict, vis, took := w.reg.check(30*time.Second, nem.notes, dir)
	r.Verdicts.Linearizability, r.Verdicts.Visualization = verdict, vis
	r.Registers.Operations, r.Registers.Keys, r.Registers.CheckS = len(w.reg.history), w.reg.nkeys, took.Seconds()
	r.Registers.MaxKeyOps, r.Registers.CAS = w.reg.maxOps, w.reg.cas
	if verdict == "ILLEGAL" {
		r.Verdicts.Problems = append(r.Verdicts.Problems, "registers: not linearizable; visualization "+vis)
		t.Logf("linearizability visualization: %s", vis)
	}
	w.checkRedisPy(t, r, nem, dir)
	r.Verdicts.Problems = append(r.Verdicts.Problems, c.panicked()...)
	if len(w.reg.history) == 0 || w.q.counts.OK == 0 || w.sq.counts.OK == 0 || w.ctr.counts.OK == 0 ||
		w.sctr.counts.OK == 0 || w.py.skipped == "" && w.py.reg.counts.OK == 0 {
		r.Verdicts.Problems = append(r.Verdicts.Problems, "a workload completed no operation: the run checks nothing")
	}
	if w.reg.cas.Swapped == 0 {
		r.Verdicts.Problems = append(r.Verdicts.Problems, "registers: no compare-and-set swapped: EXEC went unchecked")
	}
}

// checkRedisPy checks the redis-py registers' history, unless the
// workload was skipped, and fills in r.
func (w workloads) checkRedisPy(t *testing.T, r *report, nem *nemesis, dir string) {
	p := w.py
	r.RedisPy.Skipped, r.RedisPy.Version, r.RedisPy.Errors, r.RedisPy.Killed = p.skipped, p.version, p.errs, p.killed.Load()
	if p.skipped != "" {
		r.Verdicts.RedisPy = "skipped"
		return
	}
	r.Verdicts.Problems = append(r.Verdicts.Problems, p.problems...)
	verdict, vis, took := p.reg.check(30*time.Second, nem.notes, dir)
	r.Verdicts.RedisPy, r.Verdicts.RedisPyVisualization = verdict, vis
	r.RedisPy.Operations, r.RedisPy.Keys, r.RedisPy.CheckS = len(p.reg.history), p.reg.nkeys, took.Seconds()
	r.RedisPy.MaxKeyOps = p.reg.maxOps
	if verdict == "ILLEGAL" {
		r.Verdicts.Problems = append(r.Verdicts.Problems, "redis-py registers: not linearizable; visualization "+vis)
		t.Logf("redis-py linearizability visualization: %s", vis)
	}
	if p.reg.maxOps > 1000 {
		r.Verdicts.Problems = append(r.Verdicts.Problems, fmt.Sprintf("redis-py registers: %d operations on one key, over the 1,000 the script allows", p.reg.maxOps))
	}
}

// machine names where the run happened, for the report.
func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs", host, numCPU())
}
