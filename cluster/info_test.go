package cluster_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/testcluster"
)

// infoFields parses INFO's "name:value" lines.
func infoFields(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// A node reports its Raft snapshots (INFO persistence), its start-time
// settings (CONFIG GET), the keys its expiry sweep removed and the
// connections it accepted (INFO stats, which CONFIG RESETSTAT zeroes).
func TestNode_InfoAndConfig(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1, Configure: func(i int, cfg *cluster.Config) {
		cfg.BootstrapExpect = 1
		cfg.IdleTimeout = 30 * time.Second
		cfg.MaxClients = 77
		cfg.ExpiryInterval = 50 * time.Millisecond
	}})
	n := c.Leader(10 * time.Second)
	if s := n.Snapshots(); s.LastIndex != 0 || !s.LastTime.IsZero() || s.InProgress {
		t.Fatalf("Snapshots before any = %+v, want none", s)
	}
	addr := n.ClientAddr()
	conn := resptest.Dial(t, addr)
	defer conn.Close()
	conn.Do(t, "HELLO", "2")
	for i := 0; i < 10; i++ {
		conn.Do(t, "SET", "k"+strconv.Itoa(i), "v")
	}
	if err := n.Raft().Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	s := n.Snapshots()
	if s.LastIndex == 0 || s.LastSize <= 0 || s.LastTime.IsZero() || s.InProgress {
		t.Fatalf("Snapshots after one = %+v, want its index, size and time, none in progress", s)
	}
	p := infoFields(conn.Do(t, "INFO", "persistence").Text())
	if p["rdb_last_save_time"] != strconv.FormatInt(s.LastTime.Unix(), 10) || p["snapshot_last_index"] != strconv.FormatUint(s.LastIndex, 10) ||
		p["rdb_bgsave_in_progress"] != "0" || p["loading"] != "0" {
		t.Errorf("INFO persistence = %v, want the snapshot %+v", p, s)
	}

	_, port, _ := net.SplitHostPort(addr)
	got := conn.Do(t, "CONFIG", "GET", "timeout", "maxclients", "port", "bind").Elems()
	want := []string{"timeout", "30", "maxclients", "77", "port", port, "bind", "127.0.0.1"}
	if len(got) != len(want) {
		t.Fatalf("CONFIG GET timeout maxclients port bind = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Text() != want[i] {
			t.Fatalf("CONFIG GET timeout maxclients port bind = %v, want %v", got, want)
		}
	}

	conn.Do(t, "SET", "short", "lived", "PX", "50")
	testcluster.WaitFor(t, "the expiry sweep to remove the key", 10*time.Second, func() bool {
		return infoFields(conn.Do(t, "INFO", "stats").Text())["expired_keys"] == "1"
	})
	conn.Do(t, "CONFIG", "RESETSTAT")
	st := infoFields(conn.Do(t, "INFO", "stats").Text())
	if st["total_connections_received"] != "0" || st["expired_keys"] != "0" {
		t.Fatalf("INFO stats after CONFIG RESETSTAT = %v, want no connections received, no keys expired", st)
	}
	resptest.Do(t, addr, "PING") // a new connection
	if got := infoFields(conn.Do(t, "INFO", "stats").Text())["total_connections_received"]; got != "1" {
		t.Fatalf("total_connections_received after a reset and one connection = %q, want 1", got)
	}
}

// INFO replication on the leader lists each follower that answers it, with
// its last log index as offset and the seconds since its last answer as
// lag; a cut-off follower's offset stops while the leader's grows, and its
// lag grows. A follower reports what it has applied.
func TestCluster_InfoReplication(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	leader := c.Leader(10 * time.Second)
	resptest.Do(t, leader.ClientAddr(), "SET", "k", "v")
	info := func(n *testcluster.Node) map[string]string {
		return infoFields(resptest.Do(t, n.ClientAddr(), "INFO", "replication").Text())
	}
	top, _ := strconv.ParseUint(info(leader)["master_repl_offset"], 10, 64)
	if top == 0 {
		t.Fatalf("leader's INFO replication = %v, want master_repl_offset", info(leader))
	}
	// replica returns a slaveN line's fields for the follower on port.
	replica := func(f map[string]string, port string) map[string]string {
		for k, v := range f {
			if strings.HasPrefix(k, "slave") && strings.Contains(v, "port="+port+",") {
				out := map[string]string{}
				for _, kv := range strings.Split(v, ",") {
					a, b, _ := strings.Cut(kv, "=")
					out[a] = b
				}
				return out
			}
		}
		return nil
	}
	fs := c.Followers()
	testcluster.WaitFor(t, "both followers listed with the write's offset", 10*time.Second, func() bool {
		f := info(leader)
		if f["role"] != "master" || f["connected_slaves"] != "2" {
			return false
		}
		for _, fo := range fs {
			_, port, _ := net.SplitHostPort(fo.ClientAddr())
			r := replica(f, port)
			off, _ := strconv.ParseUint(r["offset"], 10, 64)
			if r["state"] != "online" || off < top || r["lag"] != "0" {
				return false
			}
		}
		return true
	})
	fo := fs[0]
	if f := info(fo); f["role"] != "slave" || f["master_link_status"] != "up" || f["slave_repl_offset"] == "" {
		t.Errorf("follower's INFO replication = %v, want role slave, link up and its offset", f)
	} else if off, _ := strconv.ParseUint(f["slave_repl_offset"], 10, 64); off < top-1 {
		// top was the leader's last index; the follower has applied the SET
		// (the entry before any no-op) once the leader lists it there.
		t.Errorf("follower's slave_repl_offset %d, want about %d", off, top)
	}

	c.Partition(fo.Index)
	_, port, _ := net.SplitHostPort(fo.ClientAddr())
	before := replica(info(leader), port)["offset"]
	for i := range 5 {
		resptest.Do(t, leader.ClientAddr(), "SET", "k", strconv.Itoa(i))
	}
	testcluster.WaitFor(t, "the cut follower's lag to grow", 10*time.Second, func() bool {
		r := replica(info(leader), port)
		return r != nil && r["lag"] != "0"
	})
	f := info(leader)
	if r := replica(f, port); r["offset"] != before {
		t.Errorf("cut follower's offset moved from %s to %s", before, r["offset"])
	}
	if now, _ := strconv.ParseUint(f["master_repl_offset"], 10, 64); now < top+5 {
		t.Errorf("leader's master_repl_offset %d after 5 more writes, want ≥ %d", now, top+5)
	}
	c.Heal(fo.Index)
	testcluster.WaitFor(t, "the healed follower to catch up", 10*time.Second, func() bool {
		f := info(leader)
		r := replica(f, port)
		return r != nil && r["lag"] == "0" && r["offset"] == f["master_repl_offset"]
	})
}
