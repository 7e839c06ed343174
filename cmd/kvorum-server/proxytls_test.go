package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// relayServerName is the server name a follower proxy asks for at the
// leader's TLS listener (cluster/tlslayer.go): part of the wire between
// nodes, so the test names it too.
const relayServerName = "relay.kvorum.invalid"

// Three kvorum-server processes with --tls-cluster yes, --tls-listen and
// --follower-mode proxy: a plain client of a follower's plain port is
// served SET/GET by the leader, and the follower's upstream for it is a
// TCP connection to the leader's TLS listener, not to its plain port. At
// that listener, a handshake asking for the relays' server name needs a
// certificate from the cluster CA, while clients are served as before
// (--tls-auth-clients no: no certificate asked).
func TestProxyTLS_FollowerRelaysOverMutualTLS(t *testing.T) {
	ca, files := caFiles(t, t.TempDir(), "cluster CA", "node")
	nodes := startLocalClusterWith(t, 3, "", "--tls-cluster", "yes", "--tls-cert-file", files["node"][0],
		"--tls-key-file", files["node"][1], "--tls-ca-cert-file", files["ca"][0], "--tls-listen", "127.0.0.1:0",
		"--follower-mode", "proxy", "--protocol", "resp2")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	leader, err := waitLocalLeader(ctx, nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	follower := nodes[0]
	if follower == leader {
		follower = nodes[1]
	}
	leaderTLS := tlsAddrOf(t, leader.p)

	// The follower relays once gossip has told it the leader (and so the
	// leader's TLS address, which travels in the same metadata).
	resptest.WaitFor(t, "a plain SET on the follower relayed to the leader", startTimeout, func() bool {
		v, err := resptest.Ask(follower.client, "SET", "warm-up", "1")
		return err == nil && v.Text() == "OK"
	})
	cn := resptest.Dial(t, follower.client)
	defer cn.Close()
	if v := cn.Do(t, "SET", "k", "over mutual TLS"); v.Text() != "OK" {
		t.Fatalf("SET on the follower's plain port = %v", v)
	}
	if v := cn.Do(t, "GET", "k"); v.Text() != "over mutual TLS" {
		t.Fatalf("GET on the follower's plain port = %v", v)
	}
	if v := resptest.Do(t, leader.client, "GET", "k"); v.Text() != "over mutual TLS" {
		t.Fatalf("GET on the leader = %v, want the relayed write", v)
	}
	if v := cn.Do(t, "ROLE"); v.Kind() != resp.KindArray || v.Elems()[0].Text() != "master" {
		t.Fatalf("ROLE through the relay = %v, want the leader's", v)
	}
	// The leader's CLIENT INFO for the relayed connection names the
	// upstream's address at the follower; the kernel's table says where
	// that connection goes: the leader's TLS listener.
	info := cn.Do(t, "CLIENT", "INFO").Text()
	m := regexp.MustCompile(`addr=127\.0\.0\.1:(\d+) `).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("CLIENT INFO through the relay = %q, want the upstream's addr", info)
	}
	upPort, _ := strconv.Atoi(m[1])
	if !strings.Contains(resptest.Do(t, leader.client, "CLIENT", "LIST").Text(), "addr=127.0.0.1:"+m[1]+" ") {
		t.Fatalf("the leader's CLIENT LIST has no connection from 127.0.0.1:%d", upPort)
	}
	if runtime.GOOS == "linux" {
		_, tlsPort, _ := net.SplitHostPort(leaderTLS)
		_, plainPort, _ := net.SplitHostPort(leader.client)
		peers := loopbackPeers(t, upPort)
		if len(peers) != 1 || strconv.Itoa(peers[0]) != tlsPort {
			t.Fatalf("the upstream from 127.0.0.1:%d goes to ports %v; want the leader's TLS listener %s (its plain port is %s)",
				upPort, peers, tlsPort, plainPort)
		}
	}

	// The leader's TLS listener: the relays' server name without a
	// certificate is refused; with the node's certificate it is served,
	// and presents one from the cluster CA; a client is served as before.
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	node, err := tls.LoadX509KeyPair(files["node"][0], files["node"][1])
	if err != nil {
		t.Fatal(err)
	}
	noCert := &tls.Config{ServerName: relayServerName, RootCAs: roots, InsecureSkipVerify: true}
	if reply, err := pingTLS(leaderTLS, noCert); err == nil {
		t.Fatalf("the relays' server name without a certificate got %v, want the handshake refused", reply)
	}
	relay := &tls.Config{ServerName: relayServerName, Certificates: []tls.Certificate{node}, InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots})
			return err
		}}
	if reply, err := pingTLS(leaderTLS, relay); err != nil || reply != "PONG" {
		t.Fatalf("the relays' server name with the node's certificate: %v, %v; want PONG", reply, err)
	}
	if reply, err := pingTLS(leaderTLS, &tls.Config{ServerName: "127.0.0.1", RootCAs: roots}); err != nil || reply != "PONG" {
		t.Fatalf("a TLS client without a certificate: %v, %v; want PONG (--tls-auth-clients no)", reply, err)
	}
}

// --follower-mode proxy with --tls-cluster yes and no --tls-listen is
// refused at start, exit 2 and one clear error, flags or KVORUM_ twins.
func TestProxyTLS_RefusedWithoutTLSListener(t *testing.T) {
	_, files := caFiles(t, t.TempDir(), "cluster CA", "node")
	tlsArgs := []string{"--tls-cert-file", files["node"][0], "--tls-key-file", files["node"][1], "--tls-ca-cert-file", files["ca"][0]}
	const want = "--follower-mode proxy with --tls-cluster yes needs --tls-listen"
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{nil, append([]string{"--follower-mode", "proxy", "--tls-cluster", "yes"}, tlsArgs...)},
		{[]string{"KVORUM_FOLLOWER_MODE=proxy", "KVORUM_TLS_CLUSTER=yes"}, tlsArgs},
	} {
		out, errOut, code := runBin(t, tc.env, serverBin, tc.args...)
		if code != 2 || out != "" || strings.Count(errOut, want) != 1 {
			t.Errorf("%q %q: exit %d, stdout %q, stderr %q; want exit 2 and %q once", tc.env, tc.args, code, out, errOut, want)
		}
	}
}

var tlsServingRE = regexp.MustCompile(`msg="serving TLS clients".* tls=(\S+)`)

// tlsAddrOf returns the bound address of p's TLS listener, from its log.
func tlsAddrOf(t *testing.T, p *proc) string {
	t.Helper()
	m := tlsServingRE.FindStringSubmatch(p.log.String())
	if m == nil {
		t.Fatalf("no \"serving TLS clients\" line in the log:\n%s", p.log)
	}
	return m[1]
}

// pingTLS sends PING over TLS with cfg to addr and returns the reply's
// text; a refused handshake shows as an error (with TLS 1.3, on the read).
func pingTLS(addr string, cfg *tls.Config) (string, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := conn.Write(resp.AppendCommand(nil, "PING")); err != nil {
		return "", err
	}
	v, err := resp.NewReader(conn, resp.Limits{}).ReadValue()
	if err != nil {
		return "", err
	}
	return v.Text(), nil
}

// loopbackPeers returns the remote ports of the established IPv4 TCP
// connections whose local port is port, from /proc/net/tcp.
func loopbackPeers(t *testing.T, port int) []int {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	portOf := func(hexAddr string) int {
		_, p, _ := strings.Cut(hexAddr, ":")
		n, _ := strconv.ParseInt(p, 16, 32)
		return int(n)
	}
	var peers []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st ...; st 01 is ESTABLISHED.
		f := strings.Fields(sc.Text())
		if len(f) > 3 && f[3] == "01" && portOf(f[1]) == port {
			peers = append(peers, portOf(f[2]))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(fmt.Errorf("/proc/net/tcp: %w", err))
	}
	return peers
}
