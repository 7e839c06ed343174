package cluster_test

import (
	"fmt"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// BenchmarkFailover measures, over 20 trials on three in-process nodes with
// the production Raft timings, the time from killing the leader to the first
// write acknowledged by its successor. Run it once:
//
//	go test -run '^$' -bench Failover -benchtime 1x ./cluster
func BenchmarkFailover(b *testing.B) {
	const trials = 20
	c := testcluster.Start(b, testcluster.Options{Configure: func(i int, cfg *cluster.Config) {
		d := cluster.DefaultConfig()
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
	}})
	var times []time.Duration
	for trial := 0; trial < trials; trial++ {
		leader := c.Leader(20 * time.Second)
		if v := setOnce(leader.ClientAddr(), "warm", fmt.Sprint(trial)); v != "1" {
			b.Fatalf("write before kill: %q", v)
		}
		var others []string
		for _, n := range c.Nodes {
			if n != leader && c.Running(n.Index) {
				others = append(others, n.ClientAddr())
			}
		}
		killed := time.Now()
		c.Kill(leader.Index)
		for done := false; !done; {
			if time.Since(killed) > 30*time.Second {
				b.Fatal("no write acknowledged within 30s of the kill")
			}
			for _, addr := range others {
				if setOnce(addr, "failover", fmt.Sprint(trial)) == "1" {
					done = true
					break
				}
			}
		}
		times = append(times, time.Since(killed))
		c.StartNode(leader.Index)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	median := times[len(times)/2]
	p99 := times[len(times)-1] // of 20 trials, p99 is the worst
	b.ReportMetric(float64(median.Milliseconds()), "median-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
	b.Logf("failover (leader killed -> first acknowledged write), %d trials: median %v, p99 %v, all %v", trials, median, p99, times)
}

// setOnce sends SET on a fresh connection and returns the reply text ("" on
// a network error), without following redirects.
func setOnce(addr, key, val string) string {
	nc, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return ""
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := nc.Write(resp.AppendCommand(nil, "SET", key, val)); err != nil {
		return ""
	}
	v, err := resp.NewReader(nc, resp.Limits{}).ReadValue()
	if err != nil {
		return ""
	}
	return v.Text()
}
