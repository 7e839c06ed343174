package client

import (
	"cmp"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// Leader search. When the leader's address fails as a dead node does
// (refused, reset, closed at once), resending there or waiting for a
// redirect from it is pointless: the client asks every other node it knows,
// in parallel, who leads, and goes to the answer at once.
//
// Each node is asked ROLE and INFO raft in one round trip. ROLE names the
// leader ("master" about itself; "slave host port ..." naming the leader's
// client address); a node that refuses ROLE is asked CLUSTER SHARDS, whose
// master is the leader. raft_term is the term the node is in. The answer
// of the highest term wins: a node in a later term has seen a later
// election, so a stale leader cut off in an old term, or a follower that
// has not yet heard of the new leader, is outvoted. Among answers of the
// same term, a node's claim to lead itself beats a report about another
// node, then the leader named most often wins. An answer naming the failed
// address is ignored; if no answer is left the call pauses and tries the
// known nodes in turn, skipping the failed one for a while.

// discovery is the leader search in progress, which concurrent calls share
// rather than each asking every node.
type discovery struct {
	mu   sync.Mutex
	done chan struct{} // closed when the running search ends; nil if none runs
}

// answer is one node's account of who leads.
type answer struct {
	leader string   // the leader's address; "" if it named none
	self   bool     // the node said it leads
	term   uint64   // the node's Raft term; 0 if it did not say
	peers  []string // other nodes' addresses it named
}

// probeTimeout bounds asking one node during a leader search.
const probeTimeout = time.Second

// findLeader returns the leader after failed (the leader's address) failed
// as a dead node does: one another call has learned since, or the result
// of a leader search (run by this call, or by a concurrent one this call
// waits for). It returns "" if no node other than failed is named.
func (c *Client) findLeader(ctx context.Context, failed string) string {
	if l := c.Leader(); l != "" && l != failed {
		return l
	}
	c.disc.mu.Lock()
	if ch := c.disc.done; ch != nil {
		c.disc.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		case <-c.done:
		}
		if l := c.Leader(); l != failed {
			return l
		}
		return ""
	}
	ch := make(chan struct{})
	c.disc.done = ch
	c.disc.mu.Unlock()
	defer func() {
		c.disc.mu.Lock()
		c.disc.done = nil
		c.disc.mu.Unlock()
		close(ch)
	}()
	c.stats.leaderSearches.Add(1)
	answers := c.askAll(ctx, failed)
	leader := chooseLeader(answers, failed)
	for _, a := range answers {
		c.learn(a.peers...)
	}
	c.log.Debug("kvorum client: leader search", "failed", failed, "answers", len(answers), "leader", leader)
	if leader != "" {
		c.setLeader(leader)
	}
	return leader
}

// askAll asks every known node but failed who leads, in parallel, each for
// at most probeTimeout, and returns the answers of those that replied.
func (c *Client) askAll(ctx context.Context, failed string) []answer {
	var nodes []string
	for _, a := range c.knownNodes() {
		if a != failed {
			nodes = append(nodes, a)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, min(probeTimeout, c.opt.DialTimeout))
	defer cancel()
	got := make([]answer, len(nodes))
	ok := make([]bool, len(nodes))
	var wg sync.WaitGroup
	for i, addr := range nodes {
		wg.Go(func() { got[i], ok[i] = c.ask(ctx, addr) })
	}
	wg.Wait()
	var out []answer
	for i := range got {
		if ok[i] {
			out = append(out, got[i])
		}
	}
	return out
}

// ask asks the node at addr who leads (ROLE and INFO raft, or CLUSTER
// SHARDS if it refuses ROLE), on a pooled connection. It reports false if
// the node did not answer.
func (c *Client) ask(ctx context.Context, addr string) (answer, bool) {
	p := c.pool(addr)
	if p == nil {
		return answer{}, false
	}
	cn, err := p.get(ctx)
	if err != nil {
		return answer{}, false
	}
	role, info := plainCommand("ROLE"), plainCommand("INFO", "raft")
	_, n, err := cn.exchange(ctx, []*command{role, info}, c.opt.WriteTimeout, c.opt.ReadTimeout)
	if err != nil || n != 2 {
		p.put(cn, false)
		return answer{}, false
	}
	a := answer{term: parseTerm(info.reply)}
	if !role.reply.IsError() {
		a.leader, a.self, a.peers = parseRole(role.reply, addr)
		p.put(cn, true)
		return a, true
	}
	shards := plainCommand("CLUSTER", "SHARDS")
	_, n, err = cn.exchange(ctx, []*command{shards}, c.opt.WriteTimeout, c.opt.ReadTimeout)
	p.put(cn, err == nil)
	if err != nil || n != 1 {
		return answer{}, false
	}
	a.leader, a.peers = parseShards(shards.reply)
	a.self = a.leader == addr
	return a, true
}

// chooseLeader picks the leader from the answers (see the top of this
// file), never failed; "" if none names another node.
func chooseLeader(answers []answer, failed string) string {
	type candidate struct {
		term  uint64
		self  bool
		votes int
	}
	cands := make(map[string]*candidate)
	for _, a := range answers {
		if a.leader == "" || a.leader == failed {
			continue
		}
		cd := cands[a.leader]
		if cd == nil {
			cd = &candidate{}
			cands[a.leader] = cd
		}
		cd.term = max(cd.term, a.term)
		cd.self = cd.self || a.self
		cd.votes++
	}
	best := ""
	var bc *candidate
	for addr, cd := range cands {
		if bc == nil {
			best, bc = addr, cd
			continue
		}
		order := cmp.Or(cmp.Compare(cd.term, bc.term), cmpBool(cd.self, bc.self),
			cmp.Compare(cd.votes, bc.votes), -strings.Compare(addr, best))
		if order > 0 {
			best, bc = addr, cd
		}
	}
	return best
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// parseRole reads a ROLE reply from the node at addr: a master names
// itself and its replicas; a replica names the leader (host "" while it
// knows none).
func parseRole(v resp.Value, addr string) (leader string, self bool, peers []string) {
	el := v.Elems()
	if v.Kind() != resp.KindArray || len(el) == 0 {
		return "", false, nil
	}
	switch strings.ToLower(el[0].Text()) {
	case "master":
		if len(el) > 2 && el[2].Kind() == resp.KindArray {
			for _, r := range el[2].Elems() {
				if re := r.Elems(); len(re) >= 2 {
					peers = append(peers, hostPort(re[0], re[1]))
				}
			}
		}
		return addr, true, peers
	case "slave", "replica":
		if len(el) > 2 {
			return hostPort(el[1], el[2]), false, nil
		}
	}
	return "", false, nil
}

// parseShards reads a CLUSTER SHARDS reply (dicts, or RESP2's flat
// key-value arrays): the master's address, and every node's.
func parseShards(v resp.Value) (leader string, nodes []string) {
	for _, shard := range v.Elems() {
		for _, n := range fields(shard)["nodes"].Elems() {
			f := fields(n)
			host := f["endpoint"]
			if host.Text() == "" {
				host = f["ip"]
			}
			addr := hostPort(host, f["port"])
			if addr == "" {
				continue
			}
			nodes = append(nodes, addr)
			if strings.EqualFold(f["role"].Text(), "master") {
				leader = addr
			}
		}
	}
	return leader, nodes
}

// fields returns a dict's entries, or those of an array of alternating
// keys and values, by key.
func fields(v resp.Value) map[string]resp.Value {
	out := make(map[string]resp.Value)
	el := v.Elems()
	for i := 0; i+1 < len(el); i += 2 {
		out[el[i].Text()] = el[i+1]
	}
	return out
}

// hostPort joins a host and a port (an integer or a string) into an
// address; "" if the host is empty or the port 0.
func hostPort(host, port resp.Value) string {
	h, p := host.Text(), port.Text()
	if h == "" || p == "" || p == "0" {
		return ""
	}
	return net.JoinHostPort(h, p)
}

// parseTerm returns the raft_term of an INFO reply, 0 if there is none.
func parseTerm(v resp.Value) uint64 {
	if v.IsError() {
		return 0
	}
	for line := range strings.Lines(v.Text()) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "raft_term:"); ok {
			n, _ := strconv.ParseUint(rest, 10, 64)
			return n
		}
	}
	return 0
}
