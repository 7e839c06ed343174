package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
)

// failoverBudget is how soon after the leader's crash redis-py's Sentinel
// client must write again.
const failoverBudget = 3 * time.Second

// A plain redis-py Sentinel client rides through a failover: pointed at
// the three nodes as sentinels, Sentinel.master_for finds the leader; after
// the leader is killed (SIGKILL, its data kept), the same client object
// writes again within failoverBudget by retrying on ConnectionError alone,
// the write acknowledged before the crash is there, and each surviving
// node publishes +switch-master.
func TestSentinel_RedisPyFailover(t *testing.T) {
	if os.Getenv("KVORUM_FAULTS") != "1" {
		t.Skip("set KVORUM_FAULTS=1 to run the redis-py Sentinel failover test (it kills a server; .ci/run does)")
	}
	python := "/usr/bin/python3" // Debian's, which python3-redis installs into
	if err := exec.Command(python, "-c", "import redis.sentinel").Run(); err != nil {
		t.Skip("python3-redis not installed (apt-get install python3-redis)")
	}
	const name = "queues"
	gossip := freeGossipAddrs(t, 3)
	procs := make([]*proc, 3)
	for i := range procs {
		procs[i] = launch(t, t.TempDir(), "--node-id", "n"+strconv.Itoa(i+1), "--gossip-addr", gossip[i],
			"--join", strings.Join(gossip, ","), "--bootstrap-expect", "3", "--protocol", "resp2",
			"--sentinel-master", name)
	}
	for _, p := range procs {
		p.waitServing()
	}
	leader := waitSentinelMaster(t, procs, name)
	t.Logf("leader %s", leader.addr)

	host, _, _ := strings.Cut(procs[0].addr, ":")
	args := []string{"testdata/sentinel_failover.py", host}
	for _, p := range procs {
		_, port, _ := strings.Cut(p.addr, ":")
		args = append(args, port)
	}
	args = append(args, name, strconv.FormatFloat(failoverBudget.Seconds(), 'f', -1, 64))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	py := exec.CommandContext(ctx, python, args...)
	var stderr bytes.Buffer
	py.Stderr = &stderr
	stdin, err := py.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := py.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := py.Start(); err != nil {
		t.Fatalf("start %s: %v", python, err)
	}
	lines := make(chan string)
	go func() { // ends when the script's stdout closes: at its exit, or its kill by ctx
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	exited := false
	t.Cleanup(func() {
		stdin.Close()
		if !exited {
			cancel()
			py.Wait()
		}
	})
	next := func(phase string) map[string]any {
		t.Helper()
		select {
		case line, ok := <-lines:
			var out map[string]any
			if ok && json.Unmarshal([]byte(line), &out) == nil && out["phase"] == phase {
				return out
			}
			exited = true
			err := py.Wait()
			t.Fatalf("waiting for the %s line, the script said %q (exit: %v)\n%s", phase, line, err, &stderr)
		case <-ctx.Done():
			t.Fatalf("no %s line from the script within its deadline\n%s", phase, &stderr)
		}
		return nil
	}

	ready := next("ready")
	if ready["master"] != leader.addr {
		t.Fatalf("redis-py's master is %v, want the leader %s", ready["master"], leader.addr)
	}
	leader.signal(syscall.SIGKILL)
	killed := time.Now()
	if _, err := fmt.Fprintln(stdin, "killed"); err != nil {
		t.Fatalf("tell the script: %v", err)
	}
	done := next("done")
	t.Logf("redis-py wrote again %.3fs after the crash (%v from the kill to the report), after %d retries",
		done["seconds"], time.Since(killed).Round(time.Millisecond), len(done["errors"].([]any)))
	seen := map[any]bool{}
	for _, e := range done["errors"].([]any) {
		if !seen[e] {
			seen[e] = true
			t.Logf("retried on: %v", e)
		}
	}
	exited = true
	if err := py.Wait(); err != nil || done["ok"] != true {
		t.Fatalf("script: %v, %v\n%s", err, done, &stderr)
	}
	if s, _ := done["seconds"].(float64); s > failoverBudget.Seconds() {
		t.Fatalf("redis-py wrote again only after %.3fs, want within %v", s, failoverBudget)
	}
	var survivor *proc
	for _, p := range procs {
		if p != leader && p.addr == done["new"] {
			survivor = p
		}
	}
	if survivor == nil {
		t.Fatalf("new master %v is not a surviving node", done["new"])
	}
	oldHost, oldPort, _ := net.SplitHostPort(leader.addr)
	newHost, newPort, _ := net.SplitHostPort(survivor.addr)
	want := strings.Join([]string{name, oldHost, oldPort, newHost, newPort}, " ")
	switches, _ := done["switches"].([]any)
	if len(switches) != 2 || switches[0] != want || switches[1] != want {
		t.Fatalf("+switch-master messages from the two survivors = %v, want %q from each", switches, want)
	}
}

// waitSentinelMaster waits until every node names the same master through
// SENTINEL, sees the two others, and that master serves reads; it returns
// the master's process.
func waitSentinelMaster(t *testing.T, procs []*proc, name string) *proc {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	last := ""
	for time.Now().Before(deadline) {
		var master *proc
		agreed := true
		for _, p := range procs {
			v, err := resptest.Ask(p.addr, "SENTINEL", "get-master-addr-by-name", name)
			s, serr := resptest.Ask(p.addr, "SENTINEL", "sentinels", name)
			last = fmt.Sprintf("%s: %v %v, %d sentinels %v", p.addr, v, err, s.Len(), serr)
			if err != nil || serr != nil || v.Len() != 2 || s.Len() != 2 {
				agreed = false
				break
			}
			addr := net.JoinHostPort(v.Elems()[0].Text(), v.Elems()[1].Text())
			if master != nil && master.addr != addr {
				agreed = false
				break
			}
			for _, q := range procs {
				if q.addr == addr {
					master = q
				}
			}
			if master == nil {
				t.Fatalf("%s names master %s, none of the nodes", p.addr, addr)
			}
		}
		if agreed {
			if v, err := resptest.Ask(master.addr, "EXISTS", "readiness-probe"); err == nil && !v.IsError() {
				return master
			}
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not a wait for state
	}
	t.Fatalf("the nodes did not agree on a ready master within %v (last: %s)", startTimeout, last)
	return nil
}

// freeGossipAddrs returns n loopback addresses whose port was free for
// both TCP and UDP (memberlist binds both) a moment ago. Gossip needs
// fixed addresses: each node joins the others by theirs.
func freeGossipAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	var held []func()
	defer func() {
		for _, release := range held {
			release()
		}
	}()
	for len(addrs) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("reserve a gossip port: %v", err)
		}
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err != nil {
			ln.Close()
			continue
		}
		held = append(held, func() { ln.Close(); pc.Close() })
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}
