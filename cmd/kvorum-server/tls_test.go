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
	ca, files := caFiles(t, dir, "test CA", "node")
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

// hupTLS sends p SIGHUP and waits for its log to say how the TLS reload
// went; it returns that line ("TLS files reloaded" or "TLS files not
// reloaded", with the reason).
func hupTLS(t *testing.T, p *proc) string {
	t.Helper()
	before := len(reloadLines(p.log.String()))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var line string
	resptest.WaitFor(t, "the TLS reload's outcome in the log after SIGHUP", startTimeout, func() bool {
		if lines := reloadLines(p.log.String()); len(lines) > before {
			line = lines[before]
			return true
		}
		return false
	})
	return line
}

// reloadLines returns the complete lines of log that report a TLS reload.
func reloadLines(log string) []string {
	var out []string
	lines := strings.Split(log, "\n")
	for _, l := range lines[:len(lines)-1] { // the last is unfinished
		if strings.Contains(l, `msg="TLS files reloaded"`) || strings.Contains(l, `msg="TLS files not reloaded`) {
			out = append(out, l)
		}
	}
	return out
}

// startAuthClients starts a node whose TLS listener requires a client
// certificate from the CAs in caFile, presenting node's certificate (from
// ca); it returns the process and the listener's address.
func startAuthClients(t *testing.T, node [2]string, caFile string) (*proc, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", buildtest.FreePorts(t, 1)[0])
	p := start(t, t.TempDir(), "--tls-listen", addr, "--tls-cert-file", node[0], "--tls-key-file", node[1],
		"--tls-ca-cert-file", caFile, "--tls-auth-clients", "yes")
	return p, addr
}

// issuePair issues a certificate and key from ca for 127.0.0.1.
func issuePair(t *testing.T, ca *certs.CA, name string) tls.Certificate {
	t.Helper()
	c, k, err := ca.Issue(name, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// --tls-ca-cert-file is reloaded on SIGHUP, as a CA rotation does it: a
// client with a certificate from the next CA is refused while the node
// trusts the current CA alone, served once the file holds both and the
// node got SIGHUP (the old CA's clients still are), and the old CA's
// clients are refused once the file holds the next CA alone.
func TestTLS_ReloadClientCAOnHUP(t *testing.T) {
	t.Parallel()
	ca, files := caFiles(t, t.TempDir(), "current CA", "node")
	next, err := certs.NewCA("next CA")
	if err != nil {
		t.Fatal(err)
	}
	p, addr := startAuthClients(t, files["node"], files["ca"][0])
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert) // the node's certificate stays from the current CA
	oldClient, newClient := issuePair(t, ca, "old client"), issuePair(t, next, "new client")
	served := func(cert *tls.Certificate) error {
		v, err := tlsDo(addr, roots, cert, "PING")
		if err == nil && v.Text() != "PONG" {
			err = fmt.Errorf("PING answered %v", v)
		}
		return err
	}
	check := func(step string, oldServed, newServed bool) {
		t.Helper()
		for _, c := range []struct {
			name string
			cert *tls.Certificate
			want bool
		}{{"the current CA's client", &oldClient, oldServed}, {"the next CA's client", &newClient, newServed}} {
			if err := served(c.cert); (err == nil) != c.want {
				t.Fatalf("%s: %s served %v (%v), want %v", step, c.name, err == nil, err, c.want)
			}
		}
	}
	check("at start", true, false)

	if err := os.WriteFile(files["ca"][0], append(append([]byte{}, ca.PEM...), next.PEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	if line := hupTLS(t, p); !strings.Contains(line, `msg="TLS files reloaded"`) {
		t.Fatalf("SIGHUP with both CAs in the file: %s", line)
	}
	check("with both CAs", true, true)

	if err := os.WriteFile(files["ca"][0], next.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if line := hupTLS(t, p); !strings.Contains(line, `msg="TLS files reloaded"`) {
		t.Fatalf("SIGHUP with the next CA alone: %s", line)
	}
	check("with the next CA alone", false, true)
}

// A SIGHUP that finds a damaged CA file (here a bundle whose second
// certificate is cut short) reloads nothing, all or nothing: the old CA's
// clients are still served, the next CA's still refused, the renewed
// certificate beside it is not served yet, and the log says why. Once the
// file is mended, the next SIGHUP takes both.
func TestTLS_DamagedCAFileKeepsTheOldOnHUP(t *testing.T) {
	t.Parallel()
	ca, files := caFiles(t, t.TempDir(), "current CA", "node")
	next, err := certs.NewCA("next CA")
	if err != nil {
		t.Fatal(err)
	}
	p, addr := startAuthClients(t, files["node"], files["ca"][0])
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	oldClient, newClient := issuePair(t, ca, "old client"), issuePair(t, next, "new client")
	// servedSerial returns the serial of the certificate the listener
	// presents to a client with cert, once PING is answered.
	servedSerial := func(cert *tls.Certificate) (string, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
			&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{*cert}})
		if err != nil {
			return "", err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := conn.Write(resp.AppendCommand(nil, "PING")); err != nil {
			return "", err
		}
		if v, err := resp.NewReader(conn, resp.Limits{}).ReadValue(); err != nil || v.Text() != "PONG" {
			return "", fmt.Errorf("PING answered %v, %v", v, err)
		}
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
	}
	before, err := servedSerial(&oldClient)
	if err != nil {
		t.Fatalf("the current CA's client at start: %v", err)
	}

	renewed, key, err := ca.Issue("node", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files["node"][0], renewed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files["node"][1], key, 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := append(append([]byte{}, next.PEM...), ca.PEM[:len(ca.PEM)/2]...)
	if err := os.WriteFile(files["ca"][0], damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	line := hupTLS(t, p)
	for _, want := range []string{`msg="TLS files not reloaded`, files["ca"][0], "not well-formed PEM"} {
		if !strings.Contains(line, want) {
			t.Fatalf("SIGHUP with a damaged CA file logged %q, want %q in it", line, want)
		}
	}
	if after, err := servedSerial(&oldClient); err != nil || after != before {
		t.Fatalf("after the failed reload the current CA's client got %v (certificate %s, before %s); want served the old certificate", err, after, before)
	}
	if _, err := servedSerial(&newClient); err == nil {
		t.Fatal("after the failed reload the next CA's client was served")
	}

	if err := os.WriteFile(files["ca"][0], append(append([]byte{}, ca.PEM...), next.PEM...), 0o644); err != nil {
		t.Fatal(err)
	}
	if line := hupTLS(t, p); !strings.Contains(line, `msg="TLS files reloaded"`) {
		t.Fatalf("SIGHUP with the mended CA file: %s", line)
	}
	if after, err := servedSerial(&newClient); err != nil || after == before {
		t.Fatalf("after the mended reload the next CA's client got %v (certificate %s, before %s); want served the renewed certificate", err, after, before)
	}
}

// caFiles makes a throwaway CA called name and writes it, and a key and a
// certificate for 127.0.0.1 for each of certNames, under dir
// (certs.CA.WriteFiles), failing t on any error.
func caFiles(t *testing.T, dir, name string, certNames ...string) (*certs.CA, map[string][2]string) {
	t.Helper()
	ca, err := certs.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	files, err := ca.WriteFiles(dir, []string{"127.0.0.1"}, certNames...)
	if err != nil {
		t.Fatal(err)
	}
	return ca, files
}
