package door

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Redis Sentinel's API, answered by every node on its client port (a Local
// command), so that a plain Redis client configured for Sentinel (redis-py's
// Sentinel, RQ and Celery through it, Jedis, go-redis's FailoverClient) asks
// any node for the master, connects to the Raft leader, and after a
// failover asks again and finds the new one, with no kvorum-specific code.
//
// One master is monitored, named Config.SentinelMaster. Its address is the
// one this node's -MOVED would name: itself while it leads (Store.Leading
// is set, so it is ready to serve writes), otherwise the leader the
// redirect names, once this node has seen it lead for sentinelSettle. A
// leader gossip marks failed, a node still becoming leader, a leader seen
// for less than sentinelSettle, or no leader at all is no usable master:
// GET-MASTER-ADDR-BY-NAME answers a null array, and MASTERS and MASTER
// describe the leader Raft names, or else the last master seen, flagged
// s_down, which clients such as redis-py skip. The master is worked out
// afresh for every request, never cached, so a node does not name a master
// it no longer believes leads. The other servers of the Raft configuration
// are the master's replicas, and the nodes other than this one are its
// other sentinels.
//
// Every node is a sentinel and none keeps any state of its own beyond the
// bookkeeping below: there is nothing to configure (MONITOR, SET, REMOVE,
// FAILOVER and the like answer an error), because Raft, not Sentinel,
// elects the master.
//
// +switch-master. A sentinel client subscribes to +switch-master on every
// sentinel. Such event channels (any channel starting with '+') are
// subscribed on any node, leader or not, and outlive leadership changes:
// their messages are this node's own, not the leader's (subscribe routes
// a SUBSCRIBE naming only '+' channels to subscribeEvents). The first such
// subscription starts a watch, owned by the door and stopped by Close,
// that looks at the master every sentinelPoll and at once when this node's
// leadership ends; when the master it sees changes from one known address
// to another, it publishes "<name> <old-ip> <old-port> <new-ip> <new-port>"
// to this node's subscribers. A switch the watch only sees through a period
// with no master (the usual case: the old leader dies, an election follows)
// is published when the new master is known; a switch back and forth
// between two looks is not seen. Only +switch-master is published.

// sentinelPoll is how often the switch watch looks at the master.
const sentinelPoll = 100 * time.Millisecond

// sentinelSettle is how long a follower must have seen a leader before it
// names it. A new leader answers TRYAGAIN until it has applied its term's
// barrier, which a follower cannot see, and a Redis client would take that
// for a failed command, not for a failover to ride through; the leader
// itself names itself the moment it is ready, so a client that asks every
// sentinel in turn, as redis-py does, loses no time to this.
const sentinelSettle = 500 * time.Millisecond

// Sentinel's timing fields that have no kvorum setting behind them (Raft's
// heartbeat and election timeouts govern failover, not a sentinel's): they
// report Redis's defaults so that tools reading them see familiar values.
const (
	sentinelDownAfterMs   = 30000
	sentinelFailoverMs    = 180000
	sentinelParallelSyncs = 1
)

// sentinel is the door's Sentinel bookkeeping: the last master seen (for
// MASTERS while none is usable, and for +switch-master), and the switch
// watch.
type sentinel struct {
	name string

	mu        sync.Mutex
	named     Server    // the master named at the last look, usable or not
	namedAt   time.Time // when named was first seen
	last      Server    // the last usable master seen; ClientAddr "" if none yet
	since     time.Time // when last was first seen as master
	downSince time.Time // when no usable master was first seen; zero while one is
	watching  bool      // the switch watch runs (sentinel_events.go)
}

func newSentinel(name string) *sentinel { return &sentinel{name: name} }

// see records a look at the cluster: m is the master named, usable or
// not, and self whether it is this node, which leads. It returns whether m
// is usable now (a master named by a follower is usable once it has been
// named for sentinelSettle), the last usable master seen with the time it
// was first seen, and the time since which none has been usable (zero if
// one is).
func (s *sentinel) see(m Server, usable, self bool, now time.Time) (ok bool, last Server, since, downSince time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.ClientAddr != s.named.ClientAddr || s.namedAt.IsZero() {
		s.named, s.namedAt = m, now
	}
	if usable && !self && now.Sub(s.namedAt) < sentinelSettle {
		usable = false
	}
	if usable {
		if m.ClientAddr != s.last.ClientAddr || s.since.IsZero() {
			s.since = now
		}
		s.last, s.downSince = m, time.Time{}
	} else if s.downSince.IsZero() {
		s.downSince = now
	}
	return usable, s.last, s.since, s.downSince
}

func sentinelCommands() []Command {
	return []Command{{Name: "SENTINEL", Kind: Local, Arity: -2, Answer: cmdSentinel}}
}

// sentinelArity is a subcommand's argument count, SENTINEL included, or 0
// for a subcommand kvorum does not answer.
func sentinelArity(sub string) int {
	switch sub {
	case "masters", "myid", "help":
		return 2
	case "master", "get-master-addr-by-name", "replicas", "slaves", "sentinels", "ckquorum":
		return 3
	}
	return 0
}

// cmdSentinel answers SENTINEL's read-only subcommands as a Redis 7
// sentinel monitoring one master, the Raft leader.
func cmdSentinel(d *Door, c *resp.Conn, args []resp.Value) resp.Value {
	sub := strings.ToLower(args[1].Text())
	n := sentinelArity(sub)
	switch {
	case n == 0:
		switch sub {
		case "monitor", "remove", "set", "failover", "reset", "flushconfig", "config", "simulate-failure",
			"is-master-down-by-addr":
			return resp.Err("ERR SENTINEL " + strings.ToUpper(sub) + " is not supported: kvorum's master is the Raft leader")
		}
		return errUnknownSubcommand(args[1], "SENTINEL")
	case len(args) != n:
		return fsm.WrongArity("sentinel|" + sub)
	}
	v := d.sentinelView()
	if n == 3 && args[2].Text() != d.sentinel.name {
		if sub == "get-master-addr-by-name" {
			return resp.NullArray()
		}
		return resp.Err("ERR No such master with that name")
	}
	switch sub {
	case "myid":
		return resp.BulkString(nodeHash(v.st.ID))
	case "masters":
		return resp.Array(v.masterValue())
	case "master":
		return v.masterValue()
	case "get-master-addr-by-name":
		if !v.usable {
			return resp.NullArray()
		}
		host, port := splitHostPort(v.master.ClientAddr)
		return resp.Array(resp.BulkString(host), resp.BulkString(port))
	case "replicas", "slaves":
		var out []resp.Value
		for _, s := range v.replicas() {
			out = append(out, v.replicaValue(s))
		}
		return resp.Array(out...)
	case "sentinels":
		var out []resp.Value
		for _, s := range v.sentinels() {
			out = append(out, sentinelValue(s))
		}
		return resp.Array(out...)
	case "ckquorum":
		return v.ckquorum()
	}
	return sentinelHelp()
}

func sentinelHelp() resp.Value {
	lines := []string{
		"SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"MASTERS", "    Show the master (the Raft leader) and its state.",
		"MASTER <master-name>", "    Show the state of the master.",
		"GET-MASTER-ADDR-BY-NAME <master-name>", "    Return the ip and port of the master, or null if none is usable.",
		"REPLICAS <master-name>", "    Show the replicas (the Raft followers) and their state.",
		"SENTINELS <master-name>", "    Show the other nodes, each a sentinel, and their state.",
		"CKQUORUM <master-name>", "    Check that a majority of the Raft voters is available.",
		"MYID", "    Return this node's id.",
		"HELP", "    Print this help.",
	}
	out := make([]resp.Value, len(lines))
	for i, l := range lines {
		out[i] = resp.Simple(l)
	}
	return resp.Array(out...)
}

// sentinelView is one look at the cluster in Sentinel's terms.
type sentinelView struct {
	name      string
	st        Status
	master    Server // the master's server; ClientAddr "" if none is known
	usable    bool   // master is known, serving, not marked failed, and settled (see)
	since     time.Time
	downSince time.Time
	now       time.Time
}

// sentinelView looks at the cluster now and records what it found.
func (d *Door) sentinelView() sentinelView {
	st := d.store.Status()
	m, usable, self := d.currentMaster(st)
	now := time.Now()
	usable, last, since, downSince := d.sentinel.see(m, usable, self, now)
	if m.ClientAddr == "" {
		m = last
	}
	return sentinelView{name: d.sentinel.name, st: st, master: m, usable: usable, since: since, downSince: downSince, now: now}
}

// currentMaster returns the server this node's -MOVED would name (itself
// while it leads, self true) and whether it is usable: known by its client
// address, serving, and not marked failed. A leader Raft names but that is
// not usable (failed, or this node becoming leader) is returned unusable,
// so that MASTERS flags the right address s_down.
func (d *Door) currentMaster(st Status) (m Server, usable, self bool) {
	if d.store.Leading() != nil {
		me := Server{ID: st.ID, ClientAddr: st.ClientAddr, Leader: true, Voter: true}
		for _, s := range st.Servers {
			if s.ID == st.ID && s.ClientAddr != "" {
				me = s
			}
		}
		return me, true, true
	}
	if addr := d.leaderAddr(); addr != "" {
		for _, s := range st.Servers {
			if s.ClientAddr == addr {
				return s, !s.Failed, false
			}
		}
		return Server{ClientAddr: addr, Leader: true}, true, false
	}
	if len(st.Servers) > 0 && st.Servers[0].Leader {
		return st.Servers[0], false, false
	}
	return Server{}, false, false
}

// replicas are the servers other than the master that clients can reach.
func (v sentinelView) replicas() []Server {
	var out []Server
	for _, s := range v.st.Servers {
		if s.ClientAddr != "" && s.ClientAddr != v.master.ClientAddr {
			out = append(out, s)
		}
	}
	return out
}

// sentinels are the nodes other than this one that clients can reach.
func (v sentinelView) sentinels() []Server {
	var out []Server
	for _, s := range v.st.Servers {
		if s.ClientAddr != "" && s.ID != v.st.ID {
			out = append(out, s)
		}
	}
	return out
}

// voters returns how many Raft voters there are and how many of them are
// not marked failed (this node always counts as available).
func (v sentinelView) voters() (all, usable int) {
	for _, s := range v.st.Servers {
		if !s.Voter {
			continue
		}
		all++
		if !s.Failed || s.ID == v.st.ID {
			usable++
		}
	}
	return all, usable
}

// ckquorum answers as Redis does: OK if a majority of the voters (kvorum's
// quorum and its failover authorization both) is available.
func (v sentinelView) ckquorum() resp.Value {
	all, usable := v.voters()
	if usable >= all/2+1 {
		return resp.Simple("OK " + strconv.Itoa(usable) + " usable Sentinels. Quorum and failover authorization can be reached")
	}
	return resp.Err("NOQUORUM " + strconv.Itoa(usable) + " usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. Not enough available Sentinels to reach the majority and authorize a failover")
}

// fields builds a Sentinel instance reply from name/value pairs: a map in
// RESP3, a flat array of bulk strings in RESP2, as Redis sends it.
type fields []resp.Value

func (f *fields) add(name string, value any) {
	var s string
	switch x := value.(type) {
	case string:
		s = x
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case uint64:
		s = strconv.FormatUint(x, 10)
	}
	*f = append(*f, resp.BulkString(name), resp.BulkString(s))
}

// common adds the fields every instance has, up to down-after-milliseconds.
func (f *fields) common(name string, s Server, flags string, downMs int64) {
	host, port := "?", "0"
	if s.ClientAddr != "" {
		host, port = splitHostPort(s.ClientAddr)
	}
	runid := nodeHash(s.ID)
	if s.ID == "" {
		runid = nodeHash(s.ClientAddr)
	}
	if name == "" {
		name = runid
	}
	f.add("name", name)
	f.add("ip", host)
	f.add("port", port)
	f.add("runid", runid)
	f.add("flags", flags)
	f.add("link-pending-commands", 0)
	f.add("link-refcount", 1)
	f.add("last-ping-sent", 0)
	f.add("last-ok-ping-reply", downMs)
	f.add("last-ping-reply", downMs)
	if strings.HasSuffix(flags, ",s_down") {
		f.add("s-down-time", downMs)
	}
	f.add("down-after-milliseconds", sentinelDownAfterMs)
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// masterValue describes the master as SENTINEL MASTER does.
func (v sentinelView) masterValue() resp.Value {
	var f fields
	flags, downMs := "master", int64(0)
	if !v.usable {
		flags = "master,s_down"
		downMs = ms(v.now.Sub(v.downSince))
	}
	f.common(v.name, v.master, flags, downMs)
	f.add("info-refresh", 0)
	f.add("role-reported", "master")
	roleTime := int64(0)
	if !v.since.IsZero() {
		roleTime = ms(v.now.Sub(v.since))
	}
	f.add("role-reported-time", roleTime)
	all, _ := v.voters()
	f.add("config-epoch", v.st.Term)
	f.add("num-slaves", len(v.replicas()))
	f.add("num-other-sentinels", len(v.sentinels()))
	f.add("quorum", all/2+1)
	f.add("failover-timeout", sentinelFailoverMs)
	f.add("parallel-syncs", sentinelParallelSyncs)
	return resp.Dict(f...)
}

// replicaValue describes a follower as SENTINEL REPLICAS does.
func (v sentinelView) replicaValue(s Server) resp.Value {
	var f fields
	flags := "slave"
	if s.Failed {
		flags += ",s_down"
	}
	f.common(s.ClientAddr, s, flags, 0)
	f.add("info-refresh", 0)
	f.add("role-reported", "slave")
	f.add("role-reported-time", 0)
	linkDown, status, host, port := int64(0), "ok", "?", "0"
	if v.usable {
		host, port = splitHostPort(v.master.ClientAddr)
	} else {
		linkDown, status = ms(v.now.Sub(v.downSince)), "err"
	}
	f.add("master-link-down-time", linkDown)
	f.add("master-link-status", status)
	f.add("master-host", host)
	f.add("master-port", port)
	f.add("slave-priority", 100)
	f.add("slave-repl-offset", v.st.Applied)
	f.add("replica-announced", 1)
	return resp.Dict(f...)
}

// sentinelValue describes another node as SENTINEL SENTINELS does.
func sentinelValue(s Server) resp.Value {
	var f fields
	flags := "sentinel"
	if s.Failed {
		flags += ",s_down"
	}
	f.common("", s, flags, 0)
	f.add("last-hello-message", 0)
	f.add("voted-leader", "?")
	f.add("voted-leader-epoch", 0)
	return resp.Dict(f...)
}
