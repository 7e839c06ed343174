package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Plain redis-py, connected to a follower started with --follower-mode
// proxy, is served by the leader over its own connection: SET/GET,
// pipelines (also one that is a connection's first bytes, handed over in
// mid-batch), MULTI/EXEC with WATCH (a conflicting write from a second
// client makes EXEC answer nil), BLPOP woken by another client's RPUSH,
// SUBSCRIBE/PUBLISH; a connection that said READWRITE still gets MOVED.
// A follower in the default redirect mode answers plain redis-py MOVED.
// Both clusters start before either is waited for, so the test takes a
// few seconds.
func TestProxy_RedisPy(t *testing.T) {
	python := "/usr/bin/python3" // Debian's, which python3-redis installs into
	if err := exec.Command(python, "-c", "import redis").Run(); err != nil {
		t.Skip("python3-redis not installed (apt-get install python3-redis)")
	}
	proxied := launchModeCluster(t, "proxy")
	redirected := launchModeCluster(t, "redirect")
	for _, mode := range []struct {
		name  string
		procs []*proc
	}{{"proxy", proxied}, {"redirect", redirected}} {
		leader, follower := leaderAndFollower(t, mode.procs)
		host, fport, _ := strings.Cut(follower.addr, ":")
		_, lport, _ := strings.Cut(leader.addr, ":")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, python, "testdata/proxy_redispy.py", mode.name, host, fport, lport).CombinedOutput()
		cancel()
		if err != nil || strings.TrimSpace(string(out)) != "OK" {
			t.Fatalf("redis-py on a follower in %s mode (leader %s, follower %s): %v\n%s",
				mode.name, leader.addr, follower.addr, err, out)
		}
	}
}

// launchModeCluster launches three kvorum-server processes (resp2, as
// redis-py's users run it) that form one cluster by gossip, with
// --follower-mode mode, and waits until each serves.
func launchModeCluster(t *testing.T, mode string) []*proc {
	t.Helper()
	gossip := freeGossipAddrs(t, 3)
	procs := make([]*proc, 3)
	for i := range procs {
		procs[i] = launch(t, t.TempDir(), "--node-id", "n"+strconv.Itoa(i+1), "--gossip-addr", gossip[i],
			"--join", strings.Join(gossip, ","), "--bootstrap-expect", "3", "--protocol", "resp2",
			"--follower-mode", mode)
	}
	for _, p := range procs {
		p.waitServing()
	}
	return procs
}

// leaderAndFollower waits until the three nodes agree on a leader that
// serves (through SENTINEL, as waitSentinelMaster does), and returns it
// and one of the two followers, which names it.
func leaderAndFollower(t *testing.T, procs []*proc) (leader, follower *proc) {
	t.Helper()
	leader = waitSentinelMaster(t, procs, "mymaster")
	for _, p := range procs {
		if p != leader {
			return leader, p
		}
	}
	panic("unreachable")
}
