package cluster_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/certs"
	"github.com/kvorum/kvorum/internal/logtest"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/testcluster"
)

// With RaftTLS (the server's --tls-cluster) three nodes with certificates
// from one CA bootstrap and serve over mutual TLS. A fourth whose
// certificate comes from another CA joins gossip (there is no gossip key)
// but never becomes a voter, and a leader warns about it once per tenure,
// not on every reconcile pass.
func TestCluster_RaftTLSAdmitsOnlyTheClusterCA(t *testing.T) {
	ca, err := certs.NewCA("cluster CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	var warned, tenures [3]atomic.Int64 // per node: admission warnings, terms led
	var probed atomic.Int64             // handshakes the stranger refused: the leader's probes
	c := testcluster.Start(t, testcluster.Options{Configure: func(i int, cfg *cluster.Config) {
		if i < 3 {
			cfg.RaftTLS = raftTLS(t, ca)
			h := logtest.Counting(cfg.Logger.Handler(), "member not admitted", &warned[i])
			cfg.Logger = slog.New(logtest.Counting(h, "leader ready", &tenures[i]))
			return
		}
		cfg.RaftTLS = raftTLS(t, other)
		cfg.Logger = slog.New(logtest.Counting(cfg.Logger.Handler(), "raft: refused", &probed))
	}})
	testcluster.WaitFor(t, "three voters", 10*time.Second, func() bool { return len(voters(t, c.Leader(10*time.Second))) == 3 })
	cl, err := client.New(client.Options{Addrs: c.ClientAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.Set(ctx, "k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}

	c.AddNode() // node3, the stranger
	testcluster.WaitFor(t, "node3 in the leader's gossip members", 10*time.Second, func() bool {
		return strings.Contains(resptest.Do(t, c.Leader(10*time.Second).ClientAddr(), "KVORUM.MEMBERS").String(), "node3")
	})
	// Each reconcile pass probes the stranger once, and the stranger
	// refuses the leader's certificate: three refusals are three passes.
	testcluster.WaitFor(t, "three admission probes of node3", 20*time.Second, func() bool { return probed.Load() >= 3 })
	for _, n := range c.Nodes[:3] {
		if v := voters(t, n); len(v) != 3 || slices.Contains(v, "node3") {
			t.Fatalf("%s's voters %v: want node0..node2 only", n.ID(), v)
		}
	}
	if v, err := cl.Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("GET = %v, %v", v, err)
	}
	total := int64(0)
	for i := range warned {
		w, led := warned[i].Load(), tenures[i].Load()
		if w > led {
			t.Errorf("node%d warned %d times about node3 in %d terms as leader: want at most once a term", i, w, led)
		}
		total += w
	}
	if total == 0 {
		t.Error("no leader warned that node3 was not admitted")
	}
}

// raftTLS returns a RaftTLS presenting a certificate from ca for 127.0.0.1
// and trusting ca.
func raftTLS(t *testing.T, ca *certs.CA) *cluster.RaftTLS {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue("node", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &cluster.RaftTLS{Certificate: func() *tls.Certificate { return &cert }, CAs: pool}
}
