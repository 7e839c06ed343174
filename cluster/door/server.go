package door

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvorum/kvorum/internal/version"
	"github.com/kvorum/kvorum/resp"
)

// serverCommands describe the node and its cluster: INFO, ROLE, Redis
// Cluster's CLUSTER (one shard owning every slot, whose master is the Raft
// leader, so cluster-aware clients find the leader) and KVORUM.MEMBERS.
func serverCommands() []Command {
	return []Command{
		{Name: "INFO", Kind: Local, Arity: -1, Answer: cmdInfo},
		{Name: "ROLE", Kind: Local, Arity: 1, Answer: cmdRole},
		{Name: "CLUSTER", Kind: Local, Flags: Aware, Arity: -2, Answer: cmdCluster},
		{Name: "KVORUM.MEMBERS", Kind: Local, Arity: 1, Answer: cmdMembers},
		{Name: "FUNCTION", Kind: Local, Arity: -2, Answer: cmdFunction}, // function.go
	}
}

// cmdInfo answers INFO [section]: Redis's sections plus # Raft.
func cmdInfo(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	want := "default"
	if len(args) > 1 {
		want = strings.ToLower(args[1].Text())
	}
	all := want == "default" || want == "all" || want == "everything"
	var sb strings.Builder
	// section writes a section if it was asked for; its lines are built
	// only then (ReadMemStats, the Raft configuration and the key counts
	// are not free, and INFO clients is polled).
	section := func(name string, lines func() []string) {
		if !all && want != strings.ToLower(name) {
			return
		}
		if sb.Len() > 0 {
			sb.WriteString("\r\n")
		}
		sb.WriteString("# " + name + "\r\n")
		for _, l := range lines() {
			sb.WriteString(l + "\r\n")
		}
	}
	status := sync.OnceValue(d.store.Status)
	section("Server", func() []string {
		st := status()
		_, port := splitHostPort(st.ClientAddr)
		return []string{"redis_version:" + redisVersion, "kvorum_version:" + version.String(), "redis_mode:" + redisMode,
			"process_id:" + strconv.Itoa(os.Getpid()), "tcp_port:" + port, "run_id:" + nodeHash(st.ID),
			"uptime_in_seconds:" + strconv.Itoa(int(time.Since(st.Started).Seconds()))}
	})
	section("Clients", func() []string {
		return []string{"connected_clients:" + strconv.Itoa(len(d.store.Conns())),
			"blocked_clients:" + strconv.FormatInt(d.waiters.blocked.Load(), 10)}
	})
	section("Memory", memoryInfo)
	section("Stats", func() []string {
		st := status()
		return []string{"total_connections_received:" + strconv.FormatUint(st.Accepted, 10),
			"total_commands_processed:" + strconv.FormatUint(d.commands.Load(), 10),
			"rejected_connections:" + strconv.FormatUint(st.Rejected, 10)}
	})
	section("Replication", func() []string { return d.replicationInfo(status()) })
	section("Cluster", func() []string { return []string{"cluster_enabled:1"} })
	section("Keyspace", func() []string {
		keys, expires, avgTTL := d.fsm.Counts(time.Now().UnixMilli())
		return []string{fmt.Sprintf("db0:keys=%d,expires=%d,avg_ttl=%d", keys, expires, avgTTL)}
	})
	section("Sessions", func() []string { return []string{"sessions_open:" + strconv.Itoa(d.fsm.Sessions())} })
	section("Raft", func() []string { return status().Raft })
	return resp.BulkString(sb.String())
}

// memoryInfo is INFO memory from the Go runtime: used_memory is the live
// heap, used_memory_rss what the process holds in RAM (Linux), sys_memory
// what the runtime took from the OS. kvorum has no maxmemory eviction.
func memoryInfo() []string {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	lines := []string{"used_memory:" + strconv.FormatUint(ms.HeapAlloc, 10),
		fmt.Sprintf("used_memory_human:%.2fM", float64(ms.HeapAlloc)/(1<<20))}
	if rss, ok := rssBytes(); ok {
		lines = append(lines, "used_memory_rss:"+strconv.FormatUint(rss, 10))
	}
	return append(lines, "sys_memory:"+strconv.FormatUint(ms.Sys, 10), "maxmemory:0", "maxmemory_policy:noeviction")
}

// rssBytes reads the resident set size from /proc (Linux only).
func rssBytes() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize()), err == nil
}

func (d *Door) replicationInfo(st Status) []string {
	if d.store.Leading() != nil {
		lines := []string{"role:master", "connected_slaves:" + strconv.Itoa(max(len(st.Servers)-1, 0))}
		for i, s := range others(st) {
			host, port := splitHostPort(s.ClientAddr)
			lines = append(lines, fmt.Sprintf("slave%d:ip=%s,port=%s,state=online", i, host, port))
		}
		return lines
	}
	host, port := splitHostPort(d.leaderAddr())
	status := "up"
	if host == "" {
		status = "down"
	}
	return []string{"role:slave", "master_host:" + host, "master_port:" + port, "master_link_status:" + status}
}

// others returns the servers other than this node.
func others(st Status) []Server {
	var out []Server
	for _, s := range st.Servers {
		if s.ID != st.ID {
			out = append(out, s)
		}
	}
	return out
}

// leaderAddr is the leader's client address as a redirect names it, or "".
func (d *Door) leaderAddr() string { return leaderOf(d.store.NotLeading()) }

// leaderOf is the leader a NotLeading error names, or "".
func leaderOf(err error) string {
	var re *resp.RedirectError
	if errors.As(err, &re) {
		return re.Leader
	}
	return ""
}

func splitHostPort(addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, "0"
	}
	return h, p
}

// nodeHash is the 40-hex-digit node id Redis Cluster clients expect.
func nodeHash(id string) string {
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}

// cmdRole answers ROLE as a Redis master or replica would.
func cmdRole(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	st := d.store.Status()
	offset := resp.Int(int64(st.Applied))
	if d.store.Leading() != nil {
		var replicas []resp.Value
		for _, s := range others(st) {
			host, port := splitHostPort(s.ClientAddr)
			replicas = append(replicas, resp.Array(resp.BulkString(host), resp.BulkString(port), resp.BulkString(offset.Text())))
		}
		return resp.Array(resp.BulkString("master"), offset, resp.Array(replicas...))
	}
	host, port := splitHostPort(d.leaderAddr())
	p, _ := strconv.Atoi(port)
	state := "connected"
	if host == "" {
		state = "connect"
	}
	return resp.Array(resp.BulkString("slave"), resp.BulkString(host), resp.Int(int64(p)), resp.BulkString(state), offset)
}

// cmdMembers lists gossip members joined with the Raft configuration.
func cmdMembers(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	st := d.store.Status()
	inRaft := make(map[string]Server)
	for _, s := range st.Servers {
		inRaft[s.ID] = s
	}
	var out []resp.Value
	for _, m := range st.Members {
		s, ok := inRaft[m.ID]
		raftRole := "none"
		switch {
		case ok && s.Leader:
			raftRole = "leader"
		case ok && s.Voter:
			raftRole = "voter"
		case ok:
			raftRole = "nonvoter"
		}
		delete(inRaft, m.ID)
		out = append(out, memberValue(m.ID, m.Status, m.ClientAddr, m.RaftAddr, raftRole))
	}
	for _, s := range st.Servers {
		if _, left := inRaft[s.ID]; !left {
			continue
		}
		role := "voter"
		if s.Leader {
			role = "leader"
		}
		out = append(out, memberValue(s.ID, "unknown", s.ClientAddr, s.RaftAddr, role))
	}
	return resp.Array(out...)
}

func memberValue(id, gossip, client, raftAddr, raftRole string) resp.Value {
	return resp.Dict(
		resp.BulkString("id"), resp.BulkString(id),
		resp.BulkString("gossip"), resp.BulkString(gossip),
		resp.BulkString("client"), resp.BulkString(client),
		resp.BulkString("raft"), resp.BulkString(raftAddr),
		resp.BulkString("raft_role"), resp.BulkString(raftRole))
}
