package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// startGossip joins memberlist on GossipAddr with this node's metadata.
func (n *Node) startGossip() error {
	host, portStr, err := net.SplitHostPort(n.cfg.GossipAddr)
	if err != nil {
		return fmt.Errorf("gossip address %q: %w", n.cfg.GossipAddr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("gossip port %q: %w", portStr, err)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	has, err := raft.HasExistingState(n.logs, n.logs, n.snaps)
	if err != nil {
		return fmt.Errorf("check raft state: %w", err)
	}
	self, _ := n.members.get(n.cfg.NodeID)
	self.HasState = has
	if n.cfg.RaftTLS != nil && n.tlsLn != nil {
		// Where follower proxies dial this node under mutual TLS.
		self.TLSAddr = advertise("", n.advertiseHost(), n.tlsLn.Addr())
	}
	n.members.upsert(self)

	mc := memberlist.DefaultLANConfig()
	mc.Name = n.cfg.NodeID
	mc.BindAddr = host
	mc.BindPort = port
	mc.Logger = stdlogFor(n.log, "memberlist")
	n.delegate = &gossipDelegate{meta: encodeMeta(self)}
	mc.Delegate = n.delegate
	mc.Events = &gossipEvents{n: n}
	if keys := n.cfg.GossipKeys; len(keys) > 0 {
		// Encrypt and verify both ways: a member without the key is
		// neither heard nor told anything.
		ring, err := memberlist.NewKeyring(keys, keys[0])
		if err != nil {
			return fmt.Errorf("gossip keys: %w", err)
		}
		mc.Keyring = ring
		mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	}
	if n.cfg.AdvertiseGossip != "" || n.cfg.Advertise != "" {
		adv := n.cfg.AdvertiseGossip
		if adv == "" {
			adv = net.JoinHostPort(n.cfg.Advertise, portStr)
		}
		ah, ap, err := net.SplitHostPort(adv)
		if err != nil {
			return fmt.Errorf("gossip advertise %q: %w", adv, err)
		}
		ips, err := net.LookupIP(ah)
		if err != nil || len(ips) == 0 {
			return fmt.Errorf("gossip advertise host %q: %v", ah, err)
		}
		mc.AdvertiseAddr = ips[0].String()
		mc.AdvertisePort, _ = strconv.Atoi(ap)
	}
	// Faster failure detection than the LAN default: a dead leader's
	// replacement is elected by Raft anyway; gossip only tells who exists.
	mc.ProbeInterval = 500 * time.Millisecond
	mc.GossipInterval = 100 * time.Millisecond
	// The node id is the identity, not the IP: a restarted container may
	// come back on a new address. Let it reclaim its name from its dead
	// entry at once instead of being refused as a conflicting address
	// (and shown failed) until memberlist forgets the dead entry.
	mc.DeadNodeReclaimTime = 10 * time.Millisecond
	// Others mark the restarted node dead at its old address, which no
	// gossip reaches; only the node's own push/pull tells them it is back.
	// Every 5s (not the LAN default 30s) brings it back within seconds.
	mc.PushPullInterval = 5 * time.Second
	ml, err := memberlist.Create(mc)
	if err != nil {
		return fmt.Errorf("start gossip on %s: %w", n.cfg.GossipAddr, err)
	}
	n.gossip = ml
	return nil
}

// advertiseHost is the host others reach this node's client listeners at:
// Advertise, else the host of AdvertiseClient, else "" (the bound one).
func (n *Node) advertiseHost() string {
	if n.cfg.Advertise != "" {
		return n.cfg.Advertise
	}
	if host, _, err := net.SplitHostPort(n.cfg.AdvertiseClient); err == nil {
		return host
	}
	return ""
}

// joinLoop contacts the seeds with capped exponential backoff until one
// answers, then returns: memberlist keeps the membership afterwards.
func (n *Node) joinLoop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		joined, err := n.gossip.Join(n.cfg.Join)
		// Reaching only ourselves (our own address among the seeds) is not
		// a join: keep trying until another member answers.
		if joined > 0 && n.gossip.NumMembers() > 1 {
			n.log.Info("joined gossip", "contacted", joined)
			return
		}
		if err != nil {
			n.log.Warn("gossip join failed; retrying", "seeds", n.cfg.Join, "err", err, "backoff", backoff)
		} else {
			// Only this node answered (it is among its own seeds): normal
			// while the first node waits for the others to start.
			n.log.Info("gossip join found no other member yet; retrying", "seeds", n.cfg.Join, "backoff", backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// leaveGossip announces the leave in this node's metadata first and then
// leaves. Memberlist's NotifyLeave does not tell a graceful leave from a
// failure (the state it passes is stale), so the intent travels as metadata,
// as Serf's leave intents do.
func (n *Node) leaveGossip(timeout time.Duration) error {
	self, _ := n.members.get(n.cfg.NodeID)
	self.Leaving = true
	n.members.upsert(self)
	n.delegate.setMeta(encodeMeta(self))
	if err := n.gossip.UpdateNode(timeout); err != nil {
		return fmt.Errorf("announce leave: %w", err)
	}
	return n.gossip.Leave(timeout)
}

// gossipDelegate hands memberlist this node's metadata.
type gossipDelegate struct {
	mu   sync.Mutex
	meta []byte
}

func (d *gossipDelegate) setMeta(b []byte) {
	d.mu.Lock()
	d.meta = b
	d.mu.Unlock()
}

func (d *gossipDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.meta) > limit {
		return nil
	}
	return d.meta
}
func (d *gossipDelegate) NotifyMsg([]byte)                           {}
func (d *gossipDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *gossipDelegate) LocalState(join bool) []byte                { return nil }
func (d *gossipDelegate) MergeRemoteState(buf []byte, join bool)     {}

// gossipEvents turns memberlist events into registry updates. Memberlist
// calls these on its own goroutines; they never block.
type gossipEvents struct{ n *Node }

func (e *gossipEvents) NotifyJoin(node *memberlist.Node)   { e.update(node, StatusAlive) }
func (e *gossipEvents) NotifyUpdate(node *memberlist.Node) { e.update(node, StatusAlive) }

func (e *gossipEvents) NotifyLeave(node *memberlist.Node) {
	// memberlist reports both a graceful leave and a failure here; the
	// node's State tells them apart.
	status := StatusFailed
	if m, ok := e.n.members.get(node.Name); (ok && m.Leaving) || node.State == memberlist.StateLeft {
		status = StatusLeft
	}
	e.n.members.setStatus(node.Name, status)
	e.n.log.Info("member gone", "member", node.Name, "status", status)
	e.n.notify()
}

func (e *gossipEvents) update(node *memberlist.Node, s Status) {
	m, err := decodeMeta(node.Name, node.Meta)
	if err != nil {
		e.n.log.Warn("ignoring gossip member", "member", node.Name, "err", err)
		return
	}
	m.Status = s
	e.n.members.upsert(m)
	e.n.notify()
}
