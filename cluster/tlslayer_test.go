package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/internal/certs"
	"github.com/kvorum/kvorum/internal/logtest"
	"github.com/kvorum/kvorum/internal/resptest"
)

// testRaftTLS returns a RaftTLS presenting a certificate from ca (valid for
// 127.0.0.1) and trusting the roots given (ca's alone if none).
func testRaftTLS(t *testing.T, ca *certs.CA, roots ...*certs.CA) *RaftTLS {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue("node", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) == 0 {
		roots = []*certs.CA{ca}
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r.Cert)
	}
	return &RaftTLS{Certificate: func() *tls.Certificate { return &cert }, CAs: pool}
}

func newTestCA(t *testing.T, name string) *certs.CA {
	t.Helper()
	ca, err := certs.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// testTransport is a raft NetworkTransport on 127.0.0.1:0 over the node's
// own stream layers (TLS if c is not nil) that answers every RPC it is
// served with success and counts them.
type testTransport struct {
	*raft.NetworkTransport
	addr   string
	served atomic.Int64
	warned atomic.Int64 // "refused a connection" warnings its TLS layer logged
}

func newTestTransport(t *testing.T, c *RaftTLS) *testTransport {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tt := &testTransport{addr: ln.Addr().String()}
	w := newTWriter(t) // before the transport's cleanup, so it runs after it
	log := slog.New(logtest.Counting(slog.NewTextHandler(w, nil), "raft: refused", &tt.warned))
	var layer raft.StreamLayer = &tcpLayer{Listener: ln, advertise: addrString(tt.addr)}
	if c != nil {
		layer = newTLSLayer(layer, c, log)
	}
	tt.NetworkTransport = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 1, Timeout: 5 * time.Second, Logger: hclogFor(log, "raft-net"),
	})
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() { // owned: stopped in t.Cleanup
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case rpc := <-tt.Consumer():
				tt.served.Add(1)
				rpc.Respond(&raft.AppendEntriesResponse{Success: true}, nil)
			}
		}
	}()
	t.Cleanup(func() {
		tt.Close()
		close(done)
		<-stopped
	})
	return tt
}

// appendTo sends one AppendEntries RPC from tt to addr.
func (tt *testTransport) appendTo(addr string) error {
	var out raft.AppendEntriesResponse
	return tt.AppendEntries("peer", raft.ServerAddress(addr), &raft.AppendEntriesRequest{Term: 1}, &out)
}

// tWriter logs through t.Log until the test ends: raft's connection
// goroutines may log after the transport is closed, and t.Log after a
// test completes panics.
type tWriter struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func newTWriter(t *testing.T) *tWriter {
	w := &tWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
	})
	return w
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Two TLS layers with certificates from the same CA carry Raft RPCs both
// ways, and each proves itself to the other's admission probe.
func TestTLSLayer_SameCA(t *testing.T) {
	ca := newTestCA(t, "cluster CA")
	a, b := newTestTransport(t, testRaftTLS(t, ca)), newTestTransport(t, testRaftTLS(t, ca))
	if err := a.appendTo(b.addr); err != nil {
		t.Fatalf("a -> b: %v", err)
	}
	if err := b.appendTo(a.addr); err != nil {
		t.Fatalf("b -> a: %v", err)
	}
	if a.served.Load() != 1 || b.served.Load() != 1 {
		t.Fatalf("served %d and %d RPCs, want 1 each", a.served.Load(), b.served.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := testRaftTLS(t, ca).probe(ctx, b.addr); err != nil {
		t.Fatalf("probe of a node with a certificate from the CA: %v", err)
	}
	if a.warned.Load() != 0 || b.warned.Load() != 0 {
		t.Fatalf("a good peer was refused: %d, %d warnings", a.warned.Load(), b.warned.Load())
	}
}

// A plain TCP peer gets no Raft service from a TLS layer: its RPC fails,
// nothing reaches raft, and a raw connection that sends an RPC's bytes is
// closed without a byte in reply. Nor can a TLS node talk to a plain one.
func TestTLSLayer_PlainTCPGetsNothing(t *testing.T) {
	ca := newTestCA(t, "cluster CA")
	secure, plain := newTestTransport(t, testRaftTLS(t, ca)), newTestTransport(t, nil)
	if err := plain.appendTo(secure.addr); err == nil {
		t.Fatal("a plain TCP transport's RPC to a TLS one succeeded")
	}
	if err := secure.appendTo(plain.addr); err == nil {
		t.Fatal("a TLS transport's RPC to a plain one succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := testRaftTLS(t, ca).probe(ctx, plain.addr); err == nil {
		t.Fatal("the admission probe passed a plain TCP node")
	}

	conn, err := net.DialTimeout("tcp", secure.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	// rpcAppendEntries (0) then a msgpack map, as raft's transport sends.
	if _, err := conn.Write([]byte{0, 0x81, 0xa4, 'T', 'e', 'r', 'm', 0x01}); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	var ne net.Error
	if len(got) > 0 || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("plain TCP to the TLS layer read %q, %v; want the connection closed with nothing sent", got, err)
	}
	if n := secure.served.Load(); n != 0 {
		t.Fatalf("the TLS transport served %d RPCs from plain TCP", n)
	}
	resptest.WaitFor(t, "the TLS layer to log the refused connections", 10*time.Second, func() bool { return secure.warned.Load() >= 2 })
}

// A layer whose certificate comes from another CA can neither dial a
// cluster node nor be dialed by one, whether it trusts the cluster CA (its
// certificate is refused) or only its own (it refuses theirs too); and it
// fails the admission probe.
func TestTLSLayer_OtherCA(t *testing.T) {
	ca, other := newTestCA(t, "cluster CA"), newTestCA(t, "another CA")
	good := newTestTransport(t, testRaftTLS(t, ca))
	for name, c := range map[string]*RaftTLS{
		"trusting the cluster CA": testRaftTLS(t, other, ca),
		"trusting its own CA":     testRaftTLS(t, other),
	} {
		t.Run(name, func(t *testing.T) {
			stranger := newTestTransport(t, c)
			if err := stranger.appendTo(good.addr); err == nil {
				t.Fatal("the stranger's RPC to a cluster node succeeded")
			}
			if err := good.appendTo(stranger.addr); err == nil {
				t.Fatal("a cluster node's RPC to the stranger succeeded")
			}
			if good.served.Load() != 0 || stranger.served.Load() != 0 {
				t.Fatalf("RPCs served: cluster node %d, stranger %d; want none", good.served.Load(), stranger.served.Load())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := testRaftTLS(t, ca).probe(ctx, stranger.addr); err == nil {
				t.Fatal("the admission probe passed the stranger")
			}
		})
	}
}

// A configuration whose own certificate its peers would refuse fails
// validation, with the cause.
func TestRaftTLS_Validate(t *testing.T) {
	ca, other := newTestCA(t, "cluster CA"), newTestCA(t, "another CA")
	if err := testRaftTLS(t, ca).validate(); err != nil {
		t.Fatalf("a certificate from the CA: %v", err)
	}
	for name, c := range map[string]*RaftTLS{
		"no CAs":          {Certificate: testRaftTLS(t, ca).Certificate},
		"no certificate":  {CAs: testRaftTLS(t, ca).CAs},
		"nil certificate": {Certificate: func() *tls.Certificate { return nil }, CAs: testRaftTLS(t, ca).CAs},
		"another CA's":    testRaftTLS(t, other, ca),
	} {
		if err := c.validate(); err == nil {
			t.Errorf("%s: validated", name)
		}
	}
}

// A layer whose CAs come from CurrentCAs checks every new handshake
// against the pool of the moment, without being rebuilt: a peer with a
// certificate from a CA it does not trust yet is refused on every path
// (accepted and dialed Raft connections, the admission probe, the follower
// proxy's relay on both sides), accepted on each once the pool holds its
// CA, and refused again on new connections once the CA is dropped.
func TestTLSLayer_FollowsCAChange(t *testing.T) {
	ca, next := newTestCA(t, "cluster CA"), newTestCA(t, "next CA")
	pool := func(cas ...*certs.CA) *x509.CertPool {
		p := x509.NewCertPool()
		for _, c := range cas {
			p.AddCert(c.Cert)
		}
		return p
	}
	var cur atomic.Pointer[x509.CertPool]
	cur.Store(pool(ca))
	node := testRaftTLS(t, ca)
	node.CAs, node.CurrentCAs = nil, cur.Load
	peer := testRaftTLS(t, next, ca, next) // renewed from the next CA; trusts both
	a, b := newTestTransport(t, node), newTestTransport(t, peer)
	nodeRelay, peerRelay := newRelayServer(t, node), newRelayServer(t, peer)

	// paths tries each path on a new connection and returns the error of
	// each, nil where the peer got through.
	paths := func() map[string]error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return map[string]error{
			"raft accept":  b.appendTo(a.addr),
			"raft dial":    a.appendTo(b.addr),
			"probe":        node.probe(ctx, b.addr),
			"relay accept": relayTo(ctx, peer, nodeRelay),
			"relay dial":   relayTo(ctx, node, peerRelay),
		}
	}
	for path, err := range paths() {
		if err == nil {
			t.Errorf("%s: a certificate from a CA not in the pool got through", path)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if n := a.served.Load(); n != 0 {
		t.Fatalf("the layer served %d RPCs from a peer outside its CAs", n)
	}

	cur.Store(pool(ca, next))
	for path, err := range paths() {
		if err != nil {
			t.Errorf("%s after the pool took the next CA: %v", path, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	cur.Store(pool(ca))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.probe(ctx, b.addr); err == nil {
		t.Error("probe: passed after the next CA was dropped")
	}
	if err := relayTo(ctx, peer, nodeRelay); err == nil {
		t.Error("relay accept: served after the next CA was dropped")
	}
}

// newRelayServer serves c.listenerConfig on 127.0.0.1:0 until the test
// ends: each connection that completes the handshake gets "ok" and is
// closed. It returns the address.
func newRelayServer(t *testing.T, c *RaftTLS) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clients := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.current() }}
	cfg := c.listenerConfig(clients)
	stopped := make(chan struct{})
	go func() { // owned: stopped in t.Cleanup
		defer close(stopped)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			tc := tls.Server(conn, cfg)
			if tc.Handshake() == nil {
				tc.Write([]byte("ok"))
			}
			tc.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-stopped
	})
	return ln.Addr().String()
}

// relayTo dials addr, a newRelayServer, as c's follower proxy does and
// reads its answer: nil if it was "ok".
func relayTo(ctx context.Context, c *RaftTLS, addr string) error {
	conn, err := c.dialRelay(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	got, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	if string(got) != "ok" {
		return errors.New("relay server answered " + string(got))
	}
	return nil
}
