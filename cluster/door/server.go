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
	"sync/atomic"
	"time"

	"github.com/kvorum/kvorum/fsm"
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
		{Name: "FUNCTION", Kind: Local, Arity: -2, Answer: cmdFunction},            // function.go
		{Name: "CONFIG", Kind: Local, Flags: Queued, Arity: -2, Answer: cmdConfig}, // config.go
	}
}

// cmdInfo answers INFO [section ...]: Redis's sections plus # Raft. With
// no section, or "default", it answers the default ones; "all" and
// "everything" add commandstats, as in Redis.
func cmdInfo(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[strings.ToLower(a.Text())] = true
	}
	if len(want) == 0 {
		want["default"] = true
	}
	all := want["all"] || want["everything"]
	def := all || want["default"]
	var sb strings.Builder
	// section writes a section if it was asked for; its lines are built
	// only then (ReadMemStats, the Raft configuration and the key counts
	// are not free, and INFO clients is polled). Commandstats is not a
	// default section.
	section := func(name string, lines func() []string) {
		lower := strings.ToLower(name)
		if !want[lower] && !all && !(def && lower != "commandstats") {
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
			"uptime_in_seconds:" + strconv.Itoa(int(time.Since(st.Started).Seconds())),
			"uptime_in_days:" + strconv.Itoa(int(time.Since(st.Started).Hours()/24)),
			"executable:" + executable(),
			"config_file:"} // kvorum reads flags and the environment, no file, as a Redis started without one says
	})
	section("Clients", func() []string {
		return []string{"connected_clients:" + strconv.Itoa(len(d.store.Conns())),
			"blocked_clients:" + strconv.FormatInt(d.waiters.blocked.Load(), 10),
			"maxclients:" + strconv.Itoa(d.store.Settings().MaxClients)}
	})
	section("Memory", memoryInfo)
	section("Persistence", func() []string { return d.persistenceInfo(status()) })
	section("Stats", func() []string { return d.statsInfo(status()) })
	section("Replication", func() []string { return d.replicationInfo(status()) })
	section("Cluster", func() []string { return []string{"cluster_enabled:1"} })
	section("Keyspace", func() []string {
		keys, expires, avgTTL := d.fsm.Counts(time.Now().UnixMilli())
		return []string{fmt.Sprintf("db0:keys=%d,expires=%d,avg_ttl=%d", keys, expires, avgTTL)}
	})
	section("Commandstats", d.commandstatsInfo)
	section("Sessions", func() []string { return []string{"sessions_open:" + strconv.Itoa(d.fsm.Sessions())} })
	section("Raft", func() []string { return status().Raft })
	return resp.BulkString(sb.String())
}

// executable is INFO server's: the running binary's absolute path, or ""
// if the OS cannot say.
func executable() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}

// persistenceInfo is INFO persistence. kvorum's durability is the Raft
// log, fsynced before a write is answered (CONFIG GET appendonly answers
// yes, config.go); its snapshots, which compact that log, are Redis's
// saves: rdb_last_save_time is the latest one's (the start if none yet),
// rdb_changes_since_last_save the log entries applied since.
func (d *Door) persistenceInfo(st Status) []string {
	snap := d.store.Snapshots()
	last := st.Started
	if !snap.LastTime.IsZero() {
		last = snap.LastTime
	}
	return []string{"loading:0", "async_loading:0",
		"rdb_changes_since_last_save:" + strconv.FormatUint(st.Applied-min(snap.LastIndex, st.Applied), 10),
		"rdb_bgsave_in_progress:" + boolDigit(snap.InProgress),
		"rdb_last_save_time:" + strconv.FormatInt(last.Unix(), 10),
		"aof_enabled:1",
		"snapshot_last_index:" + strconv.FormatUint(snap.LastIndex, 10),
		"snapshot_last_size:" + strconv.FormatInt(snap.LastSize, 10),
		"snapshot_in_progress:" + boolDigit(snap.InProgress)}
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// statsInfo is INFO stats: the door's counters, the connection counts of
// the server and the FSM's keyspace counters, each since the last CONFIG
// RESETSTAT.
func (d *Door) statsInfo(st Status) []string {
	b := d.stats.baseline()
	fs := d.fsm.Stats()
	return []string{
		"total_connections_received:" + strconv.FormatUint(st.Accepted-min(b.accepted, st.Accepted), 10),
		"total_commands_processed:" + strconv.FormatUint(d.commands.Load(), 10),
		"instantaneous_ops_per_sec:" + strconv.FormatUint(d.stats.ops.rate(time.Now()), 10),
		"rejected_connections:" + strconv.FormatUint(st.Rejected-min(b.rejected, st.Rejected), 10),
		"expired_keys:" + strconv.FormatUint(fs.ExpiredKeys-min(b.fsm.ExpiredKeys, fs.ExpiredKeys), 10),
		"evicted_keys:0", // kvorum never evicts (maxmemory 0)
		"keyspace_hits:" + strconv.FormatUint(fs.KeyspaceHits-min(b.fsm.KeyspaceHits, fs.KeyspaceHits), 10),
		"keyspace_misses:" + strconv.FormatUint(fs.KeyspaceMisses-min(b.fsm.KeyspaceMisses, fs.KeyspaceMisses), 10),
		// kvorum's own: commands that panicked (a server bug, logged with its
		// stack) and were answered with an error; not zeroed by RESETSTAT.
		"kvorum_command_panics:" + strconv.FormatUint(fs.CommandPanics, 10),
	}
}

// commandstatsInfo is INFO commandstats: one line per command called (or
// refused) since the last CONFIG RESETSTAT, in Redis 7's format.
func (d *Door) commandstatsInfo() []string {
	var lines []string
	for _, cmd := range d.reg.All() {
		calls, nanos, rejected, failed := cmd.stats.calls.Load(), cmd.stats.nanos.Load(), cmd.stats.rejected.Load(), cmd.stats.failed.Load()
		if calls == 0 && rejected == 0 {
			continue
		}
		perCall := 0.0
		if calls > 0 {
			perCall = float64(nanos) / 1e3 / float64(calls)
		}
		lines = append(lines, fmt.Sprintf("cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
			strings.ToLower(cmd.Name), calls, nanos/1e3, perCall, rejected, failed))
	}
	return lines
}

// stats are the door's counters for INFO stats and commandstats beyond
// total_commands_processed (Door.commands) and the commands' own
// (cmdStats). CONFIG RESETSTAT zeroes what the door counts and takes a
// new baseline of what others count (the server's connections, the FSM's
// keyspace counters), which INFO reports the difference from.
type stats struct {
	ops  opsRing
	mu   sync.Mutex // guards base
	base baseline
	// redirects, writes and reads are the metrics endpoint's (metrics.go);
	// CONFIG RESETSTAT leaves them.
	redirects     atomic.Uint64
	writes, reads latency
}

// baseline is what CONFIG RESETSTAT found of the counters others keep.
type baseline struct {
	accepted, rejected uint64
	fsm                fsm.Stats
}

func (s *stats) baseline() baseline {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

// countRequest counts a request as it arrives at start: Serve calls it
// once per request, before anything else.
func (d *Door) countRequest(start time.Time) {
	d.commands.Add(1)
	d.stats.ops.add(start)
}

// countServed counts a request of cmd that was routed, and the time the
// door spent on it since start (cmdStats).
func countServed(cmd *Command, start time.Time, r resp.Reply) {
	cmd.stats.calls.Add(1)
	cmd.stats.nanos.Add(uint64(time.Since(start)))
	if v, ok := r.Known(); ok {
		cmd.stats.countReply(v)
	}
}

// countReply counts an error reply as a failed call. A nil receiver (a
// future made for kvorum's own use, not a client's command) counts
// nothing.
func (s *cmdStats) countReply(v resp.Value) {
	if s != nil && v.IsError() {
		s.failed.Add(1)
	}
}

// countRefused counts a request the door refused before routing it
// (arity, authentication, ACL) against its command, if it names one.
func (d *Door) countRefused(args []resp.Value) {
	if cmd := d.reg.Lookup(args[0].TextBytes()); cmd != nil {
		cmd.stats.rejected.Add(1)
	}
}

// resetStats is CONFIG RESETSTAT.
func (d *Door) resetStats() {
	st := d.store.Status()
	d.stats.mu.Lock()
	d.stats.base = baseline{accepted: st.Accepted, rejected: st.Rejected, fsm: d.fsm.Stats()}
	d.stats.mu.Unlock()
	d.commands.Store(0)
	d.stats.ops.reset()
	for _, cmd := range d.reg.All() {
		cmd.stats.calls.Store(0)
		cmd.stats.nanos.Store(0)
		cmd.stats.rejected.Store(0)
	}
}

// cmdStats are one command's INFO commandstats counters: atomic, so the
// request path takes no lock. calls counts the requests routed (a command
// queued inside MULTI counts when it is queued), nanos the time the door
// spent on them before their reply was known or handed to a future: all
// of a command this node answers itself, the hand-off to the log for a
// write, the start of the read barrier for a read. The wait for a commit
// or a blocked pop's wake-up is latency, not work, and Redis's usec leaves
// a blocked client's wait out too. rejected counts the requests refused
// before they were routed; failed the calls answered with an error (a
// redirect included: kvorum routes, then finds it does not lead), counted
// when the reply is known, which for a write or a read is when its future
// resolves.
type cmdStats struct {
	calls, nanos, rejected, failed atomic.Uint64
}

// opsRing counts requests in 100 ms slots, the last 16 of them, for
// INFO's instantaneous_ops_per_sec. Redis samples its command count every
// 100 ms and averages the rates of the last 16 samples; opsRing computes
// the same figure lazily, when INFO asks, with no goroutine: each slot
// holds its slot number (time / 100 ms) in its upper 40 bits and its count
// in the lower 24, and a request that finds a slot last used 1.6 s ago or
// more starts it afresh.
type opsRing struct {
	slots [opsSlots]atomic.Uint64
}

const (
	opsSlots     = 16
	opsSlot      = 100 * time.Millisecond
	opsCountBits = 24
	opsCountMask = 1<<opsCountBits - 1
)

// add counts one request at now: one load and one atomic add or swap.
func (r *opsRing) add(now time.Time) {
	n := uint64(now.UnixNano() / int64(opsSlot))
	s := &r.slots[n%opsSlots]
	for {
		v := s.Load()
		if v>>opsCountBits == n {
			if v&opsCountMask != opsCountMask { // 168 million a second saturate it
				s.Add(1)
			}
			return
		}
		if s.CompareAndSwap(v, n<<opsCountBits|1) {
			return
		}
	}
}

// rate is the requests per second over the 16 slots before now's: the
// last 1.6 s, complete slots only, as Redis's samples are.
func (r *opsRing) rate(now time.Time) uint64 {
	cur := uint64(now.UnixNano() / int64(opsSlot))
	var sum uint64
	for i := range r.slots {
		v := r.slots[i].Load()
		if n := v >> opsCountBits; n < cur && cur-n <= opsSlots {
			sum += v & opsCountMask
		}
	}
	return sum * uint64(time.Second/opsSlot) / opsSlots
}

func (r *opsRing) reset() {
	for i := range r.slots {
		r.slots[i].Store(0)
	}
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
	return append(lines, "sys_memory:"+strconv.FormatUint(ms.Sys, 10), "maxmemory:0", "maxmemory_policy:noeviction",
		"mem_allocator:go") // the Go runtime's; Redis names its malloc (jemalloc-5.3.0, libc)
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

// replicaTimeout is how long a follower may go without answering the
// leader before INFO replication stops listing it as a connected replica:
// Redis's repl-ping-replica-period, within which a live replica is heard.
const replicaTimeout = 10 * time.Second

// replicationInfo is INFO replication in Redis's fields. On the leader,
// each follower that answered an AppendEntries (a heartbeat at least)
// within replicaTimeout is a connected replica; its offset is the last
// log index it answered with and its lag the seconds since (Redis counts
// its replication offset in bytes of its stream, kvorum in Raft log
// entries; both only grow). master_repl_offset is the node's last log
// index; a follower's slave_repl_offset is what it has applied.
func (d *Door) replicationInfo(st Status) []string {
	offset := "master_repl_offset:" + strconv.FormatUint(st.LastIndex, 10)
	if d.store.Leading() != nil {
		now := time.Now()
		var replicas []string
		for _, s := range others(st) {
			if s.Answered.IsZero() || now.Sub(s.Answered) > replicaTimeout {
				continue
			}
			host, port := splitHostPort(s.ClientAddr)
			replicas = append(replicas, fmt.Sprintf("slave%d:ip=%s,port=%s,state=online,offset=%d,lag=%d",
				len(replicas), host, port, s.Offset, int(now.Sub(s.Answered).Seconds())))
		}
		lines := append([]string{"role:master", "connected_slaves:" + strconv.Itoa(len(replicas))}, replicas...)
		return append(lines, "master_failover_state:no-failover", offset)
	}
	host, port := splitHostPort(d.leaderAddr())
	status := "up"
	if host == "" {
		status = "down"
	}
	return []string{"role:slave", "master_host:" + host, "master_port:" + port, "master_link_status:" + status,
		"slave_repl_offset:" + strconv.FormatUint(st.Applied, 10), "slave_read_only:1", "connected_slaves:0", offset}
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
