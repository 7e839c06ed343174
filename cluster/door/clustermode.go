package door

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// cmdCluster emulates Redis Cluster with one shard owning every slot whose
// master is the Raft leader, so cluster-aware clients (redis-cli -c,
// go-redis ClusterClient, redis-py RedisCluster) find the leader.
func cmdCluster(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	st := d.store.Status()
	haveLeader := len(st.Servers) > 0 && st.Servers[0].Leader && st.Servers[0].ClientAddr != ""
	switch strings.ToUpper(args[1].Text()) {
	case "MYID":
		return resp.BulkString(nodeHash(st.ID))
	case "INFO":
		return clusterInfo(st, haveLeader)
	case "SLOTS":
		if !haveLeader {
			return resp.Array()
		}
		return clusterSlots(st)
	case "SHARDS":
		if !haveLeader {
			return resp.Array()
		}
		return clusterShards(st)
	case "NODES":
		return clusterNodes(st, haveLeader)
	case "KEYSLOT":
		return resp.Int(0)
	}
	return errUnknownSubcommand(args[1], "CLUSTER")
}

func clusterInfo(st Status, haveLeader bool) resp.Value {
	state := "ok"
	if !haveLeader {
		state = "fail"
	}
	term := strconv.FormatUint(st.Term, 10)
	return resp.BulkString(strings.Join([]string{"cluster_state:" + state, "cluster_slots_assigned:16384",
		"cluster_slots_ok:16384", "cluster_slots_pfail:0", "cluster_slots_fail:0",
		"cluster_known_nodes:" + strconv.Itoa(len(st.Servers)), "cluster_size:1",
		"cluster_current_epoch:" + term, "cluster_my_epoch:" + term}, "\r\n") + "\r\n")
}

func clusterSlots(st Status) resp.Value {
	row := []resp.Value{resp.Int(0), resp.Int(16383)}
	for _, s := range st.Servers {
		if s.ClientAddr == "" {
			continue
		}
		host, port := splitHostPort(s.ClientAddr)
		p, _ := strconv.Atoi(port)
		row = append(row, resp.Array(resp.BulkString(host), resp.Int(int64(p)), resp.BulkString(nodeHash(s.ID))))
	}
	return resp.Array(resp.Array(row...))
}

func clusterShards(st Status) resp.Value {
	var nodes []resp.Value
	for _, s := range st.Servers {
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
			resp.BulkString("replication-offset"), resp.Int(int64(st.Applied)),
			resp.BulkString("health"), resp.BulkString("online")))
	}
	return resp.Array(resp.Dict(
		resp.BulkString("slots"), resp.Array(resp.Int(0), resp.Int(16383)),
		resp.BulkString("nodes"), resp.Array(nodes...)))
}

func clusterNodes(st Status, haveLeader bool) resp.Value {
	var sb strings.Builder
	leaderHash := "-"
	if haveLeader {
		leaderHash = nodeHash(st.Servers[0].ID)
	}
	for _, s := range st.Servers {
		host, port := splitHostPort(s.ClientAddr)
		flags := "slave"
		master, slots := leaderHash, ""
		if s.Leader {
			flags, master, slots = "master", "-", " 0-16383"
		}
		if s.ID == st.ID {
			flags = "myself," + flags
		}
		link := "connected"
		if s.Failed {
			flags += ",fail"
			link = "disconnected"
		}
		fmt.Fprintf(&sb, "%s %s:%s@0 %s %s 0 0 %d %s%s\n", nodeHash(s.ID), host, port, flags, master,
			st.Term, link, slots)
	}
	return resp.BulkString(sb.String())
}
