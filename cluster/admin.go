package cluster

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// redisVersion is what INFO and HELLO claim: old enough that clients do not
// expect streams or other features kvorum does not have.
const redisVersion = "4.0.9"

// adminCommand is a connection or server command answered by the node that
// receives it, leader or follower, without Raft.
type adminCommand struct {
	name  string
	arity int // Redis convention; 0 means the function checks
	// multi: inside MULTI it is queued like a data command and answered in
	// its place in EXEC's reply (tx.go), as Redis does. Only commands whose
	// reply depends on nothing but their arguments and the connection may
	// set it: run is then called on the connection's goroutine at EXEC.
	multi bool
	run   func(n *Node, c *resp.Conn, args []resp.Value) resp.Value
}

func adminCommands() map[string]adminCommand {
	cmds := []adminCommand{
		{"PING", -1, true, cmdPing},
		{"ECHO", 2, true, func(n *Node, c *resp.Conn, a []resp.Value) resp.Value { return resp.BulkString(a[1].Text()) }},
		{"HELLO", -1, false, cmdHello},
		{"QUIT", -1, false, func(n *Node, c *resp.Conn, a []resp.Value) resp.Value { c.CloseAfterReply(); return resp.OK() }},
		{"SELECT", 2, true, cmdSelect},
		{"INFO", -1, false, cmdInfo},
		{"COMMAND", -1, false, cmdCommand},
		{"CLIENT", -2, false, cmdClient},
		{"CLUSTER", -2, false, cmdCluster},
		{"READONLY", 1, false, func(n *Node, c *resp.Conn, a []resp.Value) resp.Value { sessionOf(c).readonly = true; return resp.OK() }},
		{"READWRITE", 1, false, func(n *Node, c *resp.Conn, a []resp.Value) resp.Value {
			sessionOf(c).readonly = false
			return resp.OK()
		}},
		{"ROLE", 1, false, cmdRole},
		{"TIME", 1, false, cmdTime},
		{"KVORUM.MEMBERS", 1, false, cmdMembers},
	}
	m := make(map[string]adminCommand, len(cmds))
	for _, c := range cmds {
		m[c.name] = c
	}
	return m
}

func (n *Node) lookupAdmin(name []byte) (adminCommand, bool) {
	if len(name) > 16 {
		return adminCommand{}, false
	}
	var buf [16]byte
	up := buf[:len(name)]
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	a, ok := n.admin[string(up)]
	return a, ok
}

func cmdPing(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	switch len(args) {
	case 1:
		return resp.Simple("PONG")
	case 2:
		return resp.BulkString(args[1].Text())
	}
	return fsm.WrongArity("ping")
}

func cmdSelect(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	if args[1].Text() != "0" {
		return resp.Err("ERR DB index is out of range")
	}
	return resp.OK()
}

func cmdTime(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	now := time.Now()
	return resp.Array(resp.BulkString(strconv.FormatInt(now.Unix(), 10)),
		resp.BulkString(strconv.Itoa(now.Nanosecond()/1000)))
}

// cmdHello switches the connection's protocol (HELLO 2 / HELLO 3) and
// answers Redis's server description.
func cmdHello(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	i := 1
	if len(args) > 1 {
		switch args[1].Text() {
		case "2":
			c.SetMode(resp.RESP2)
		case "3":
			c.SetMode(resp.RESP3)
		default:
			return resp.Err("NOPROTO unsupported protocol version")
		}
		i = 2
	}
	for ; i < len(args); i++ {
		switch strings.ToUpper(args[i].Text()) {
		case "SETNAME":
			if i+1 >= len(args) {
				return resp.Err("ERR syntax error")
			}
			i++
			c.SetName(args[i].Text())
		case "AUTH":
			i += 2 // no authentication: accept any credentials
		default:
			return resp.Err("ERR syntax error in HELLO option '" + args[i].Text() + "'")
		}
	}
	proto := int64(2)
	if c.Mode() == resp.RESP3 {
		proto = 3
	}
	role := "replica"
	if n.IsLeader() {
		role = "master"
	}
	return resp.Dict(
		resp.BulkString("server"), resp.BulkString("redis"),
		resp.BulkString("version"), resp.BulkString(redisVersion),
		resp.BulkString("proto"), resp.Int(proto),
		resp.BulkString("id"), resp.Int(int64(c.ID())),
		resp.BulkString("mode"), resp.BulkString("standalone"),
		resp.BulkString("role"), resp.BulkString(role),
		resp.BulkString("modules"), resp.Array(),
	)
}

func cmdClient(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	switch sub := strings.ToUpper(args[1].Text()); sub {
	case "SETNAME":
		if len(args) != 3 {
			return fsm.WrongArity("client|setname")
		}
		name := args[2].Text()
		if strings.ContainsAny(name, " \n\r") {
			return resp.Err("ERR Client names cannot contain spaces, newlines or special characters.")
		}
		c.SetName(name)
		return resp.OK()
	case "GETNAME":
		if c.Name() == "" {
			return resp.NullBulk()
		}
		return resp.BulkString(c.Name())
	case "ID":
		return resp.Int(int64(c.ID()))
	case "LIST", "INFO":
		conns := []*resp.Conn{c}
		if sub == "LIST" {
			conns = n.server.Conns()
			sort.Slice(conns, func(i, j int) bool { return conns[i].ID() < conns[j].ID() })
		}
		var sb strings.Builder
		for _, k := range conns {
			fmt.Fprintf(&sb, "id=%d addr=%s name=%s age=%d db=0 resp=%d\n", k.ID(), k.RemoteAddr(), k.Name(),
				int(time.Since(k.Created()).Seconds()), protoNumber(k.Mode()))
		}
		return resp.BulkString(sb.String())
	case "SETINFO", "NO-EVICT", "NO-TOUCH", "REPLY":
		return resp.OK()
	}
	return resp.Err("ERR unknown subcommand '" + args[1].Text() + "'. Try CLIENT HELP.")
}

func protoNumber(m resp.Mode) int {
	if m == resp.RESP3 {
		return 3
	}
	return 2
}

// cmdCommand answers enough of COMMAND for clients that probe it.
func cmdCommand(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	table := n.fsm.Table()
	if len(args) == 1 {
		var out []resp.Value
		for _, cmd := range table.All() {
			out = append(out, commandInfo(cmd))
		}
		for _, a := range n.admin {
			out = append(out, adminInfo(a))
		}
		return resp.Array(out...)
	}
	switch strings.ToUpper(args[1].Text()) {
	case "COUNT":
		return resp.Int(int64(len(table.All()) + len(n.admin)))
	case "DOCS":
		return resp.Array()
	case "INFO":
		out := make([]resp.Value, 0, len(args)-2)
		for _, a := range args[2:] {
			if cmd := table.Lookup([]byte(a.Text())); cmd != nil {
				out = append(out, commandInfo(cmd))
			} else if ad, ok := n.lookupAdmin([]byte(a.Text())); ok {
				out = append(out, adminInfo(ad))
			} else {
				out = append(out, resp.NullArray())
			}
		}
		return resp.Array(out...)
	}
	return resp.Err("ERR unknown subcommand '" + args[1].Text() + "'. Try COMMAND HELP.")
}

func commandInfo(cmd *fsm.Command) resp.Value {
	flag := "readonly"
	if cmd.IsWrite() {
		flag = "write"
	}
	return resp.Array(resp.BulkString(strings.ToLower(cmd.Name)), resp.Int(int64(cmd.Arity)),
		resp.Array(resp.Simple(flag)), resp.Int(int64(cmd.FirstKey)), resp.Int(int64(cmd.LastKey)), resp.Int(int64(cmd.Step)))
}

func adminInfo(a adminCommand) resp.Value {
	return resp.Array(resp.BulkString(strings.ToLower(a.name)), resp.Int(int64(a.arity)),
		resp.Array(resp.Simple("fast")), resp.Int(0), resp.Int(0), resp.Int(0))
}

// cmdInfo answers INFO [section]: Redis's sections plus # Raft.
func cmdInfo(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	want := "default"
	if len(args) > 1 {
		want = strings.ToLower(args[1].Text())
	}
	all := want == "default" || want == "all" || want == "everything"
	var sb strings.Builder
	section := func(name string, lines ...string) {
		if !all && want != strings.ToLower(name) {
			return
		}
		if sb.Len() > 0 {
			sb.WriteString("\r\n")
		}
		sb.WriteString("# " + name + "\r\n")
		for _, l := range lines {
			sb.WriteString(l + "\r\n")
		}
	}
	_, port, _ := net.SplitHostPort(n.ClientAddr())
	section("Server", "redis_version:"+redisVersion, "kvorum_version:0.1.0", "redis_mode:cluster",
		"process_id:"+strconv.Itoa(os.Getpid()), "tcp_port:"+port, "run_id:"+nodeHash(n.cfg.NodeID),
		"uptime_in_seconds:"+strconv.Itoa(int(time.Since(n.started).Seconds())))
	section("Clients", "connected_clients:"+strconv.Itoa(n.server.NumConns()),
		"blocked_clients:"+strconv.FormatInt(n.waiters.blocked.Load(), 10))
	section("Replication", n.replicationInfo()...)
	section("Cluster", "cluster_enabled:1")
	keys, expires, avgTTL := n.fsm.Counts(time.Now().UnixMilli())
	section("Keyspace", fmt.Sprintf("db0:keys=%d,expires=%d,avg_ttl=%d", keys, expires, avgTTL))
	section("Raft", n.raftInfo()...)
	return resp.BulkString(sb.String())
}

func (n *Node) replicationInfo() []string {
	servers := n.servers()
	if n.IsLeader() {
		lines := []string{"role:master", "connected_slaves:" + strconv.Itoa(len(servers)-1)}
		i := 0
		for _, s := range servers {
			if s.ID == n.cfg.NodeID {
				continue
			}
			host, port := splitHostPort(s.ClientAddr)
			lines = append(lines, fmt.Sprintf("slave%d:ip=%s,port=%s,state=online", i, host, port))
			i++
		}
		return lines
	}
	leader := n.redirect().Leader
	host, port := splitHostPort(leader)
	status := "up"
	if leader == "" {
		status = "down"
	}
	return []string{"role:slave", "master_host:" + host, "master_port:" + port, "master_link_status:" + status}
}

func (n *Node) raftInfo() []string {
	st := n.raft.Stats()
	writes, entries := n.logs.writes.Load(), n.logs.entries.Load()
	perWrite := 0.0
	if writes > 0 {
		perWrite = float64(entries) / float64(writes)
	}
	batches, commands := n.proposer.batches.Load(), n.proposer.commands.Load()
	perBatch := 0.0
	if batches > 0 {
		perBatch = float64(commands) / float64(batches)
	}
	_, leader := n.raft.LeaderWithID()
	return []string{
		"raft_state:" + strings.ToLower(n.raft.State().String()),
		"raft_term:" + st["term"],
		"raft_leader_id:" + string(leader),
		"raft_commit_index:" + strconv.FormatUint(n.raft.CommitIndex(), 10),
		"raft_applied_index:" + strconv.FormatUint(n.fsm.Applied(), 10),
		"raft_last_log_index:" + st["last_log_index"],
		"raft_last_snapshot_index:" + st["last_snapshot_index"],
		"raft_last_snapshot_term:" + st["last_snapshot_term"],
		"raft_num_peers:" + st["num_peers"],
		"raft_log_writes:" + strconv.FormatUint(writes, 10),
		"raft_log_entries:" + strconv.FormatUint(entries, 10),
		"raft_entries_per_write:" + strconv.FormatFloat(perWrite, 'f', 2, 64),
		"raft_proposed_batches:" + strconv.FormatUint(batches, 10),
		"raft_proposed_commands:" + strconv.FormatUint(commands, 10),
		"raft_commands_per_batch:" + strconv.FormatFloat(perBatch, 'f', 2, 64),
	}
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

// serverInfo is one Raft server as the cluster commands describe it.
type serverInfo struct {
	ID         string
	RaftAddr   string
	ClientAddr string // "" if gossip has not told us yet
	Leader     bool
	Voter      bool
	Status     Status
}

// servers lists the Raft configuration, leader first, joined with gossip.
func (n *Node) servers() []serverInfo {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	_, leader := n.raft.LeaderWithID()
	var out []serverInfo
	for _, s := range f.Configuration().Servers {
		si := serverInfo{ID: string(s.ID), RaftAddr: string(s.Address), Leader: s.ID == leader, Voter: s.Suffrage == raft.Voter}
		if m, ok := n.members.get(si.ID); ok {
			si.ClientAddr, si.Status = m.ClientAddr, m.Status
		}
		out = append(out, si)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Leader && !out[j].Leader })
	return out
}

// cmdCluster emulates Redis Cluster with one shard owning every slot whose
// master is the Raft leader, so cluster-aware clients find the leader.
func cmdCluster(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	servers := n.servers()
	haveLeader := len(servers) > 0 && servers[0].Leader && servers[0].ClientAddr != ""
	switch strings.ToUpper(args[1].Text()) {
	case "MYID":
		return resp.BulkString(nodeHash(n.cfg.NodeID))
	case "INFO":
		state := "ok"
		if !haveLeader {
			state = "fail"
		}
		term := strconv.FormatUint(n.raft.CurrentTerm(), 10)
		return resp.BulkString(strings.Join([]string{"cluster_state:" + state, "cluster_slots_assigned:16384",
			"cluster_slots_ok:16384", "cluster_slots_pfail:0", "cluster_slots_fail:0",
			"cluster_known_nodes:" + strconv.Itoa(len(servers)), "cluster_size:1",
			"cluster_current_epoch:" + term, "cluster_my_epoch:" + term}, "\r\n") + "\r\n")
	case "SLOTS":
		if !haveLeader {
			return resp.Array()
		}
		row := []resp.Value{resp.Int(0), resp.Int(16383)}
		for _, s := range servers {
			if s.ClientAddr == "" {
				continue
			}
			host, port := splitHostPort(s.ClientAddr)
			p, _ := strconv.Atoi(port)
			row = append(row, resp.Array(resp.BulkString(host), resp.Int(int64(p)), resp.BulkString(nodeHash(s.ID))))
		}
		return resp.Array(resp.Array(row...))
	case "SHARDS":
		if !haveLeader {
			return resp.Array()
		}
		var nodes []resp.Value
		for _, s := range servers {
			if s.ClientAddr == "" {
				continue
			}
			host, port := splitHostPort(s.ClientAddr)
			p, _ := strconv.Atoi(port)
			role := "replica"
			if s.Leader {
				role = "master"
			}
			nodes = append(nodes, resp.Dict(
				resp.BulkString("id"), resp.BulkString(nodeHash(s.ID)),
				resp.BulkString("port"), resp.Int(int64(p)),
				resp.BulkString("ip"), resp.BulkString(host),
				resp.BulkString("endpoint"), resp.BulkString(host),
				resp.BulkString("role"), resp.BulkString(role),
				resp.BulkString("replication-offset"), resp.Int(int64(n.fsm.Applied())),
				resp.BulkString("health"), resp.BulkString("online")))
		}
		return resp.Array(resp.Dict(
			resp.BulkString("slots"), resp.Array(resp.Int(0), resp.Int(16383)),
			resp.BulkString("nodes"), resp.Array(nodes...)))
	case "NODES":
		var sb strings.Builder
		leaderHash := "-"
		if haveLeader {
			leaderHash = nodeHash(servers[0].ID)
		}
		for _, s := range servers {
			host, port := splitHostPort(s.ClientAddr)
			flags := "slave"
			master, slots := leaderHash, ""
			if s.Leader {
				flags, master, slots = "master", "-", " 0-16383"
			}
			if s.ID == n.cfg.NodeID {
				flags = "myself," + flags
			}
			link := "connected"
			if s.Status == StatusFailed {
				flags += ",fail"
				link = "disconnected"
			}
			fmt.Fprintf(&sb, "%s %s:%s@0 %s %s 0 0 %d %s%s\n", nodeHash(s.ID), host, port, flags, master,
				n.raft.CurrentTerm(), link, slots)
		}
		return resp.BulkString(sb.String())
	case "KEYSLOT":
		return resp.Int(0)
	}
	return resp.Err("ERR unknown subcommand '" + args[1].Text() + "'. Try CLUSTER HELP.")
}

// cmdRole answers ROLE as a Redis master or replica would.
func cmdRole(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	offset := resp.Int(int64(n.fsm.Applied()))
	if n.IsLeader() {
		var replicas []resp.Value
		for _, s := range n.servers() {
			if s.ID == n.cfg.NodeID {
				continue
			}
			host, port := splitHostPort(s.ClientAddr)
			replicas = append(replicas, resp.Array(resp.BulkString(host), resp.BulkString(port), resp.BulkString(offset.Text())))
		}
		return resp.Array(resp.BulkString("master"), offset, resp.Array(replicas...))
	}
	host, port := splitHostPort(n.redirect().Leader)
	p, _ := strconv.Atoi(port)
	state := "connected"
	if host == "" {
		state = "connect"
	}
	return resp.Array(resp.BulkString("slave"), resp.BulkString(host), resp.Int(int64(p)), resp.BulkString(state), offset)
}

// cmdMembers lists gossip members joined with the Raft configuration.
func cmdMembers(n *Node, c *resp.Conn, args []resp.Value) resp.Value {
	inRaft := make(map[string]serverInfo)
	for _, s := range n.servers() {
		inRaft[s.ID] = s
	}
	var out []resp.Value
	for _, m := range n.members.list() {
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
		out = append(out, memberValue(m.ID, string(m.Status), m.ClientAddr, m.RaftAddr, raftRole))
	}
	for _, s := range inRaft {
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
