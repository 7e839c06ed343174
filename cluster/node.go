package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Node is one member of a kvorum cluster: Raft, gossip and the client
// front door. Create it with New, run it with Start, stop it with Close.
type Node struct {
	cfg Config
	log *slog.Logger

	fsm   *fsm.FSM
	raft  *raft.Raft
	logs  *countingStore
	snaps *raft.FileSnapshotStore
	trans *progressTransport

	clientLn   net.Listener
	extraLn    net.Listener // SentinelAddr's, nil if none
	tlsLn      net.Listener // TLSAddr's, nil if none
	clientAddr string       // advertised client address
	raftAddr   string       // advertised raft address
	server     *resp.Server // serves clients through the front door (Start)

	gossip   *memberlist.Memberlist
	delegate *gossipDelegate
	members  *registry
	changed  chan struct{} // membership changed: wakes bootstrap and reconcile (cap 1, never blocks)

	lead       office
	leaderNote chan bool // raft NotifyCh

	batches, commands atomic.Uint64 // proposed so far, for INFO
	disk              *diskGuard    // nil without Config.MinFreeDisk
	cycle             cycleStats    // the write path's accounting (accounting.go)
	reads             readStats     // the read gate's accounting (accounting.go)

	ctx    context.Context // ends at Close: every goroutine below watches it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
	started   time.Time
}

// New opens the node's stores and binds its listeners; Start begins serving.
// On error nothing is left open.
func New(cfg Config) (_ *Node, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// n is a local, not the named result: "return nil, err" must not
	// clear it before the deferred cleanup runs.
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), changed: make(chan struct{}, 1),
		leaderNote: make(chan bool, 16), started: time.Now()}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
			n.cancel()
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	n.logs, n.snaps, err = openStores(cfg.DataDir, cfg)
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, func() { n.logs.Close() })

	raftLn, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("listen raft %s: %w", cfg.RaftAddr, err)
	}
	n.raftAddr = advertise(cfg.AdvertiseRaft, cfg.Advertise, raftLn.Addr())
	var layer raft.StreamLayer = &tcpLayer{Listener: raftLn, advertise: addrString(n.raftAddr)}
	if cfg.RaftTLS != nil {
		layer = newTLSLayer(layer, cfg.RaftTLS, n.log)
	}
	if cfg.WrapRaftLayer != nil {
		layer = cfg.WrapRaftLayer(layer)
	}
	n.trans = newProgressTransport(raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 3, Timeout: 5 * time.Second, Logger: hclogFor(n.log, "raft-net"),
	}))
	cleanup = append(cleanup, func() { n.trans.Close() })

	n.clientLn, err = net.Listen("tcp", cfg.ClientAddr)
	if err != nil {
		return nil, fmt.Errorf("listen clients %s: %w", cfg.ClientAddr, err)
	}
	cleanup = append(cleanup, func() { n.clientLn.Close() })
	n.clientAddr = advertise(cfg.AdvertiseClient, cfg.Advertise, n.clientLn.Addr())
	if cfg.SentinelAddr != "" {
		if n.extraLn, err = net.Listen("tcp", cfg.SentinelAddr); err != nil {
			return nil, fmt.Errorf("listen sentinel clients %s: %w", cfg.SentinelAddr, err)
		}
		cleanup = append(cleanup, func() { n.extraLn.Close() })
	}
	if cfg.TLSAddr != "" {
		if cfg.TLS == nil {
			return nil, fmt.Errorf("listen TLS clients %s: no TLS configuration", cfg.TLSAddr)
		}
		ln, err := net.Listen("tcp", cfg.TLSAddr)
		if err != nil {
			return nil, fmt.Errorf("listen TLS clients %s: %w", cfg.TLSAddr, err)
		}
		n.tlsLn = tls.NewListener(ln, cfg.TLS)
		cleanup = append(cleanup, func() { n.tlsLn.Close() })
	}

	n.lead.n = n
	n.fsm = fsm.New(fsm.Config{Logger: n.log})
	n.members = newRegistry()
	n.members.upsert(Member{ID: cfg.NodeID, RaftAddr: n.raftAddr, ClientAddr: n.clientAddr, Status: StatusAlive, Items: true, Runs: true})

	// Raft reads each new entry back; the cache serves those reads (store.go).
	logs, err := raft.NewLogCache(logCacheEntries, n.logs)
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n.raft, err = raft.NewRaft(n.raftConfig(), timedFSM{n.fsm, &n.cycle}, logs, n.logs, n.snaps, n.trans)
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	cleanup = append(cleanup, func() { n.raft.Shutdown().Error() })

	if cfg.GossipAddr != "" {
		if err := n.startGossip(); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// raftConfig is hashicorp/raft's configuration for this node.
func (n *Node) raftConfig() *raft.Config {
	cfg := n.cfg
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hclogFor(n.log, "raft")
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = 5 * time.Millisecond
	rc.MaxAppendEntries = 1024
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NotifyCh = n.leaderNote
	return rc
}

// Start bootstraps if this node should, and starts the background loops
// and serving clients through front, the Redis front door (cmd wires
// door.New(door.Config{Store: n}) in). It returns at once; Close stops
// everything.
func (n *Node) Start(front resp.Handler) error {
	has, err := raft.HasExistingState(n.logs, n.logs, n.snaps)
	if err != nil {
		return fmt.Errorf("check raft state: %w", err)
	}
	if !has && n.cfg.BootstrapExpect <= 1 && len(n.cfg.Join) == 0 {
		// Alone by design: bootstrap a one-node cluster.
		n.log.Info("bootstrapping a one-node cluster", "raft", n.raftAddr)
		cfg := raft.Configuration{Servers: []raft.Server{{ID: raft.ServerID(n.cfg.NodeID), Address: raft.ServerAddress(n.raftAddr)}}}
		if err := n.raft.BootstrapCluster(cfg).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	n.server = resp.NewServer(resp.Config{
		MaxClients: n.cfg.MaxClients, MaxClientsPerIP: n.cfg.MaxClientsPerIP, IdleTimeout: n.cfg.IdleTimeout,
		OutputLimit: n.cfg.OutputLimit, Limits: n.cfg.Limits, Mode: n.cfg.Protocol, Logger: n.log,
	}, front)
	n.goLoop(n.lead.run)
	if n.cfg.MinFreeDisk > 0 {
		n.disk = &diskGuard{dir: n.cfg.DataDir, min: n.cfg.MinFreeDisk, log: n.log}
		n.disk.check()
		n.goLoop(n.disk.run)
	}
	if n.gossip != nil {
		if !has && n.cfg.BootstrapExpect > 1 {
			n.goLoop(n.bootstrapLoop)
		}
		if len(n.cfg.Join) > 0 {
			n.goLoop(n.joinLoop)
		}
	}
	for _, ln := range []net.Listener{n.clientLn, n.extraLn, n.tlsLn} {
		if ln == nil {
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.server.Serve(ln); err != nil && !errors.Is(err, resp.ErrServerClosed) {
				n.log.Error("client listener stopped", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	n.log.Info("serving", "client", n.clientLn.Addr().String(), "advertise", n.clientAddr, "raft", n.raftAddr)
	if n.extraLn != nil {
		n.log.Info("serving sentinel clients", "sentinel", n.extraLn.Addr().String())
	}
	if n.tlsLn != nil {
		n.log.Info("serving TLS clients", "tls", n.tlsLn.Addr().String())
	}
	return nil
}

// TLSAddr returns the bound address of the TLS client listener, "" if
// there is none.
func (n *Node) TLSAddr() string {
	if n.tlsLn == nil {
		return ""
	}
	return n.tlsLn.Addr().String()
}

// SentinelAddr returns the bound address of the Sentinel listener, "" if
// there is none.
func (n *Node) SentinelAddr() string {
	if n.extraLn == nil {
		return ""
	}
	return n.extraLn.Addr().String()
}

// goLoop runs f on a goroutine owned by the node until Close.
func (n *Node) goLoop(f func(ctx context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f(n.ctx)
	}()
}

// ClientAddr returns the bound client address (useful with port 0).
func (n *Node) ClientAddr() string { return n.clientLn.Addr().String() }

// RaftAddr returns the advertised Raft address.
func (n *Node) RaftAddr() string { return n.raftAddr }

// GossipAddr returns the bound gossip address, or "" without gossip.
func (n *Node) GossipAddr() string {
	if n.gossip == nil {
		return ""
	}
	m := n.gossip.LocalNode()
	return net.JoinHostPort(m.Addr.String(), fmt.Sprint(m.Port))
}

// ID returns the node id.
func (n *Node) ID() string { return n.cfg.NodeID }

// IsLeader reports whether this node is the Raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Raft exposes the Raft instance to tests and operations tooling.
func (n *Node) Raft() *raft.Raft { return n.raft }

// Close shuts the node down in this order: stop accepting clients and close
// their connections (a write already in the log is still applied, but its
// reply is not sent); hand leadership to another voter if leader;
// leave gossip (so the new leader removes this node only if it left on
// purpose — see Leave); snapshot if the log is long; shut Raft down; close
// the transport and the bolt store. It is idempotent and waits for every
// goroutine the node started.
func (n *Node) Close() error { return n.shutdown(false) }

// Leave is Close after a graceful leave: the cluster removes this node from
// its Raft configuration.
func (n *Node) Leave() error { return n.shutdown(true) }

func (n *Node) shutdown(leave bool) error {
	n.closeOnce.Do(func() {
		n.server.Close()
		if n.IsLeader() && n.voters() > 1 {
			if err := n.raft.LeadershipTransfer().Error(); err != nil {
				n.log.Warn("leadership transfer failed", "err", err)
			}
		}
		if n.gossip != nil {
			if leave {
				if err := n.leaveGossip(2 * time.Second); err != nil {
					n.log.Warn("gossip leave failed", "err", err)
				}
			}
			n.gossip.Shutdown()
		}
		n.cancel()
		n.wg.Wait()
		if n.raft.LastIndex()-n.lastSnapshotIndex() > n.cfg.SnapshotThreshold/2 {
			if err := n.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
				n.log.Warn("shutdown snapshot failed", "err", err)
			}
		}
		if err := n.raft.Shutdown().Error(); err != nil {
			n.closeErr = fmt.Errorf("raft shutdown: %w", err)
		}
		n.trans.Close()
		if err := n.logs.Close(); err != nil && n.closeErr == nil {
			n.closeErr = fmt.Errorf("close raft log: %w", err)
		}
	})
	return n.closeErr
}

func (n *Node) lastSnapshotIndex() uint64 {
	list, err := n.snaps.List()
	if err != nil || len(list) == 0 {
		return 0
	}
	return list[0].Index
}

// voters counts voting servers in the latest Raft configuration.
func (n *Node) voters() int {
	v, _, _ := n.configFlags()
	return v
}

// configFlags reads the Raft configuration once for the tenure's flags:
// how many voters it has, and whether every server announces in gossip
// that it applies fsm.EntryItems, and their run form. A failed read gives
// 0 and false, the cautious answers.
func (n *Node) configFlags() (voters int, items, runs bool) {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0, false, false
	}
	items, runs = true, true
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
		m, ok := n.members.get(string(s.ID))
		items = items && ok && m.Items
		runs = runs && ok && m.Runs
	}
	return voters, items, items && runs
}

// stoppable is a goroutine with a way to stop it and wait for it.
type stoppable struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startStoppable(parent context.Context, f func(context.Context)) *stoppable {
	ctx, cancel := context.WithCancel(parent)
	s := &stoppable{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		f(ctx)
	}()
	return s
}

// stop cancels the goroutine and waits for it; a nil stoppable is a no-op.
func (s *stoppable) stop() {
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
}

// notify wakes the bootstrap and reconcile loops without blocking.
func (n *Node) notify() {
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

// Ready reports whether this node is a leader that has applied its term's
// barrier and so serves clients as leader.
func (n *Node) Ready() bool { return n.lead.current() != nil }

// Kill stops the node abruptly, as a crash would: no leadership transfer,
// no gossip leave, no snapshot. For tests and for fatal errors.
func (n *Node) Kill() {
	n.closeOnce.Do(func() {
		n.server.Close()
		if n.gossip != nil {
			n.gossip.Shutdown()
		}
		n.cancel()
		n.wg.Wait()
		n.raft.Shutdown().Error()
		n.trans.Close()
		n.logs.Close()
	})
}
