package e2e

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/test/e2e/exactlyonce"
)

// TestCompose_ExactlyOnceQueue is the exactly-once issue's acceptance test
// on the docker-compose cluster: four producers push 500 unique jobs each
// (client.Push, one client shared by the four) and four consumers Reserve
// and Ack them (another shared client), while the leader's container is
// `docker kill`ed twice, each time brought back with `docker-compose
// start` and awaited until healthy and caught up before the next. Every
// push is acknowledged, no call ends with client.ErrUnknownOutcome, and
// every job is reserved and acked exactly once, nothing left in pending
// or processing. It logs the counts, both clients' Stats and, for each
// kill, the time from the kill to the first acknowledged write.
//
// KVORUM_EO_KILLS=n kills n times instead of 2 (for more samples of the
// kill-to-first-ack time).
func TestCompose_ExactlyOnceQueue(t *testing.T) {
	if os.Getenv("KVORUM_E2E") != "1" {
		t.Skip("set KVORUM_E2E=1 to run the docker-compose end-to-end test (needs docker and docker-compose)")
	}
	kills := envInt(t, "KVORUM_EO_KILLS", 2)
	cl := upCluster(t)
	addrs, ids, root := cl.addrs, cl.ids, cl.c.root

	producer, err := client.New(client.Options{Addrs: addrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { producer.Close() })
	consumer, err := client.New(client.Options{Addrs: addrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { consumer.Close() })

	// The whole workload, kills and restarts included, has 3 minutes
	// (one more per extra kill); every call keeps this context, so the
	// client rides through each failover instead of giving up.
	budget := 3*time.Minute + time.Duration(max(kills-2, 0))*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	killed := -1
	res, err := exactlyonce.Run(ctx, exactlyonce.Config{
		Producer: producer, Consumer: consumer, Kills: cmp.Or(kills, -1),
		Queue: "eo:" + randomHex(t, 4),
		Logf:  t.Logf,
		Kill: func(ctx context.Context, n int) (exactlyonce.Killed, error) {
			leader := waitLeader(t, addrs, -1, 30*time.Second)
			issued := time.Now()
			if _, err := run(root, nil, 30*time.Second, "docker", "kill", ids[leader]); err != nil {
				return exactlyonce.Killed{}, err
			}
			waitFor(t, services[leader]+" not running after docker kill", 30*time.Second, func() (bool, string) {
				out, err := run(root, nil, 30*time.Second, "docker", "inspect", "-f", "{{.State.Running}}", ids[leader])
				return err == nil && out == "false", out + errOrEmpty(err)
			})
			killed = leader
			return exactlyonce.Killed{Node: services[leader], Issued: issued, Dead: time.Now()}, nil
		},
		Restart: func(ctx context.Context, n int) error {
			// The survivors elect a leader before the killed node is back,
			// so that each kill tests a failover.
			waitLeader(t, addrs, killed, 30*time.Second)
			if _, err := cl.c.run(time.Minute, "start", services[killed]); err != nil {
				return err
			}
			waitFor(t, services[killed]+" healthy again", time.Minute, allHealthy(root, ids[killed]))
			if leader := waitLeader(t, addrs, -1, 30*time.Second); leader != killed {
				waitCaughtUp(t, services[killed], addrs[killed], addrs[leader])
			}
			return nil
		},
	})
	if res != nil {
		res.Log(t.Logf)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems() {
		t.Error(p)
	}
	if len(res.Kills) != kills {
		t.Errorf("%d kills done, want %d", len(res.Kills), kills)
	}
}

// cluster is a docker-compose cluster up and healthy.
type cluster struct {
	c     *compose
	addrs []string // client addresses on the host, in services' order
	ids   []string // container ids, in services' order
}

// upCluster builds the image, starts the compose file under a random
// project name on free host ports, and waits for three healthy containers
// and a leader. Everything is removed in t.Cleanup.
func upCluster(t *testing.T) *cluster {
	t.Helper()
	for _, bin := range []string{"docker", "docker-compose"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("KVORUM_E2E=1 but %s is not installed: %v", bin, err)
		}
	}
	root := repoRoot(t)
	start := time.Now()
	out, err := run(root, nil, 10*time.Minute, filepath.Join(root, "scripts", "image.sh"))
	if err != nil {
		t.Fatalf("build the image: %v", err)
	}
	t.Logf("%s in %v", out, time.Since(start).Round(time.Millisecond))

	ports := buildtest.FreePorts(t, len(services))
	cl := &cluster{c: &compose{t: t, root: root, project: "kvorum-e2e-" + randomHex(t, 4),
		env: []string{"KVORUM_HOST=127.0.0.1", "KVORUM_IMAGE=kvorum:dev", "KVORUM_PROTOCOL=native"}}}
	for i, p := range ports {
		cl.addrs = append(cl.addrs, fmt.Sprintf("127.0.0.1:%d", p))
		cl.c.env = append(cl.c.env, fmt.Sprintf("KVORUM%d_PORT=%d", i+1, p))
	}
	t.Logf("project %s, client ports %v", cl.c.project, ports)
	t.Cleanup(cl.c.down)
	start = time.Now()
	cl.c.must(3*time.Minute, "up", "-d")
	for _, s := range services {
		cl.ids = append(cl.ids, cl.c.container(s))
	}
	waitFor(t, "three healthy containers", time.Minute, allHealthy(root, cl.ids...))
	waitLeader(t, cl.addrs, -1, 30*time.Second)
	t.Logf("docker-compose up to three healthy nodes and a leader: %v", time.Since(start).Round(time.Millisecond))
	return cl
}

// raftInfo returns one field of a node's INFO raft.
func raftInfo(addr, field string) (string, error) {
	v, err := ask(addr, "INFO", "raft")
	if err != nil {
		return "", err
	}
	if v.IsError() {
		return "", fmt.Errorf("INFO raft: %s", v.Text())
	}
	for _, line := range strings.Split(v.Text(), "\r\n") {
		if val, ok := strings.CutPrefix(line, field+":"); ok {
			return val, nil
		}
	}
	return "", fmt.Errorf("INFO raft has no %s: %q", field, v.Text())
}

// waitCaughtUp waits until the node at addr is a follower with a live
// link to the leader and has applied everything the leader had committed
// when the wait began.
func waitCaughtUp(t *testing.T, name, addr, leader string) {
	t.Helper()
	waitFor(t, name+" a follower with a live link to the leader", 30*time.Second, func() (bool, string) {
		r, info, err := role(addr)
		if err != nil {
			return false, err.Error()
		}
		return r == "slave" && strings.Contains(info, "master_link_status:up"), info
	})
	s, err := raftInfo(leader, "raft_commit_index")
	if err != nil {
		t.Fatalf("leader %s: %v", leader, err)
	}
	commit, _ := strconv.ParseUint(s, 10, 64)
	waitFor(t, fmt.Sprintf("%s to apply the leader's commit index %d", name, commit), 30*time.Second, func() (bool, string) {
		s, err := raftInfo(addr, "raft_applied_index")
		if err != nil {
			return false, err.Error()
		}
		applied, _ := strconv.ParseUint(s, 10, 64)
		return applied >= commit, "applied " + s
	})
}

// envInt returns the integer in environment variable name, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", name, s)
	}
	return n
}
