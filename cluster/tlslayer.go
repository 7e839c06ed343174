package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// RaftTLS is the Raft transport's mutual TLS (Config.RaftTLS; the server's
// --tls-cluster). A certificate that chains to its CAs is the cluster's
// secret: a peer without one can neither send this node Raft traffic nor
// be sent any, and the leader makes a gossip member a voter only after the
// member has shown one at its Raft address (reconcile.go, admission).
//
// This file is the one place that turns a RaftTLS into tls.Configs: the
// transport's two sides, the leader's admission probe, and the follower
// proxy's upstream to the leader's TLS client listener (dialRelay,
// listenerConfig) all use them.
type RaftTLS struct {
	// Certificate returns this node's certificate and key, presented both
	// when it accepts a connection and when it dials one. It is called at
	// every handshake, from the transport's and the reconcile loop's
	// goroutines, so it must be safe for concurrent use; a certificate
	// reloaded meanwhile (the server's SIGHUP) is presented from the next
	// connection on. It must chain to the CAs and allow both server and
	// client authentication (or name no extended key usage).
	Certificate func() *tls.Certificate
	// CAs are the roots a peer's certificate must chain to, unless
	// CurrentCAs is set.
	CAs *x509.CertPool
	// CurrentCAs, if set, returns the roots instead of CAs. Like
	// Certificate, it is called at every handshake (accepted, dialed, the
	// admission probe, the follower proxy's relay on either side), from
	// the transport's, the reconcile loop's and client connections'
	// goroutines, so it must be safe for concurrent use; CA files reloaded
	// meanwhile (the server's SIGHUP) check the next handshake on. It must
	// not return nil.
	CurrentCAs func() *x509.CertPool
}

// handshakeTimeout bounds the TLS handshake of a Raft connection, on both
// sides: a peer that connects and says nothing, or not TLS, is dropped.
const handshakeTimeout = 10 * time.Second

// errNoCertificate fails a handshake when RaftTLS.Certificate has no
// certificate to present; errNoCAs fails one when there are no roots to
// check the peer's against (x509 would otherwise take the system's).
var (
	errNoCertificate = errors.New("raft TLS has no certificate to present")
	errNoCAs         = errors.New("raft TLS has no CA certificates to check a peer against")
)

// validate checks that c is complete and that this node's own certificate
// would pass its peers' checks, so a wrong file fails at start-up with its
// cause rather than as refused handshakes later.
func (c *RaftTLS) validate() error {
	if c.Certificate == nil || c.roots() == nil {
		return errors.New("config: raft TLS needs a certificate and CA certificates")
	}
	cert := c.Certificate()
	if cert == nil || len(cert.Certificate) == 0 {
		return errors.New("config: raft TLS: no certificate")
	}
	chain := make([]*x509.Certificate, 0, len(cert.Certificate))
	for _, der := range cert.Certificate {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("config: raft TLS: parse this node's certificate: %w", err)
		}
		chain = append(chain, x)
	}
	// A peer checks it as a server's when it dials this node and as a
	// client's when this node dials it: both must pass.
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if err := verifyChain(c.roots(), chain, usage); err != nil {
			return fmt.Errorf("config: raft TLS: this node's certificate would be refused by its peers: %w", err)
		}
	}
	return nil
}

// roots returns the CAs a peer's certificate must chain to now:
// CurrentCAs's, or CAs.
func (c *RaftTLS) roots() *x509.CertPool {
	if c.CurrentCAs != nil {
		return c.CurrentCAs()
	}
	return c.CAs
}

// current is Certificate for crypto/tls's callbacks.
func (c *RaftTLS) current() (*tls.Certificate, error) {
	if cert := c.Certificate(); cert != nil {
		return cert, nil
	}
	return nil, errNoCertificate
}

// serverConfig is the accepting side's: a peer must present a certificate
// (crypto/tls requires one) that chains to the CAs of the moment, with
// client-auth usage (verifyPeer).
func (c *RaftTLS) serverConfig() *tls.Config {
	return &tls.Config{
		// Both ends are kvorum nodes: no old peer needs anything older.
		MinVersion:       tls.VersionTLS13,
		GetCertificate:   func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.current() },
		ClientAuth:       tls.RequireAnyClientCert, // not unverified: VerifyConnection verifies the chain
		VerifyConnection: c.verifyPeer(x509.ExtKeyUsageClientAuth),
	}
}

// clientConfig is the dialing side's: the peer's certificate must chain to
// the CAs of the moment, with server-auth usage (verifyPeer), and this node
// presents its own.
//
// crypto/tls's default check is off because it also matches the dialed
// host against the certificate's names. A Raft address is whatever a peer
// advertises — an IP, a container name, a NAT'd address — and the same
// certificate often serves several; what a peer must prove here is that
// it belongs to the cluster (a certificate from the cluster CA), not that
// it owns a name. Raft checks who the peer is by its server ID.
func (c *RaftTLS) clientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c.current() },
		InsecureSkipVerify:   true, // not skipped: VerifyConnection verifies the chain, without the host name
		VerifyConnection:     c.verifyPeer(x509.ExtKeyUsageServerAuth),
	}
}

// verifyPeer returns the one check of a peer's certificate, for both
// sides' VerifyConnection (usage: server-auth when this node dialed,
// client-auth when it accepted): the chain it presented leads to the roots
// read at this handshake, so a CA file reloaded since (CurrentCAs) applies
// from the next handshake on, on connections made by configurations built
// before it. crypto/tls calls it on resumed sessions too.
func (c *RaftTLS) verifyPeer(usage x509.ExtKeyUsage) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		return verifyChain(c.roots(), cs.PeerCertificates, usage)
	}
}

// verifyChain checks that chain (leaf first, then intermediates) leads to
// one of roots and allows usage. nil roots fail it.
func verifyChain(roots *x509.CertPool, chain []*x509.Certificate, usage x509.ExtKeyUsage) error {
	if roots == nil {
		return errNoCAs
	}
	if len(chain) == 0 {
		return errors.New("peer presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

// clientHandshake runs the dialing side's handshake on conn within ctx;
// on failure it closes conn.
func clientHandshake(ctx context.Context, conn net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("mutual TLS handshake with %s: %w", conn.RemoteAddr(), err)
	}
	return tc, nil
}

// probe dials addr, a member's Raft address, and completes a mutual TLS
// handshake within ctx: the peer there holds a certificate from the CAs. It
// then closes its side and reads to the end, which also surfaces a peer
// that refused this node's certificate (with TLS 1.3 the dialing side's
// handshake completes before the peer has checked it), and lets the peer's
// Raft transport see a clean EOF rather than a reset.
func (c *RaftTLS) probe(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	tc, err := clientHandshake(ctx, conn, c.clientConfig())
	if err != nil {
		return err
	}
	defer tc.Close()
	if dl, ok := ctx.Deadline(); ok {
		tc.SetDeadline(dl)
	}
	if err := tc.CloseWrite(); err != nil {
		return fmt.Errorf("raft TLS probe of %s: %w", addr, err)
	}
	if _, err := io.Copy(io.Discard, tc); err != nil {
		return fmt.Errorf("raft TLS probe of %s: %w", addr, err)
	}
	return nil
}

// relayServerName is the server name (SNI) a follower proxy's upstream
// asks for at the leader's TLS client listener. It selects the nodes'
// configuration there (listenerConfig): mutual TLS with the Raft
// certificates, as a Raft connection has, instead of the one for clients.
// A name under .invalid (RFC 2606) is no host's, so no client asks for it
// by accident; one that asks for it on purpose must hold a certificate
// from the cluster CA.
const relayServerName = "relay.kvorum.invalid"

// dialRelay connects to addr, a leader's TLS client listener, and completes
// a mutual TLS handshake within ctx, checked as a Raft dial checks it: the
// leader's chain to the CAs of the moment, with no host name, and this
// node's certificate presented. On error nothing is left open.
func (c *RaftTLS) dialRelay(ctx context.Context, addr string) (*tls.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := c.clientConfig()
	cfg.ServerName = relayServerName
	return clientHandshake(ctx, conn, cfg)
}

// listenerConfig returns the TLS client listener's configuration with the
// follower proxy's upstream added (Config.TLS; withDefaults): a handshake
// that asks for relayServerName gets serverConfig, which requires a
// certificate from the CAs of the moment and presents this node's; any
// other is served by clients as before, so clients see no change.
func (c *RaftTLS) listenerConfig(clients *tls.Config) *tls.Config {
	cfg := clients.Clone()
	relay, next := c.serverConfig(), clients.GetConfigForClient
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if hello.ServerName == relayServerName {
			return relay, nil
		}
		if next != nil {
			return next(hello)
		}
		return nil, nil // clients' configuration: cfg itself
	}
	return cfg
}

// tlsLayer is raft's StreamLayer with mutual TLS over another layer (the
// TCP one): it accepts and dials through it and adds the handshake.
type tlsLayer struct {
	raft.StreamLayer // underneath: Addr, Close, and the TCP accept and dial
	server, client   *tls.Config
	log              *slog.Logger
}

func newTLSLayer(under raft.StreamLayer, c *RaftTLS, log *slog.Logger) *tlsLayer {
	return &tlsLayer{StreamLayer: under, server: c.serverConfig(), client: c.clientConfig(), log: log}
}

// Accept returns the next connection as a TLS server connection whose
// handshake runs on its first Read or Write (serverConn).
func (l *tlsLayer) Accept() (net.Conn, error) {
	conn, err := l.StreamLayer.Accept()
	if err != nil {
		return nil, err
	}
	return &serverConn{Conn: tls.Server(conn, l.server), log: l.log}, nil
}

// Dial connects to addr and completes the handshake, both within timeout.
func (l *tlsLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := l.StreamLayer.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	return clientHandshake(ctx, conn, l.client)
}

// serverConn is an accepted connection whose TLS handshake runs on its
// first Read or Write, bounded by handshakeTimeout. It runs there, in
// raft's goroutine for the connection, rather than in Accept, because
// raft's accept loop is one goroutine (a slow peer would stall it) and
// pauses after an Accept error (a bad peer would delay good ones).
//
// A failed handshake is logged here, once, with its cause, and reported
// to raft as io.EOF, on which raft closes the connection without logging
// a decode error of its own.
type serverConn struct {
	*tls.Conn
	log  *slog.Logger
	once sync.Once
	err  error
}

func (c *serverConn) handshake() error {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
		defer cancel()
		if err := c.HandshakeContext(ctx); err != nil {
			c.log.Warn("raft: refused a connection that failed mutual TLS", "remote", c.RemoteAddr().String(), "err", err)
			c.err = io.EOF
		}
	})
	return c.err
}

func (c *serverConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *serverConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
