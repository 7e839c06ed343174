package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/internal/certs"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// tlsDo sends one command over TLS to addr, trusting roots, presenting
// cert if it is not nil.
func tlsDo(addr string, roots *x509.CertPool, cert *tls.Certificate, args ...string) (resp.Value, error) {
	cfg := &tls.Config{RootCAs: roots}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return resp.Value{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(resp.AppendCommand(nil, args...)); err != nil {
		return resp.Value{}, err
	}
	return resp.NewReader(conn, resp.Limits{}).ReadValue()
}

// --tls-listen serves the same commands over TLS: a Go TLS client,
// redis-cli --tls and redis-py ssl=True; plain TCP there gets nothing; a
// renewed certificate is served after SIGHUP, without a restart.
func TestTLS_Listener(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, err := certs.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	files, err := ca.WriteFiles(dir, []string{"127.0.0.1"}, "node")
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", buildtest.FreePorts(t, 1)[0])
	p := start(t, t.TempDir(), "--protocol", "resp2", "--tls-listen", tlsAddr,
		"--tls-cert-file", files["node"][0], "--tls-key-file", files["node"][1])
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	if v, err := tlsDo(tlsAddr, roots, nil, "SET", "k", "over tls"); err != nil || v.Text() != "OK" {
		t.Fatalf("SET over TLS = %v, %v", v, err)
	}
	if v, err := resptest.Ask(p.addr, "GET", "k"); err != nil || v.Text() != "over tls" {
		t.Fatalf("GET on the plain port = %v, %v", v, err)
	}
	if v, err := resptest.Ask(tlsAddr, "PING"); err == nil && v.Text() == "PONG" {
		t.Fatal("plain TCP on the TLS port was served")
	}
	host, port, _ := strings.Cut(tlsAddr, ":")
	if cli, err := exec.LookPath("redis-cli"); err == nil {
		out, err := exec.Command(cli, "--tls", "--cacert", files["ca"][0], "-h", host, "-p", port, "GET", "k").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "over tls" {
			t.Errorf("redis-cli --tls GET k: %v %q", err, out)
		}
	}
	if exec.Command("/usr/bin/python3", "-c", "import redis").Run() == nil {
		script := `import sys, redis
r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), ssl=True, ssl_ca_certs=sys.argv[3])
print(r.get("k").decode())`
		out, err := exec.Command("/usr/bin/python3", "-c", script, host, port, files["ca"][0]).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "over tls" {
			t.Errorf("redis-py ssl=True: %v\n%s", err, out)
		}
	}
	// Renew the certificate from another CA and SIGHUP: new connections
	// get the new one.
	ca2, _ := certs.NewCA("renewed CA")
	c2, k2, _ := ca2.Issue("node", "127.0.0.1")
	os.WriteFile(files["node"][0], c2, 0o644)
	os.WriteFile(files["node"][1], k2, 0o600)
	roots2 := x509.NewCertPool()
	roots2.AppendCertsFromPEM(ca2.PEM)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		v, err := tlsDo(tlsAddr, roots2, nil, "PING")
		if err == nil && v.Text() == "PONG" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate was not served after SIGHUP: %v, %v", v, err)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// With --tls-auth-clients yes a client needs a certificate from the CA.
func TestTLS_AuthClients(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, _ := certs.NewCA("test CA")
	files, err := ca.WriteFiles(dir, []string{"127.0.0.1"}, "node", "client")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := certs.NewCA("another CA")
	oc, ok, _ := other.Issue("stranger", "127.0.0.1")
	stranger, _ := tls.X509KeyPair(oc, ok)
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", buildtest.FreePorts(t, 1)[0])
	start(t, t.TempDir(), "--tls-listen", tlsAddr, "--tls-cert-file", files["node"][0], "--tls-key-file", files["node"][1],
		"--tls-ca-cert-file", files["ca"][0], "--tls-auth-clients", "yes")
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	client, err := tls.LoadX509KeyPair(files["client"][0], files["client"][1])
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tlsDo(tlsAddr, roots, &client, "PING"); err != nil || v.Text() != "PONG" {
		t.Fatalf("client with a certificate from the CA: %v, %v", v, err)
	}
	for name, cert := range map[string]*tls.Certificate{"no certificate": nil, "another CA's": &stranger} {
		if v, err := tlsDo(tlsAddr, roots, cert, "PING"); err == nil && v.Text() == "PONG" {
			t.Fatalf("client with %s was served", name)
		}
	}
}
