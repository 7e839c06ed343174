package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	kvclient "github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/internal/certs"
	"github.com/kvorum/kvorum/internal/resptest"
)

// admitTimeout bounds the wait for the leader's reconcile loop to probe
// the stranger three times: the loop runs every 5 s (and on gossip
// events), so a healthy run takes about 10 s.
const admitTimeout = 90 * time.Second

// Three kvorum-server processes with --tls-cluster yes and certificates
// from one CA form a cluster over mutual TLS and serve SET/GET through the
// leader (the smart client follows redirects to it), and the followers
// catch up (Raft flows). Plain TCP to the leader's Raft port gets nothing
// back. A fourth node whose certificate comes from another CA joins gossip
// (there is no gossip key) but never becomes a voter: the leader probes it
// at every reconcile pass, warns once a term, and the cluster keeps
// serving.
func TestTLSCluster_MutualTLSAndAdmission(t *testing.T) {
	_, files := caFiles(t, t.TempDir(), "cluster CA", "node")
	nodes := startLocalClusterWith(t, 3, "", "--tls-cluster", "yes",
		"--tls-cert-file", files["node"][0], "--tls-key-file", files["node"][1], "--tls-ca-cert-file", files["ca"][0])
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	leader, err := waitLocalLeader(ctx, nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kvclient.New(kvclient.Options{Addrs: []string{nodes[0].client, nodes[1].client, nodes[2].client}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	setGet(t, cl, "k1", "over mutual TLS")
	for _, nd := range nodes {
		if nd != leader {
			if err := waitLocalCaughtUp(ctx, nd, leader); err != nil {
				t.Fatal(err)
			}
		}
	}
	if peers, err := raftField(leader.client, "raft_num_peers"); err != nil || peers != "2" {
		t.Fatalf("leader's raft_num_peers = %q, %v; want 2", peers, err)
	}

	// Plain TCP: an AppendEntries' first bytes get no reply, the
	// connection is closed, and the leader says why.
	conn, err := net.DialTimeout("tcp", leader.raft, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := conn.Write([]byte{0, 0x81, 0xa4, 'T', 'e', 'r', 'm', 0x01}); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	var ne net.Error
	if len(got) > 0 || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("plain TCP to the Raft port read %q, %v; want the connection closed with nothing sent", got, err)
	}
	waitLog(t, leader.p, "raft: refused a connection that failed mutual TLS")

	other, err := certs.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	strangerFiles, err := other.WriteFiles(t.TempDir(), []string{"127.0.0.1"}, "node")
	if err != nil {
		t.Fatal(err)
	}
	stranger := launch(t, t.TempDir(), "--node-id", "stranger", "--gossip-addr", "127.0.0.1:0", "--join", leader.seeds,
		"--tls-cluster", "yes", "--tls-cert-file", strangerFiles["node"][0], "--tls-key-file", strangerFiles["node"][1],
		"--tls-ca-cert-file", strangerFiles["ca"][0])
	stranger.waitServing()
	resptest.WaitFor(t, "the stranger alive in the leader's gossip members", startTimeout, func() bool {
		gossip, _, err := memberOf(leader.client, "stranger")
		return err == nil && gossip == "alive"
	})
	// The stranger refuses each probe (the leader's certificate is not
	// from its CA, as its own is not from the leader's): three refusals
	// are three reconcile passes that did not admit it.
	const refused = "raft: refused a connection that failed mutual TLS"
	resptest.WaitFor(t, "three admission probes of the stranger", admitTimeout, func() bool {
		return strings.Count(stranger.log.String(), refused) >= 3
	})
	for _, nd := range nodes {
		if gossip, role, err := memberOf(nd.client, "stranger"); err != nil || role != "none" {
			t.Fatalf("the stranger in %s's KVORUM.MEMBERS: gossip %q, raft_role %q, %v; want raft_role none", nd.id, gossip, role, err)
		}
		if peers, err := raftField(nd.client, "raft_num_peers"); err != nil || peers != "2" {
			t.Fatalf("%s's raft_num_peers = %q, %v; want 2", nd.id, peers, err)
		}
	}
	setGet(t, cl, "k2", "still serving")
	// A leader warns once a term (a new leader may warn again), not at
	// every pass.
	warned := 0
	for _, nd := range nodes {
		log := nd.p.log.String()
		w, led := strings.Count(log, "member not admitted as a Raft voter"), strings.Count(log, "msg=\"leader ready\"")
		if w > led {
			t.Errorf("%s warned %d times about the stranger in %d terms as leader: want at most once a term", nd.id, w, led)
		}
		warned += w
	}
	if warned == 0 {
		t.Error("no leader warned that the stranger was not admitted")
	}
}

// --tls-cluster refuses to start, exit 2 and one clear error, without a
// certificate, key or CA, with a certificate its CA does not sign, or
// with an override it would ignore; the KVORUM_TLS_CLUSTER twin counts.
func TestTLSCluster_RefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	_, files := caFiles(t, dir, "cluster CA", "node")
	other, err := certs.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	strangerFiles, err := other.WriteFiles(t.TempDir(), []string{"127.0.0.1"}, "stranger")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, caFile := files["node"][0], files["node"][1], files["ca"][0]
	needs := "--tls-cluster yes needs this node's certificate, its key and the cluster CA"
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--tls-cluster", "yes"}, needs},
		{nil, []string{"--tls-cluster", "yes", "--tls-cert-file", cert, "--tls-key-file", key}, needs},
		{[]string{"KVORUM_TLS_CLUSTER=yes"}, []string{"--tls-cert-file", cert, "--tls-key-file", key}, needs},
		{nil, []string{"--tls-cluster", "maybe"}, `--tls-cluster: "maybe" is neither yes nor no`},
		{nil, []string{"--tls-cluster-ca-cert-file", caFile}, "need --tls-cluster yes"},
		{nil, []string{"--tls-cluster", "yes", "--tls-cluster-cert-file", cert, "--tls-ca-cert-file", caFile},
			"--tls-cluster-cert-file and --tls-cluster-key-file: give both or neither"},
		{nil, []string{"--tls-cluster", "yes", "--tls-cert-file", strangerFiles["stranger"][0],
			"--tls-key-file", strangerFiles["stranger"][1], "--tls-ca-cert-file", caFile},
			"this node's certificate would be refused by its peers"},
		{nil, []string{"--tls-cluster", "yes", "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert + ".missing"},
			"--tls-ca-cert-file: open"},
	} {
		out, errOut, code := runBin(t, tc.env, serverBin, tc.args...)
		if code != 2 || out != "" || strings.Count(errOut, tc.want) != 1 {
			t.Errorf("%q %q: exit %d, stdout %q, stderr %q; want exit 2 and %q once", tc.env, tc.args, code, out, errOut, tc.want)
		}
	}
}

// The Raft port presents a renewed --tls-cluster-cert-file after SIGHUP,
// without a restart, and still asks the dialer for a certificate from the
// cluster CA.
func TestTLSCluster_ReloadOnHUP(t *testing.T) {
	dir := t.TempDir()
	ca, files := caFiles(t, dir, "cluster CA", "raft", "peer")
	raftAddr := fmt.Sprintf("127.0.0.1:%d", buildtest.FreePorts(t, 1)[0])
	p := start(t, t.TempDir(), "--raft-addr", raftAddr, "--tls-cluster", "yes", "--tls-cluster-cert-file", files["raft"][0],
		"--tls-cluster-key-file", files["raft"][1], "--tls-cluster-ca-cert-file", files["ca"][0])
	peer, err := tls.LoadX509KeyPair(files["peer"][0], files["peer"][1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	// served returns the serial of the certificate the Raft port presents
	// to a peer with a certificate from the CA.
	served := func() (string, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", raftAddr,
			&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{peer}})
		if err != nil {
			return "", err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
	}
	before, err := served()
	if err != nil {
		t.Fatalf("TLS to the Raft port with a certificate from the CA: %v", err)
	}
	renewed, key, err := ca.Issue("raft", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files["raft"][0], renewed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files["raft"][1], key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	resptest.WaitFor(t, "the renewed certificate on the Raft port after SIGHUP", startTimeout, func() bool {
		after, err := served()
		return err == nil && after != before
	})
}

// setGet writes key through cl (to the leader) and reads it back.
func setGet(t *testing.T, cl *kvclient.Client, key, val string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := cl.Set(ctx, key, val); err != nil {
		t.Fatalf("SET %s: %v", key, err)
	}
	if v, err := cl.Get(ctx, key); err != nil || v != val {
		t.Fatalf("GET %s = %v, %v; want %q", key, v, err, val)
	}
}

// memberOf returns the gossip status and Raft role that the node at addr's
// KVORUM.MEMBERS gives the member id.
func memberOf(addr, id string) (gossip, raftRole string, err error) {
	v, err := resptest.Ask(addr, "KVORUM.MEMBERS")
	if err != nil {
		return "", "", err
	}
	if v.IsError() {
		return "", "", errors.New(v.Text())
	}
	for _, m := range v.Elems() {
		fields := map[string]string{}
		kv := m.Elems() // a dict's keys and values, flattened
		for i := 0; i+1 < len(kv); i += 2 {
			fields[kv[i].Text()] = kv[i+1].Text()
		}
		if fields["id"] == id {
			return fields["gossip"], fields["raft_role"], nil
		}
	}
	return "", "", fmt.Errorf("KVORUM.MEMBERS has no %s: %v", id, v)
}

// --tls-cluster-ca-cert-file is reloaded on SIGHUP: a peer with a
// certificate from the next CA is refused at the relays' server name on
// the TLS listener (the cluster's mutual TLS, checked as on the Raft port)
// while the node trusts the current CA alone, and served once the file
// holds both and the node got SIGHUP. A client without a certificate is
// served throughout (--tls-auth-clients no).
func TestTLSCluster_ReloadCAOnHUP(t *testing.T) {
	dir := t.TempDir()
	ca, files := caFiles(t, dir, "cluster CA", "node")
	next, err := certs.NewCA("next CA")
	if err != nil {
		t.Fatal(err)
	}
	clusterCA := dir + "/cluster-ca.crt"
	if err := os.WriteFile(clusterCA, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", buildtest.FreePorts(t, 1)[0])
	p := start(t, t.TempDir(), "--tls-listen", tlsAddr, "--tls-cluster", "yes",
		"--tls-cert-file", files["node"][0], "--tls-key-file", files["node"][1], "--tls-cluster-ca-cert-file", clusterCA)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	relay := &tls.Config{ServerName: relayServerName, Certificates: []tls.Certificate{issuePair(t, next, "renewed node")},
		InsecureSkipVerify: true, // VerifyConnection checks the chain, without the relays' name
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots})
			return err
		}}
	client := &tls.Config{ServerName: "127.0.0.1", RootCAs: roots}
	if reply, err := pingTLS(tlsAddr, relay); err == nil {
		t.Fatalf("a peer with the next CA's certificate got %q while the node trusts the cluster CA alone", reply)
	}
	if reply, err := pingTLS(tlsAddr, client); err != nil || reply != "PONG" {
		t.Fatalf("a TLS client without a certificate: %q, %v; want PONG", reply, err)
	}

	if err := os.WriteFile(clusterCA, append(append([]byte{}, ca.PEM...), next.PEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	if line := hupTLS(t, p); !strings.Contains(line, `msg="TLS files reloaded"`) {
		t.Fatalf("SIGHUP with both CAs in the cluster CA file: %s", line)
	}
	if reply, err := pingTLS(tlsAddr, relay); err != nil || reply != "PONG" {
		t.Fatalf("a peer with the next CA's certificate after the reload: %q, %v; want PONG", reply, err)
	}
	if reply, err := pingTLS(tlsAddr, client); err != nil || reply != "PONG" {
		t.Fatalf("a TLS client without a certificate after the reload: %q, %v; want PONG", reply, err)
	}
}
