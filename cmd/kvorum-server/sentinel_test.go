package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// failoverBudget is how soon after the leader's crash redis-py's Sentinel
// client must write again.
const failoverBudget = 3 * time.Second

// A plain redis-py Sentinel client rides through a failover: pointed at
// the three nodes as sentinels, Sentinel.master_for finds the leader; after
// the leader is killed (SIGKILL, its data kept), the same client object
// writes again within failoverBudget by retrying on ConnectionError alone,
// the write acknowledged before the crash is there, and each surviving
// node publishes +switch-master. Each node's --sentinel-listen port names
// the same master as its client port, before and after the failover.
// TestSentinel_RedisPyFailoverWithPassword runs it with --requirepass.
func TestSentinel_RedisPyFailover(t *testing.T) {
	redisPySentinelFailover(t, "")
}

// redisPySentinelFailover is TestSentinel_RedisPyFailover's scenario. With
// a password, the nodes run with --requirepass password, redis-py is
// configured with it as a user would (redisPyWithPassword: sentinel_kwargs
// for the Sentinel connections, password= for the master's and the
// script's direct ones), and both the client and the Sentinel port answer
// -NOAUTH to a SENTINEL command sent without AUTH.
func redisPySentinelFailover(t *testing.T, password string) {
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
		flags := []string{"--node-id", "n" + strconv.Itoa(i+1), "--gossip-addr", gossip[i],
			"--join", strings.Join(gossip, ","), "--bootstrap-expect", "3", "--protocol", "resp2",
			"--sentinel-master", name, "--sentinel-listen", "127.0.0.1:0"}
		if password != "" {
			flags = append(flags, "--requirepass", password)
		}
		procs[i] = launch(t, t.TempDir(), flags...)
	}
	for _, p := range procs {
		p.waitServing()
	}
	leader := waitSentinelMasterAs(t, procs, name, password)
	t.Logf("leader %s", leader.addr)
	checkSentinelPorts(t, procs, name, password, leader)

	host, _, _ := strings.Cut(procs[0].addr, ":")
	args := []string{"testdata/sentinel_failover.py", host}
	for _, p := range procs {
		_, port, _ := strings.Cut(p.addr, ":")
		args = append(args, port)
	}
	args = append(args, name, strconv.FormatFloat(failoverBudget.Seconds(), 'f', -1, 64))
	if password != "" {
		args = append([]string{"-c", redisPyWithPassword, password}, args...)
	}
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
	var survivors []*proc
	for _, p := range procs {
		if p != leader {
			survivors = append(survivors, p)
		}
	}
	checkSentinelPorts(t, survivors, name, password, survivor)
}

// checkSentinelPorts checks, on each node of procs, that SENTINEL
// GET-MASTER-ADDR-BY-NAME sent without AUTH answers -NOAUTH on the client
// port and on the --sentinel-listen port if password is set, and that the
// Sentinel port (after AUTH password, if set) names master, waiting for a
// follower to settle on a new leader (sentinelSettle in cluster/door).
func checkSentinelPorts(t *testing.T, procs []*proc, name, password string, master *proc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for _, p := range procs {
		sentinel, err := p.sentinelAddr(ctx)
		if err != nil {
			t.Fatalf("%s: %v", p.addr, err)
		}
		if password != "" {
			for _, addr := range []string{p.addr, sentinel} {
				v, err := resptest.Ask(addr, "SENTINEL", "get-master-addr-by-name", name)
				if err != nil || !errors.Is(resp.AsError(v), errNoAuth) {
					t.Fatalf("SENTINEL without AUTH on %s = %v, %v, want -NOAUTH", addr, v, err)
				}
			}
		}
		if err := pollUntil(ctx, func() (bool, string) {
			v, err := askAs(sentinel, password, "SENTINEL", "get-master-addr-by-name", name)
			if err != nil || v.Len() != 2 {
				return false, fmt.Sprint(v, err)
			}
			addr := net.JoinHostPort(v.Elems()[0].Text(), v.Elems()[1].Text())
			return addr == master.addr, addr
		}); err != nil {
			t.Fatalf("the Sentinel port %s of %s naming the master %s: %v", sentinel, p.addr, master.addr, err)
		}
	}
}

// sentinelAddr waits for the node's "serving sentinel clients" log line
// and returns the --sentinel-listen address it names.
func (p *proc) sentinelAddr(ctx context.Context) (string, error) {
	var addr string
	err := pollUntil(ctx, func() (bool, string) {
		m := sentinelServingRE.FindStringSubmatch(p.log.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil, "no \"serving sentinel clients\" line logged"
	})
	return addr, err
}

var sentinelServingRE = regexp.MustCompile(`msg="serving sentinel clients" .*\bsentinel=(\S+)`)

// waitSentinelMaster waits until every node names the same master through
// SENTINEL, sees the two others, and that master serves reads; it returns
// the master's process.
func waitSentinelMaster(t *testing.T, procs []*proc, name string) *proc {
	t.Helper()
	return waitSentinelMasterAs(t, procs, name, "")
}

// waitSentinelMasterAs is waitSentinelMaster with every request sent after
// AUTH password, unless password is "".
func waitSentinelMasterAs(t *testing.T, procs []*proc, name, password string) *proc {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	last := ""
	for time.Now().Before(deadline) {
		var master *proc
		agreed := true
		for _, p := range procs {
			v, err := askAs(p.addr, password, "SENTINEL", "get-master-addr-by-name", name)
			s, serr := askAs(p.addr, password, "SENTINEL", "sentinels", name)
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
			if v, err := askAs(master.addr, password, "EXISTS", "readiness-probe"); err == nil && !v.IsError() {
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
