package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/resp"
)

// Config configures a Node. Zero fields take the defaults of DefaultConfig.
type Config struct {
	NodeID  string // unique and stable across restarts (default: hostname)
	DataDir string // raft.db and snapshots/ live here
	// LogStore is the Raft log's store: LogStoreBolt ("boltdb", the
	// default, also for "") or LogStoreWAL ("wal"). A data dir keeps the
	// store it was created with; New refuses the other.
	LogStore string

	ClientAddr string // where clients connect, e.g. ":31337"
	// SentinelAddr is a second client listener, e.g. ":26379", for Sentinel
	// clients configured with Sentinel's own port; it serves the same front
	// door as ClientAddr. "" for none.
	SentinelAddr string
	// TLSAddr is a client listener speaking TLS with TLS's configuration
	// (certificates, client verification), serving the same front door as
	// ClientAddr. "" for none. With RaftTLS it also serves the follower
	// proxies' upstreams: New adds to TLS a configuration chosen by the
	// server name the proxy asks for, mutual TLS with RaftTLS's
	// certificates (tlslayer.go, listenerConfig), and the node advertises
	// the address in gossip (Member.TLSAddr). Clients see no change.
	TLSAddr         string
	TLS             *tls.Config
	AdvertiseClient string // client address put in redirects (default: ClientAddr's bound address, or Advertise host + port)
	RaftAddr        string // Raft TCP transport, e.g. "127.0.0.1:31338"
	AdvertiseRaft   string // Raft address other nodes dial (default: bound RaftAddr)
	GossipAddr      string // memberlist bind address, e.g. ":31339"; "" runs without gossip (one node)
	AdvertiseGossip string // memberlist address others use (default: bound GossipAddr)
	// GossipKeys encrypt and authenticate gossip (memberlist's keyring:
	// AES-128, -192 or -256 by a key's length, 16, 24 or 32 bytes). The
	// first encrypts; every one decrypts, which is how a key is rotated
	// (docs/security.md). A node without a key the others use cannot join,
	// so it never reaches the reconcile loop that makes members Raft
	// voters. None: clear text.
	GossipKeys [][]byte
	// Advertise is a host (name or IP) that fills in the host part of any
	// Advertise* address left empty, for nodes that bind 0.0.0.0.
	Advertise string
	Join      []string // gossip seeds host:port, retried with backoff until one answers

	// BootstrapExpect: with N > 0, a node with no Raft state waits until it
	// sees N members with no Raft state and then bootstraps them all as one
	// configuration. 0: a node with no state and no Join bootstraps alone.
	BootstrapExpect int
	// ReapAfter removes a failed member from the Raft configuration after it
	// has been failed this long (default 72h; negative disables).
	ReapAfter time.Duration
	// ReconcileInterval is how often the leader diffs members against the
	// Raft configuration even without events (default 5s).
	ReconcileInterval time.Duration
	// ExpiryInterval is how often the leader deletes keys past their
	// deadline through the log (default 1s).
	ExpiryInterval time.Duration

	Protocol     resp.Mode     // reply mode of new connections (default native)
	ApplyTimeout time.Duration // how long a write may wait to enter the log (default 5s)
	ReadTimeout  time.Duration // how long a linearizable read may wait for its barrier (default 5s)
	MaxClients   int           // default 10,000
	// MaxClientsPerIP bounds one remote address's connections (0: none).
	MaxClientsPerIP int
	// MinFreeDisk is the free space, in bytes, below which the data
	// directory's filesystem is too full for writes: they are refused with
	// MISCONF and reads go on (diskguard.go). 0: no check.
	MinFreeDisk uint64
	// IdleTimeout closes a client connection idle this long, as Redis's
	// timeout (0: never); blocked clients and subscribers are spared.
	IdleTimeout time.Duration
	OutputLimit int // default 32 MiB
	Limits      resp.Limits

	SnapshotThreshold uint64        // log entries between snapshots (default 16384)
	SnapshotInterval  time.Duration // how often to check SnapshotThreshold (default 30s)
	TrailingLogs      uint64        // entries kept after a snapshot (default 10240)

	HeartbeatTimeout   time.Duration // default 500ms
	ElectionTimeout    time.Duration // default 500ms
	LeaderLeaseTimeout time.Duration // default 250ms

	// RaftTLS, if set, makes the Raft transport speak mutual TLS: every
	// connection, accepted or dialed, needs a peer certificate that chains
	// to RaftTLS's CAs (read at each handshake), and the leader makes a
	// gossip member a voter only after completing such a handshake at the
	// member's Raft address (tlslayer.go; the server's --tls-cluster).
	// nil: plain TCP, and gossip membership alone admits a voter
	// (docs/security.md).
	RaftTLS *RaftTLS

	// WrapRaftLayer, if set, wraps the Raft stream layer (tests use it to
	// cut a node off the network).
	WrapRaftLayer func(raft.StreamLayer) raft.StreamLayer

	Logger *slog.Logger
}

// DefaultConfig returns the defaults for a production node.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		NodeID:             host,
		DataDir:            "./kvorum-data",
		ClientAddr:         ":31337",
		RaftAddr:           "127.0.0.1:31338",
		ReapAfter:          72 * time.Hour,
		ReconcileInterval:  5 * time.Second,
		ExpiryInterval:     time.Second,
		Protocol:           resp.Native,
		ApplyTimeout:       5 * time.Second,
		ReadTimeout:        5 * time.Second,
		SnapshotThreshold:  16384,
		SnapshotInterval:   30 * time.Second,
		TrailingLogs:       10240,
		HeartbeatTimeout:   500 * time.Millisecond,
		ElectionTimeout:    500 * time.Millisecond,
		LeaderLeaseTimeout: 250 * time.Millisecond,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	setDur := func(dst *time.Duration, v time.Duration) {
		if *dst == 0 {
			*dst = v
		}
	}
	set(&c.NodeID, d.NodeID)
	set(&c.DataDir, d.DataDir)
	set(&c.ClientAddr, d.ClientAddr)
	set(&c.RaftAddr, d.RaftAddr)
	setDur(&c.ReapAfter, d.ReapAfter)
	setDur(&c.ReconcileInterval, d.ReconcileInterval)
	setDur(&c.ExpiryInterval, d.ExpiryInterval)
	setDur(&c.ApplyTimeout, d.ApplyTimeout)
	setDur(&c.ReadTimeout, d.ReadTimeout)
	setDur(&c.SnapshotInterval, d.SnapshotInterval)
	setDur(&c.HeartbeatTimeout, d.HeartbeatTimeout)
	setDur(&c.ElectionTimeout, d.ElectionTimeout)
	setDur(&c.LeaderLeaseTimeout, d.LeaderLeaseTimeout)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RaftTLS != nil && c.TLS != nil {
		// The proxies' upstreams (TLSAddr). Applied twice, it would only
		// check the server name twice.
		c.TLS = c.RaftTLS.listenerConfig(c.TLS)
	}
	return c
}

// Validate reports the first problem with c (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.NodeID == "" {
		return errors.New("config: node id is empty (set --node-id)")
	}
	for name, addr := range map[string]string{"client": c.ClientAddr, "raft": c.RaftAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("config: %s address %q: %w", name, addr, err)
		}
	}
	if c.GossipAddr != "" {
		if _, _, err := net.SplitHostPort(c.GossipAddr); err != nil {
			return fmt.Errorf("config: gossip address %q: %w", c.GossipAddr, err)
		}
	}
	for _, k := range c.GossipKeys {
		if n := len(k); n != 16 && n != 24 && n != 32 {
			return fmt.Errorf("config: gossip key of %d bytes: it must be 16, 24 or 32", n)
		}
	}
	if c.RaftTLS != nil {
		if err := c.RaftTLS.validate(); err != nil {
			return err
		}
	}
	if c.BootstrapExpect < 0 {
		return errors.New("config: bootstrap-expect must be >= 0")
	}
	if c.BootstrapExpect > 1 && c.GossipAddr == "" {
		return errors.New("config: bootstrap-expect > 1 needs gossip (set --gossip-addr)")
	}
	if c.Protocol > resp.RESP3 {
		return fmt.Errorf("config: unknown protocol %d", c.Protocol)
	}
	return nil
}

// advertise picks the address others should use for a bound listener: the
// explicit one, else the Advertise host with the bound port, else the bound
// address (with an unspecified IP replaced by the hostname).
func advertise(explicit, host string, bound net.Addr) string {
	if explicit != "" {
		return explicit
	}
	h, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return bound.String()
	}
	if host != "" {
		return net.JoinHostPort(host, port)
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
		if hn, err := os.Hostname(); err == nil {
			return net.JoinHostPort(hn, port)
		}
	}
	return bound.String()
}
