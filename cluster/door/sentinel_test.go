package door_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// Redis 7's field names, in its order, for a master and a replica that
// are not down, and for a sentinel.
var (
	masterFields = []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds", "info-refresh",
		"role-reported", "role-reported-time", "config-epoch", "num-slaves", "num-other-sentinels", "quorum",
		"failover-timeout", "parallel-syncs"}
	replicaFields = []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds", "info-refresh",
		"role-reported", "role-reported-time", "master-link-down-time", "master-link-status", "master-host",
		"master-port", "slave-priority", "slave-repl-offset", "replica-announced"}
	sentinelFields = []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds",
		"last-hello-message", "voted-leader", "voted-leader-epoch"}
)

// instance reads one Sentinel instance reply, a flat array of field/value
// bulk strings as RESP2 sends it, into its field names (in order) and a map.
func instance(t *testing.T, v resp.Value) ([]string, map[string]string) {
	t.Helper()
	if v.Kind() != resp.KindArray || v.Len()%2 != 0 {
		t.Fatalf("instance = %v, want a flat array of field/value pairs", v)
	}
	var names []string
	m := map[string]string{}
	for i := 0; i < len(v.Elems()); i += 2 {
		k, val := v.Elems()[i], v.Elems()[i+1]
		if k.Kind() != resp.KindBulk || val.Kind() != resp.KindBulk {
			t.Fatalf("field %v = %v: Redis sends both as bulk strings", k, val)
		}
		names = append(names, k.Text())
		m[k.Text()] = val.Text()
	}
	return names, m
}

func sameFields(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("%s fields = %v\nwant Redis's %v", what, got, want)
	}
}

// sentinelConn is a RESP2 connection, as redis-py's.
func sentinelConn(t *testing.T, addr string) *resptest.Conn {
	t.Helper()
	c := resptest.Dial(t, addr)
	t.Cleanup(func() { c.Close() })
	c.Do(t, "HELLO", "2")
	return c
}

// On a lone leader, the master is the node itself, with no replicas and no
// other sentinels; replies are Redis 7's, field for field.
func TestSentinel_Leader(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	host, port, _ := net.SplitHostPort(addr)
	c := sentinelConn(t, addr)
	if v := c.Do(t, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"); v.String() != `["`+host+`", "`+port+`"]` {
		t.Fatalf("get-master-addr-by-name = %v, want [%s %s]", v, host, port)
	}
	if v := c.Do(t, "SENTINEL", "get-master-addr-by-name", "other"); !v.IsNull() || v.Kind() != resp.KindArray {
		t.Fatalf("get-master-addr-by-name of an unknown name = %v, want a null array", v)
	}
	masters := c.Do(t, "SENTINEL", "MASTERS")
	if masters.Len() != 1 {
		t.Fatalf("SENTINEL MASTERS = %v, want one master", masters)
	}
	for _, v := range []resp.Value{masters.Elems()[0], c.Do(t, "SENTINEL", "MASTER", "mymaster")} {
		names, m := instance(t, v)
		sameFields(t, "master", names, masterFields)
		want := map[string]string{"name": "mymaster", "ip": host, "port": port, "flags": "master",
			"role-reported": "master", "num-slaves": "0", "num-other-sentinels": "0", "quorum": "1", "config-epoch": "1"}
		for k, w := range want {
			if m[k] != w {
				t.Fatalf("master %s = %q, want %q (%v)", k, m[k], w, v)
			}
		}
		if len(m["runid"]) != 40 {
			t.Fatalf("master runid = %q, want 40 hex digits", m["runid"])
		}
	}
	for _, sub := range []string{"REPLICAS", "SLAVES", "SENTINELS"} {
		if v := c.Do(t, "SENTINEL", sub, "mymaster"); v.Kind() != resp.KindArray || v.Len() != 0 {
			t.Fatalf("SENTINEL %s of a lone node = %v, want an empty array", sub, v)
		}
	}
	if v := c.Do(t, "SENTINEL", "CKQUORUM", "mymaster"); v.Kind() != resp.KindSimple ||
		v.Text() != "OK 1 usable Sentinels. Quorum and failover authorization can be reached" {
		t.Fatalf("ckquorum = %v", v)
	}
	if v := c.Do(t, "SENTINEL", "MYID"); v.Kind() != resp.KindBulk || len(v.Text()) != 40 {
		t.Fatalf("myid = %v", v)
	}
	for _, args := range [][]string{{"MASTER", "other"}, {"REPLICAS", "other"}, {"SENTINELS", "other"}, {"CKQUORUM", "other"}} {
		if v := c.Do(t, append([]string{"SENTINEL"}, args...)...); v.Text() != "ERR No such master with that name" {
			t.Fatalf("SENTINEL %v = %v", args, v)
		}
	}
	for args, want := range map[string]string{
		"MASTERS x":  "ERR wrong number of arguments for 'sentinel|masters' command",
		"MASTER":     "ERR wrong number of arguments for 'sentinel|master' command",
		"BOGUS":      "ERR unknown subcommand 'BOGUS'. Try SENTINEL HELP.",
		"MONITOR":    "ERR SENTINEL MONITOR is not supported: kvorum's master is the Raft leader",
		"FAILOVER x": "ERR SENTINEL FAILOVER is not supported: kvorum's master is the Raft leader",
	} {
		if v := c.Do(t, append([]string{"SENTINEL"}, strings.Fields(args)...)...); !v.IsError() || v.Text() != want {
			t.Fatalf("SENTINEL %s = %v, want %s", args, v, want)
		}
	}
	// RESP3 gets a map, as from redis-sentinel.
	c.Do(t, "HELLO", "3")
	if v := c.Do(t, "SENTINEL", "MASTER", "mymaster"); v.Kind() != resp.KindDict || v.Len() != len(masterFields) {
		t.Fatalf("SENTINEL MASTER in RESP3 = %v, want a map of %d fields", v, len(masterFields))
	}
}

// clusterStore is a fakeStore whose Status lists the servers a test sets,
// as a node of a three-node cluster would see them.
type clusterStore struct {
	*fakeStore
	mu      sync.Mutex
	servers []door.Server
}

func (s *clusterStore) Status() door.Status {
	st := s.fakeStore.Status()
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Servers = append([]door.Server(nil), s.servers...)
	return st
}

func (s *clusterStore) set(servers ...door.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers = servers
}

// startCluster serves a door, with master name name, on a follower of a
// three-node cluster led by 127.0.0.1:7001 (n1); n3 is 127.0.0.1:7003.
func startCluster(t *testing.T, name string) (*clusterStore, string, func(leaderFailed, n3Failed bool)) {
	t.Helper()
	s := &clusterStore{fakeStore: newFakeStore()}
	addr := serve(t, s.fakeStore, door.New(door.Config{Store: s, SentinelMaster: name}))
	set := func(leaderFailed, n3Failed bool) {
		s.set(door.Server{ID: "n1", ClientAddr: "127.0.0.1:7001", Leader: true, Voter: true, Failed: leaderFailed},
			door.Server{ID: "fake", ClientAddr: addr, Voter: true},
			door.Server{ID: "n3", ClientAddr: "127.0.0.1:7003", Voter: true, Failed: n3Failed})
	}
	set(false, false)
	s.stepDown("127.0.0.1:7001")
	return s, addr, set
}

// A follower names the leader its -MOVED names, lists the other servers as
// replicas and the other nodes as sentinels; a leader gossip marks failed
// or no leader at all is no master (null address, flagged s_down), never
// a stale one.
func TestSentinel_Follower(t *testing.T) {
	t.Parallel()
	s, addr, set := startCluster(t, "queue")
	c := sentinelConn(t, addr)
	// A follower names a leader once it has seen it for a moment (the
	// leader may still be applying its term's barrier); until then, none.
	if v := c.Do(t, "SENTINEL", "get-master-addr-by-name", "queue"); !v.IsNull() {
		t.Fatalf("get-master-addr-by-name on a follower seeing the leader for the first time = %v, want null", v)
	}
	resptest.WaitFor(t, "the follower to name the leader 127.0.0.1:7001", 5*time.Second, func() bool {
		return c.Do(t, "SENTINEL", "get-master-addr-by-name", "queue").String() == `["127.0.0.1", "7001"]`
	})
	if v := c.Do(t, "SENTINEL", "get-master-addr-by-name", "mymaster"); !v.IsNull() {
		t.Fatalf("get-master-addr-by-name of the default name when configured otherwise = %v, want null", v)
	}
	_, m := instance(t, c.Do(t, "SENTINEL", "MASTER", "queue"))
	for k, w := range map[string]string{"name": "queue", "ip": "127.0.0.1", "port": "7001", "flags": "master",
		"num-slaves": "2", "num-other-sentinels": "2", "quorum": "2"} {
		if m[k] != w {
			t.Fatalf("master %s = %q, want %q", k, m[k], w)
		}
	}
	replicas := c.Do(t, "SENTINEL", "REPLICAS", "queue")
	if replicas.Len() != 2 {
		t.Fatalf("replicas = %v, want 2", replicas)
	}
	names, r := instance(t, replicas.Elems()[0])
	sameFields(t, "replica", names, replicaFields)
	_, self, _ := net.SplitHostPort(addr)
	for k, w := range map[string]string{"name": addr, "port": self, "flags": "slave", "master-host": "127.0.0.1",
		"master-port": "7001", "master-link-status": "ok", "role-reported": "slave"} {
		if r[k] != w {
			t.Fatalf("replica %s = %q, want %q", k, r[k], w)
		}
	}
	sentinels := c.Do(t, "SENTINEL", "SENTINELS", "queue")
	if sentinels.Len() != 2 {
		t.Fatalf("sentinels = %v, want the 2 other nodes", sentinels)
	}
	names, sn := instance(t, sentinels.Elems()[1])
	sameFields(t, "sentinel", names, sentinelFields)
	if sn["port"] != "7003" || sn["flags"] != "sentinel" || sn["name"] != sn["runid"] {
		t.Fatalf("sentinel n3 = %v", sn)
	}

	// n3 fails: still a quorum (2 of 3), n3 flagged down.
	set(false, true)
	if v := c.Do(t, "SENTINEL", "CKQUORUM", "queue"); v.Text() != "OK 2 usable Sentinels. Quorum and failover authorization can be reached" {
		t.Fatalf("ckquorum with one of three failed = %v", v)
	}
	_, r = instance(t, c.Do(t, "SENTINEL", "REPLICAS", "queue").Elems()[1])
	if r["flags"] != "slave,s_down" {
		t.Fatalf("failed replica flags = %q", r["flags"])
	}
	// The leader fails too: no master, no quorum.
	set(true, true)
	if v := c.Do(t, "SENTINEL", "get-master-addr-by-name", "queue"); !v.IsNull() {
		t.Fatalf("get-master-addr-by-name with the leader failed = %v, want null", v)
	}
	_, m = instance(t, c.Do(t, "SENTINEL", "MASTER", "queue"))
	if m["flags"] != "master,s_down" || m["port"] != "7001" || m["s-down-time"] == "" {
		t.Fatalf("failed master = %v, want 7001 flagged s_down with its s-down-time", m)
	}
	if v := c.Do(t, "SENTINEL", "CKQUORUM", "queue"); !strings.HasPrefix(v.Text(), "NOQUORUM 1 usable Sentinels.") {
		t.Fatalf("ckquorum with two of three failed = %v", v)
	}
	// No leader known (an election): no master; MASTERS shows the last
	// one seen, down.
	s.set(door.Server{ID: "n1", ClientAddr: "127.0.0.1:7001", Voter: true},
		door.Server{ID: "fake", ClientAddr: addr, Voter: true},
		door.Server{ID: "n3", ClientAddr: "127.0.0.1:7003", Voter: true})
	s.stepDown("")
	if v := c.Do(t, "SENTINEL", "get-master-addr-by-name", "queue"); !v.IsNull() {
		t.Fatalf("get-master-addr-by-name with no leader = %v, want null", v)
	}
	_, m = instance(t, c.Do(t, "SENTINEL", "MASTERS").Elems()[0])
	if m["flags"] != "master,s_down" || m["port"] != "7001" {
		t.Fatalf("master during an election = %v, want the last one seen, s_down", m)
	}
	if v := c.Do(t, "SENTINEL", "REPLICAS", "queue"); v.Len() != 2 {
		t.Fatalf("replicas during an election = %v", v)
	}
}

// readMessage reads the next push from c within 5s.
func readMessage(t *testing.T, c *resptest.Conn, what string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	v, err := c.ReadValue()
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return v.String()
}

// +switch-master is subscribed on any node, is not closed when leadership
// ends, and tells of each change of master the node sees, also across a
// time with none.
func TestSentinel_SwitchMaster(t *testing.T) {
	t.Parallel()
	s, addr := startDoor(t)
	host, port, _ := net.SplitHostPort(addr)
	onLeader := resptest.Dial(t, addr)
	defer onLeader.Close()
	if v := onLeader.Do(t, "SUBSCRIBE", "+switch-master"); v.String() != `["subscribe", "+switch-master", 1]` {
		t.Fatalf("SUBSCRIBE +switch-master on the leader = %v", v)
	}
	const next = "127.0.0.1:7001"
	s.stepDown(next)
	toNext := `["message", "+switch-master", "mymaster ` + host + ` ` + port + ` 127.0.0.1 7001"]`
	if got := readMessage(t, onLeader, "the switch away from this node"); got != toNext {
		t.Fatalf("message = %s, want %s", got, toNext)
	}
	// A follower serves event subscriptions; ordinary channels, alone or
	// with events, still redirect.
	onFollower := resptest.Dial(t, addr)
	defer onFollower.Close()
	if v := onFollower.Do(t, "SUBSCRIBE", "+switch-master"); v.String() != `["subscribe", "+switch-master", 1]` {
		t.Fatalf("SUBSCRIBE +switch-master on a follower = %v", v)
	}
	for _, args := range [][]string{{"SUBSCRIBE", "jobs"}, {"SUBSCRIBE", "+switch-master", "jobs"}} {
		if r, ok := resp.ParseRedirect(resptest.Do(t, addr, args...)); !ok || r.Leader != next {
			t.Fatalf("follower %v did not redirect to %s", args, next)
		}
	}
	s.lead()
	back := `["message", "+switch-master", "mymaster 127.0.0.1 7001 ` + host + ` ` + port + `"]`
	for _, c := range []*resptest.Conn{onLeader, onFollower} {
		if got := readMessage(t, c, "the switch back"); got != back {
			t.Fatalf("message = %s, want %s", got, back)
		}
	}
	// Through an election with no leader known (whether or not the watch
	// looks during it): told once the new leader is known.
	s.stepDown("")
	s.stepDown("127.0.0.1:7002")
	toThird := `["message", "+switch-master", "mymaster ` + host + ` ` + port + ` 127.0.0.1 7002"]`
	if got := readMessage(t, onFollower, "the switch through an election"); got != toThird {
		t.Fatalf("message = %s, want %s", got, toThird)
	}
	if v := onFollower.Do(t, "UNSUBSCRIBE"); v.String() != `["unsubscribe", "+switch-master", 0]` {
		t.Fatalf("UNSUBSCRIBE on a follower = %v", v)
	}
	if v := onFollower.Do(t, "PING"); v.Text() != "PONG" {
		t.Fatalf("PING after leaving subscribe mode = %v", v)
	}
}
