package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCompose_LeaderNetworkDisconnected partitions the leader with Docker
// itself: `docker network disconnect` takes the leader's container off
// the compose network while a smart-client writer runs (its Raft, gossip
// and published client port all go). The other two elect a leader that
// serves writes; the cut-off leader, still running, steps down (it cannot
// reach a quorum) and acknowledges nothing; `docker network connect` puts
// it back, and it rejoins as a follower with every acknowledged write.
func TestCompose_LeaderNetworkDisconnected(t *testing.T) {
	if os.Getenv("KVORUM_E2E") != "1" {
		t.Skip("set KVORUM_E2E=1 to run the docker-compose end-to-end tests (needs docker and docker-compose)")
	}
	root := repoRoot(t)
	cl := upCluster(t)
	addrs, ids := cl.addrs, cl.ids
	leader := waitLeader(t, addrs, -1, 30*time.Second)
	network := inspect(t, root, ids[leader], "{{range $n, $e := .NetworkSettings.Networks}}{{$n}}{{end}}")

	w := startWriter(t, addrs)
	waitFor(t, "100 acknowledged writes before the partition", 30*time.Second, func() (bool, string) {
		n := w.count()
		return n >= 100, fmt.Sprintf("%d acked", n)
	})
	cut := time.Now()
	if _, err := run(root, nil, 30*time.Second, "docker", "network", "disconnect", network, ids[leader]); err != nil {
		t.Fatal(err)
	}
	reconnected := false
	reconnect := func() {
		if !reconnected {
			reconnected = true
			if _, err := run(root, nil, 30*time.Second, "docker", "network", "connect", "--alias", services[leader], network, ids[leader]); err != nil {
				t.Errorf("docker network connect: %v", err)
			}
		}
	}
	t.Cleanup(reconnect)
	newLeader := waitLeader(t, addrs, leader, 30*time.Second)
	before := w.count()
	waitFor(t, "100 acknowledged writes through the new leader", 30*time.Second, func() (bool, string) {
		n := w.count()
		return n >= before+100, fmt.Sprintf("%d acked", n)
	})
	t.Logf("leader %s disconnected; %s leads, and the writer went on %v after the cut", services[leader], services[newLeader], time.Since(cut).Round(time.Millisecond))

	// The cut-off node steps down (Raft's lease: it hears no quorum), as
	// its own log says; its client port is gone with its network.
	since := cut.Add(-time.Second).UTC().Format(time.RFC3339Nano)
	waitFor(t, services[leader]+" to step down while cut off", 30*time.Second, func() (bool, string) {
		// The node logs to stderr; docker logs gives it back there.
		out, err := run(root, nil, 10*time.Second, "sh", "-c", "docker logs --since "+since+" "+ids[leader]+" 2>&1")
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(out, "entering follower state"), "no \"entering follower state\" in its log since the cut"
	})

	reconnect()
	acks, gap := w.stop(cut)
	t.Logf("writer: %d writes acknowledged; its longest wait across the partition: %v", len(acks), gap.Round(time.Millisecond))
	back := addrs[leader]
	waitFor(t, services[leader]+" a follower with a live link to the leader", time.Minute, func() (bool, string) {
		r, info, err := role(back)
		if err != nil {
			return false, err.Error()
		}
		return r == "slave" && strings.Contains(info, "master_link_status:up"), info
	})
	rc, err := dialNode(back)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	if v, err := rc.do("READONLY"); err != nil || v.Text() != "OK" {
		t.Fatalf("READONLY on %s = %v, %v", services[leader], v, err)
	}
	last := acks[len(acks)-1]
	waitFor(t, services[leader]+" to catch up to the last acknowledged write", 30*time.Second, func() (bool, string) {
		v, err := rc.do("GET", last)
		if err != nil {
			return false, err.Error()
		}
		return v.Text() == last, v.String()
	})
	for _, a := range []string{addrs[newLeader], back} {
		nc, err := dialNode(a)
		if err != nil {
			t.Fatal(err)
		}
		nc.do("READONLY")
		for _, k := range acks {
			if v, err := nc.do("GET", k); err != nil || v.Text() != k {
				nc.close()
				t.Fatalf("%s: GET %s = %v, %v: an acknowledged write is missing", a, k, v, err)
			}
		}
		nc.close()
	}
	t.Logf("all %d acknowledged writes on the new leader and on the rejoined %s", len(acks), services[leader])
}
