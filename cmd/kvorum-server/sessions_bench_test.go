package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kvclient "github.com/kvorum/kvorum/client"
)

// TestSessions_SetThroughput measures SET throughput through the smart
// client on a local three-process cluster with write sessions on (every
// SET wrapped in KVORUM.SEQ) and off (Options.DisableSessions), in
// interleaved rounds (on, off, off, on, ...) so that the shared machine's
// drifting load falls on both alike. It logs each round's ops/s, the
// median of each mode and their ratio, at 1 and at 50 concurrent callers.
// It asserts nothing but that every SET succeeds: it is a measurement,
// run with KVORUM_BENCH=1 (docs/BENCHMARKS.md, "Client sessions").
// KVORUM_BENCH_ROUND sets a round's length (default 3s); KVORUM_BENCH_LOADS
// picks the loads, callers x pipeline depth (default "1x1,50x1,50x16").
func TestSessions_SetThroughput(t *testing.T) {
	if os.Getenv("KVORUM_BENCH") != "1" {
		t.Skip("a measurement: set KVORUM_BENCH=1 to run it")
	}
	round := benchRound(t)
	loads, err := parseLoads(os.Getenv("KVORUM_BENCH_LOADS"))
	if err != nil {
		t.Fatal(err)
	}
	nodes := startLocalCluster(t, 3)
	var addrs []string
	for _, nd := range nodes {
		addrs = append(addrs, nd.client)
	}
	clients := map[bool]*kvclient.Client{}
	for _, sessions := range []bool{true, false} {
		c, err := kvclient.New(kvclient.Options{Addrs: addrs, PoolSize: 64, DisableSessions: !sessions})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients[sessions] = c
	}
	name := map[bool]string{true: "sessions on", false: "sessions off"}
	for _, load := range loads {
		conc := load.conc
		// Warm up both: find the leader, open the session, fill the pools.
		for _, sessions := range []bool{true, false} {
			setFor(t, clients[sessions], conc, load.depth, 300*time.Millisecond, "warm")
		}
		rates := map[bool][]float64{}
		cpu := map[bool][]float64{} // CPU µs per SET of each process, summed over the rounds
		sets := map[bool]int64{}
		var pairs []float64
		for i := range 8 {
			// on off off on on off off on: each mode leads half the pairs.
			sessions := i%4 == 0 || i%4 == 3
			before := cpuTimes(t, nodes)
			n := setFor(t, clients[sessions], conc, load.depth, round, fmt.Sprintf("r%d", i))
			after := cpuTimes(t, nodes)
			if cpu[sessions] == nil {
				cpu[sessions] = make([]float64, len(after))
			}
			for j := range after {
				cpu[sessions][j] += float64(after[j] - before[j])
			}
			sets[sessions] += n
			r := float64(n) / round.Seconds()
			rates[sessions] = append(rates[sessions], r)
			t.Logf("c=%d P%d round %d, %s: %d SETs in %v, %.0f ops/s", conc, load.depth, i+1, name[sessions], n, round, r)
			if i%2 == 1 {
				on, off := rates[true][len(rates[true])-1], rates[false][len(rates[false])-1]
				pairs = append(pairs, on/off)
			}
		}
		on, off := median(rates[true]), median(rates[false])
		t.Logf("c=%d P%d: sessions on %.0f ops/s, off %.0f ops/s (medians of %d rounds): on/off %.2fx; pairs: %s",
			conc, load.depth, on, off, len(rates[true]), on/off, fmtRatios(pairs))
		for _, sessions := range []bool{true, false} {
			per := make([]string, len(cpu[sessions]))
			total := 0.0
			for j, c := range cpu[sessions] {
				us := c / float64(sets[sessions])
				total += us
				who := "client"
				if j < len(nodes) {
					who = nodes[j].id
				}
				per[j] = fmt.Sprintf("%s %.2f", who, us)
			}
			t.Logf("c=%d P%d %s: CPU µs per SET %.2f (%s)", conc, load.depth, name[sessions], total, strings.Join(per, ", "))
		}
	}
	for _, sessions := range []bool{true, false} {
		t.Logf("%s client: %+v", name[sessions], clients[sessions].Stats())
	}
}

// cpuTimes returns the CPU time (user + system, in µs) used so far by
// each node's process and, last, by this test process (the client), read
// from /proc: where a round's CPU went, since on a shared two-core machine
// CPU per write is what bounds throughput at depth.
func cpuTimes(t *testing.T, nodes []*localNode) []int64 {
	t.Helper()
	pids := make([]string, 0, len(nodes)+1)
	for _, nd := range nodes {
		pids = append(pids, strconv.Itoa(nd.p.cmd.Process.Pid))
	}
	pids = append(pids, "self")
	out := make([]int64, len(pids))
	for i, pid := range pids {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return out // not Linux: no accounting
		}
		// Fields after the command name (which may hold spaces): state is
		// field 3, utime and stime fields 14 and 15, in clock ticks.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[i] = (ut + st) * 1e6 / clockTicks
	}
	return out
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times.
const clockTicks = 100

// benchLoad is one load of the measurement: conc callers, each sending
// pipelines of depth SETs.
type benchLoad struct{ conc, depth int }

// parseLoads reads KVORUM_BENCH_LOADS: comma-separated callers x depth
// pairs ("50x16"); "" is the default set.
func parseLoads(s string) ([]benchLoad, error) {
	if s == "" {
		return []benchLoad{{1, 1}, {50, 1}, {50, 16}}, nil
	}
	var out []benchLoad
	for _, f := range strings.Split(s, ",") {
		var l benchLoad
		if _, err := fmt.Sscanf(f, "%dx%d", &l.conc, &l.depth); err != nil || l.conc <= 0 || l.depth <= 0 {
			return nil, fmt.Errorf("KVORUM_BENCH_LOADS=%q: want callers x depth pairs like 50x16", s)
		}
		out = append(out, l)
	}
	return out, nil
}

// benchRound is a measurement round's length: KVORUM_BENCH_ROUND, or 3s.
func benchRound(t *testing.T) time.Duration {
	t.Helper()
	s := os.Getenv("KVORUM_BENCH_ROUND")
	if s == "" {
		return 3 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("KVORUM_BENCH_ROUND=%q: %v", s, err)
	}
	return d
}

// setFor runs conc callers that SET keys of their own, depth at a time (a
// pipeline of depth SETs per round trip; 1: one Set call), for d, and
// returns how many SETs were acknowledged. Any error fails the test.
func setFor(t *testing.T, c *kvclient.Client, conc, depth int, d time.Duration, tag string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	stop := time.Now().Add(d)
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				p := c.Pipeline()
				for j := range depth {
					p.Do("SET", fmt.Sprintf("bench:%s:%d:%d", tag, w, (i*depth+j)%1000), "xxx")
				}
				if _, err := p.Exec(ctx); err != nil {
					errs <- err
					return
				}
				n.Add(int64(depth))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("SET: %v", err)
	}
	return n.Load()
}

func median(x []float64) float64 {
	s := slices.Sorted(slices.Values(x))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtRatios(x []float64) string {
	out := ""
	for i, r := range x {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%.2f", r)
	}
	return out
}
