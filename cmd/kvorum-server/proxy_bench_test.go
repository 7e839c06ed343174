package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestProxy_SetLatency measures what --follower-mode proxy costs a plain
// client: SET, then GET, at P1 (one connection, one request at a time) on
// a connection to a follower, which relays it to the leader, against a
// connection to the leader itself, on one local three-process cluster
// started with --follower-mode proxy. Rounds alternate (follower, leader,
// leader, follower, ...) so that the shared machine's drifting load falls
// on both alike. It logs each round's ops/s and p50/p99 latency, the
// medians, the follower/leader throughput ratio (goal for SET: at least
// 0.8) and the latency the relay adds. GET, whose round trip has no
// commit in it, shows that added latency with less noise around it. It
// asserts nothing but that every request succeeds: it is a measurement,
// run with KVORUM_BENCH=1 (docs/BENCHMARKS.md, "Follower proxy").
// KVORUM_BENCH_ROUND sets a round's length (default 3s).
func TestProxy_SetLatency(t *testing.T) {
	if os.Getenv("KVORUM_BENCH") != "1" {
		t.Skip("a measurement: set KVORUM_BENCH=1 to run it")
	}
	round := benchRound(t)
	leader, follower := leaderAndFollower(t, launchModeCluster(t, "proxy"))
	conns := map[bool]*client{true: dial(t, follower.addr), false: dial(t, leader.addr)}
	conns[true].do("SET", "bench:proxy", "first") // relays the connection from here on
	if v := conns[true].do("ROLE"); v.Len() == 0 || v.Elems()[0].Text() != "master" {
		t.Fatalf("ROLE on the follower's connection = %v, want the leader's (relayed)", v)
	}
	name := map[bool]string{true: "via follower", false: "on leader"}
	for _, op := range []string{"SET", "GET"} {
		for _, proxied := range []bool{true, false} { // warm up both
			p1(t, conns[proxied], op, 300*time.Millisecond)
		}
		rates := map[bool][]float64{}
		p50s := map[bool][]time.Duration{}
		var pairs []float64
		for i := range 8 {
			// F L L F F L L F: each side leads half the pairs.
			proxied := i%4 == 0 || i%4 == 3
			lat := p1(t, conns[proxied], op, round)
			r := float64(len(lat)) / round.Seconds()
			rates[proxied] = append(rates[proxied], r)
			p50s[proxied] = append(p50s[proxied], pct(lat, 50))
			t.Logf("%s P1 round %d, %s: %d in %v, %.0f ops/s, p50 %v, p99 %v", op, i+1, name[proxied],
				len(lat), round, r, pct(lat, 50), pct(lat, 99))
			if i%2 == 1 {
				f, l := rates[true][len(rates[true])-1], rates[false][len(rates[false])-1]
				pairs = append(pairs, f/l)
			}
		}
		f, l := median(rates[true]), median(rates[false])
		fp50, lp50 := medianDuration(p50s[true]), medianDuration(p50s[false])
		t.Logf("%s P1: via follower %.0f ops/s, on leader %.0f ops/s (medians of %d rounds): follower/leader %.2fx; pairs: %s",
			op, f, l, len(rates[true]), f/l, fmtRatios(pairs))
		t.Logf("%s P1 p50: via follower %v, on leader %v (medians): the proxy adds %v; mean per request: %v vs %v (+%v)",
			op, fp50, lp50, fp50-lp50, perOp(f), perOp(l), perOp(f)-perOp(l))
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		t.Logf("load average at the end: %s", strings.TrimSpace(string(load)))
	}
}

// perOp is the mean time per request at rate requests per second.
func perOp(rate float64) time.Duration {
	return time.Duration(float64(time.Second) / rate).Round(time.Microsecond)
}

// p1 sends op (SET or GET of one key) on c, one request at a time, for d
// and returns each one's round-trip time. An error reply fails the test.
func p1(t *testing.T, c *client, op string, d time.Duration) []time.Duration {
	t.Helper()
	args := []string{"SET", "bench:proxy", "xxx"}
	if op == "GET" {
		args = []string{"GET", "bench:proxy"}
	}
	var lat []time.Duration
	for stop := time.Now().Add(d); ; {
		begin := time.Now()
		if !begin.Before(stop) {
			return lat
		}
		if v := c.do(args...); v.IsError() {
			t.Fatalf("%v = %v", args, v)
		}
		lat = append(lat, time.Since(begin))
	}
}

// pct returns the p-th percentile of lat (nearest rank).
func pct(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(lat))
	return s[min(len(s)-1, len(s)*p/100)]
}

func medianDuration(x []time.Duration) time.Duration {
	f := make([]float64, len(x))
	for i, d := range x {
		f[i] = float64(d)
	}
	return time.Duration(median(f)).Round(time.Microsecond)
}
