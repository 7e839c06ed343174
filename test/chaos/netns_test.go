package chaos

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The netns mode runs the same schedules with each node in a network
// namespace of its own, joined by a bridge, and cuts links with iptables
// DROP rules inside the namespaces: packets vanish silently (no reset, no
// refused connection, as on a real network that loses a switch port), and
// a cut stops gossip (memberlist's UDP and TCP) as well as Raft. The test
// process reaches the nodes over a veth pair into the bridge, from an
// address of a /24 in 198.18.0.0/15 (RFC 2544's benchmarking range, never
// routed) that no interface of the machine already uses. Every namespace
// and link it makes is removed in t.Cleanup. It needs root, iproute2 and
// iptables; without them it skips.
//
// Linux's netem qdisc, which slow would need, is not available on every
// kernel (not on this project's CI machines), so in this mode a slow step
// is recorded as skipped.

// netnsNet cuts links with iptables rules in the nodes' namespaces: each
// rule drops packets between two node addresses, so clients (from the
// host's address) still reach every node, as in the proxy mode.
type netnsNet struct {
	t  *testing.T
	ip map[*node]string // each node's address
}

// drop adds DROP rules in nd's namespace for packets from (INPUT) and to
// (OUTPUT) peer, as asked.
func (n netnsNet) drop(nd, peer *node, in, out bool) {
	if in {
		mustRun(n.t, "ip", "netns", "exec", nd.netns, "iptables", "-A", "INPUT", "-s", n.ip[peer], "-j", "DROP")
	}
	if out {
		mustRun(n.t, "ip", "netns", "exec", nd.netns, "iptables", "-A", "OUTPUT", "-d", n.ip[peer], "-j", "DROP")
	}
}

func (n netnsNet) isolate(nd *node, others []*node) {
	for _, o := range others {
		n.drop(nd, o, true, true)
	}
}

// cutOutbound drops what nd sends to others. Unlike a proxy's cut, it
// also drops nd's answers to their requests: TCP needs both directions,
// so for Raft a one-way packet loss cuts the link both ways, while
// memberlist's UDP pings still reach nd.
func (n netnsNet) cutOutbound(nd *node, others []*node) {
	for _, o := range others {
		n.drop(nd, o, false, true)
	}
}

func (n netnsNet) cut(a, b *node) { n.drop(a, b, true, true) }

func (n netnsNet) slow(*node, []*node, time.Duration) error { return errCannotSlow }

func (n netnsNet) heal(nodes []*node) {
	for _, nd := range nodes {
		mustRun(n.t, "ip", "netns", "exec", nd.netns, "iptables", "-F")
	}
}

// mustRun runs a command and fails the test with its output if it fails.
func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// netnsUsable reports why namespaces cannot be made here, or "".
func netnsUsable() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	for _, bin := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " is not installed (apt-get install iproute2 iptables)"
		}
	}
	name := "kvprobe" + randHex(4)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Sprintf("ip netns add: %v: %s", err, bytes.TrimSpace(out))
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	if out, err := exec.Command("ip", "netns", "exec", name, "iptables", "-L", "-n").CombinedOutput(); err != nil {
		return fmt.Sprintf("iptables in a namespace: %v: %s", err, bytes.TrimSpace(out))
	}
	return ""
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startNetnsCluster makes n namespaces on a bridge, with the host on it
// too, and starts a node in each on the default ports.
func startNetnsCluster(t *testing.T, bin string, n int, logDir string, extra ...string) *cluster {
	t.Helper()
	tag := randHex(3)
	subnet := freeSubnet(t)
	sw := "kvsw" + tag
	mustRun(t, "ip", "netns", "add", sw)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", sw).Run() })
	mustRun(t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	mustRun(t, "ip", "-n", sw, "link", "set", "br0", "up")
	// The host's leg: deleting the namespace deletes its end, and so both.
	host := "kvh" + tag
	mustRun(t, "ip", "link", "add", host, "type", "veth", "peer", "name", "up0", "netns", sw)
	t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
	mustRun(t, "ip", "-n", sw, "link", "set", "up0", "master", "br0", "up")
	mustRun(t, "ip", "addr", "add", subnet+".254/24", "dev", host)
	mustRun(t, "ip", "link", "set", host, "up")

	netw := netnsNet{t: t, ip: map[*node]string{}}
	var nodes []*node
	for i := range n {
		ns := fmt.Sprintf("kvn%d%s", i+1, tag)
		mustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		leg := fmt.Sprintf("n%d", i+1)
		mustRun(t, "ip", "-n", sw, "link", "add", leg, "type", "veth", "peer", "name", "eth0", "netns", ns)
		mustRun(t, "ip", "-n", sw, "link", "set", leg, "master", "br0", "up")
		addr := fmt.Sprintf("%s.%d", subnet, i+1)
		mustRun(t, "ip", "-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
		mustRun(t, "ip", "-n", ns, "link", "set", "eth0", "up")
		mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
		nd := &node{id: fmt.Sprintf("n%d", i+1), dir: t.TempDir(), netns: ns,
			client: addr + ":31337", raft: addr + ":31338", gossip: addr + ":31339"}
		nd.advertiseRaft = nd.raft
		netw.ip[nd] = addr
		nodes = append(nodes, nd)
	}
	// The nodes listen beyond loopback with no password: protected mode
	// would turn the host's clients away.
	return launchCluster(t, bin, nodes, netw, logDir, append([]string{"--protected-mode", "no"}, extra...)...)
}

// freeSubnet picks a /24 of 198.18.0.0/15 that no address of the machine
// is in.
func freeSubnet(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ip", "-4", "addr").Output()
	if err != nil {
		t.Fatalf("ip -4 addr: %v", err)
	}
	for range 64 {
		b := make([]byte, 2)
		rand.Read(b)
		s := fmt.Sprintf("198.%d.%d", 18+int(b[0]&1), b[1])
		if !bytes.Contains(out, []byte(" "+s+".")) {
			return s
		}
	}
	t.Fatal("no free /24 in 198.18.0.0/15")
	return ""
}

// TestChaos_Netns runs schedules (KVORUM_CHAOS_RUNS, default 1, of
// KVORUM_CHAOS_DURATION, default 30 s) with the nodes in network
// namespaces and the cuts made by iptables. It is a fault test
// (KVORUM_FAULTS=1), and skips where namespaces cannot be made.
func TestChaos_Netns(t *testing.T) {
	if os.Getenv("KVORUM_FAULTS") == "" {
		t.Skip("set KVORUM_FAULTS=1 to run the chaos schedules in network namespaces")
	}
	if why := netnsUsable(); why != "" {
		t.Skipf("network namespaces cannot be made here: %s", why)
	}
	runSchedules(t, 30*time.Second, func(t *testing.T, logDir string, extra ...string) *cluster {
		return startNetnsCluster(t, serverBin, 3, logDir, extra...)
	})
}
