package main

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/kvorum/kvorum/cluster"
)

// tlsFlags configure the TLS client listener and the nodes' mutual TLS on
// Raft, as redis-server's tls-* options do (tls-cluster included).
type tlsFlags struct {
	listen, certFile, keyFile, caFile, authClients string
	cluster, clusterCert, clusterKey, clusterCA    string
}

func (t *tlsFlags) register(fs *flag.FlagSet) {
	t.authClients, t.cluster = "no", "no"
	fs.StringVar(&t.listen, "tls-listen", "", `a client address speaking TLS, beside --listen, e.g. ":31336" ("": none); needs --tls-cert-file and --tls-key-file`)
	fs.StringVar(&t.certFile, "tls-cert-file", "", "the TLS listener's certificate (PEM), and the nodes' with --tls-cluster; reloaded with the key on SIGHUP")
	fs.StringVar(&t.keyFile, "tls-key-file", "", "the private key (PEM) of --tls-cert-file")
	fs.StringVar(&t.caFile, "tls-ca-cert-file", "", "CA certificates (PEM) that client certificates are checked against (with --tls-auth-clients), and other nodes' (with --tls-cluster); reloaded on SIGHUP")
	fs.StringVar(&t.authClients, "tls-auth-clients", t.authClients, "yes: require a client certificate signed by --tls-ca-cert-file; optional: check one if given; no: none asked")
	fs.StringVar(&t.cluster, "tls-cluster", t.cluster, "yes: Raft traffic between nodes is mutual TLS (both sides present a certificate from the cluster CA), and so is a proxying follower's connection to the leader (to its --tls-listen, which --follower-mode proxy then needs); the leader makes a gossip member a voter only after such a handshake at its Raft address; no: plain TCP")
	fs.StringVar(&t.clusterCert, "tls-cluster-cert-file", "", "the certificate (PEM) nodes present to each other with --tls-cluster (default: --tls-cert-file); reloaded with its key on SIGHUP")
	fs.StringVar(&t.clusterKey, "tls-cluster-key-file", "", "the private key (PEM) of --tls-cluster-cert-file (default: --tls-key-file)")
	fs.StringVar(&t.clusterCA, "tls-cluster-ca-cert-file", "", "CA certificates (PEM) other nodes' certificates must chain to with --tls-cluster (default: --tls-ca-cert-file); reloaded on SIGHUP")
}

// certPair is one certificate and key file pair, held in memory for the
// handshakes that present it and loaded again on SIGHUP, so a renewed
// certificate takes effect without a restart.
type certPair struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func (p *certPair) read() (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", p.certFile, p.keyFile, err)
	}
	return &c, nil
}

// current returns the pair last loaded; any goroutine may call it.
func (p *certPair) current() *tls.Certificate { return p.cur.Load() }

func (p *certPair) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return p.current(), nil
}

// caFile is one file of CA certificates, held in memory as the pool that
// the handshakes checking a peer read (each at its start) and loaded again
// on SIGHUP, so a CA added or dropped takes effect without a restart.
type caFile struct {
	flag, file string // flag named file first: for errors
	cur        atomic.Pointer[x509.CertPool]
}

func (f *caFile) read() (*x509.CertPool, error) { return loadCAs(f.flag, f.file) }

// current returns the pool last loaded, never nil; any goroutine may call
// it. The pool must not be modified.
func (f *caFile) current() *x509.CertPool { return f.cur.Load() }

// certReloader holds every TLS file the node reads — the certificates it
// presents (the TLS listener's and the cluster's, one pair when both name
// the same files) and the CA files it checks peers against (one when
// --tls-ca-cert-file serves both) — and reloads them all at every SIGHUP,
// all or nothing.
type certReloader struct {
	pairs []*certPair
	cas   []*caFile
}

// pair returns the pair for certFile and keyFile, loading it the first
// time it is asked for.
func (r *certReloader) pair(certFile, keyFile string) (*certPair, error) {
	for _, p := range r.pairs {
		if p.certFile == certFile && p.keyFile == keyFile {
			return p, nil
		}
	}
	p := &certPair{certFile: certFile, keyFile: keyFile}
	c, err := p.read()
	if err != nil {
		return nil, err
	}
	p.cur.Store(c)
	r.pairs = append(r.pairs, p)
	return p, nil
}

// ca returns the CA file file, which flag names, loading it the first
// time it is asked for.
func (r *certReloader) ca(flag, file string) (*caFile, error) {
	for _, f := range r.cas {
		if f.file == file {
			return f, nil
		}
	}
	f := &caFile{flag: flag, file: file}
	pool, err := f.read()
	if err != nil {
		return nil, err
	}
	f.cur.Store(pool)
	r.cas = append(r.cas, f)
	return f, nil
}

// reload reads every file again and, only if all of them load, puts them
// all in place, one after the other (handshakes from then on see the new
// ones). If any fails, nothing changes, and the error names every file
// that failed and why: a renewed certificate never takes effect while the
// CA file rotated with it was refused, nor the other way round.
func (r *certReloader) reload() error {
	certs := make([]*tls.Certificate, len(r.pairs))
	pools := make([]*x509.CertPool, len(r.cas))
	var errs []error
	for i, p := range r.pairs {
		c, err := p.read()
		certs[i] = c
		errs = append(errs, err)
	}
	for i, f := range r.cas {
		pool, err := f.read()
		pools[i] = pool
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, p := range r.pairs {
		p.cur.Store(certs[i])
	}
	for i, f := range r.cas {
		f.cur.Store(pools[i])
	}
	return nil
}

// files returns the files reload reads, for the log.
func (r *certReloader) files() []string {
	var files []string
	for _, p := range r.pairs {
		files = append(files, p.certFile, p.keyFile)
	}
	for _, f := range r.cas {
		files = append(files, f.file)
	}
	return files
}

// reloadOnHUP reloads every file at every SIGHUP until done closes.
func (r *certReloader) reloadOnHUP(hup <-chan os.Signal, done <-chan struct{}, log *slog.Logger) {
	for {
		select {
		case <-done:
			return
		case <-hup:
			if err := r.reload(); err != nil {
				log.Error("TLS files not reloaded; every certificate, key and CA file stays as it was", "err", err)
			} else {
				log.Info("TLS files reloaded", "files", r.files())
			}
		}
	}
}

// loadCAs reads the CA certificates in file, which flag named. Every
// certificate block in it must decode and parse, so a damaged or
// half-written bundle is refused whole rather than read in part (which
// could silently drop a CA its peers still need).
func loadCAs(flag, file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pool, n := x509.NewCertPool(), 0
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s %s: certificate %d: %w", flag, file, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if begun := bytes.Count(data, []byte("-----BEGIN CERTIFICATE-----")); n != begun {
		return nil, fmt.Errorf("%s %s: %d of its %d certificates are not well-formed PEM", flag, file, begun-n, begun)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s %s holds no PEM certificate", flag, file)
	}
	return pool, nil
}

// withClientCAs makes cfg, the TLS listener's, ask clients for a
// certificate and check it (auth: required, or only if given) against
// ca's pool of the moment: GetConfigForClient hands crypto/tls, at each
// handshake, a copy of cfg with that pool as ClientCAs, so crypto/tls
// checks it as it would a fixed pool (a resumed session too), and names
// its CAs to the client.
func withClientCAs(cfg *tls.Config, auth tls.ClientAuthType, ca *caFile) {
	cfg.ClientAuth = auth
	base := cfg.Clone()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.ClientCAs = ca.current()
		return c, nil
	}
}

// convertTLS builds the TLS listener's configuration (with --tls-listen)
// and the Raft transport's (with --tls-cluster yes), sharing the reloading
// of their certificates and CA files. With both, the listener also takes the follower
// proxies' upstreams (cluster.Config.TLSAddr), which --follower-mode proxy
// then needs: o.door.Proxy must be set before.
func (o *options) convertTLS(t tlsFlags) error {
	r := &certReloader{}
	if err := o.convertTLSListener(t, r); err != nil {
		return err
	}
	if err := o.convertTLSCluster(t, r); err != nil {
		return err
	}
	if o.door.Proxy && o.cfg.RaftTLS != nil && t.listen == "" {
		// A follower relays clients to the leader's TLS listener, never in
		// clear text, so every node of such a cluster must offer one.
		return errors.New("--follower-mode proxy with --tls-cluster yes needs --tls-listen: followers relay clients to the leader's TLS listener over mutual TLS, never in clear text")
	}
	if len(r.pairs)+len(r.cas) > 0 {
		o.certs = r
	}
	return nil
}

// convertTLSListener builds the TLS listener's configuration, or nothing
// without --tls-listen.
func (o *options) convertTLSListener(t tlsFlags, r *certReloader) error {
	if t.listen == "" {
		return nil
	}
	if t.certFile == "" || t.keyFile == "" {
		return fmt.Errorf("--tls-listen needs --tls-cert-file and --tls-key-file")
	}
	p, err := r.pair(t.certFile, t.keyFile)
	if err != nil {
		return err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: p.getCertificate}
	switch t.authClients {
	case "no":
	case "yes", "optional":
		if t.caFile == "" {
			return fmt.Errorf("--tls-auth-clients %s needs --tls-ca-cert-file", t.authClients)
		}
		ca, err := r.ca("--tls-ca-cert-file", t.caFile)
		if err != nil {
			return err
		}
		auth := tls.RequireAndVerifyClientCert
		if t.authClients == "optional" {
			auth = tls.VerifyClientCertIfGiven
		}
		withClientCAs(cfg, auth, ca)
	default:
		return fmt.Errorf("--tls-auth-clients: %q is none of yes, optional, no", t.authClients)
	}
	o.cfg.TLSAddr, o.cfg.TLS = t.listen, cfg
	return nil
}

// convertTLSCluster builds the Raft transport's mutual TLS with
// --tls-cluster yes: the --tls-cluster-* files, else the listener's.
// cluster.Config.Validate then checks that this node's certificate chains
// to the CA, so a wrong file stops the node at start-up.
func (o *options) convertTLSCluster(t tlsFlags, r *certReloader) error {
	switch t.cluster {
	case "yes":
	case "no":
		if t.clusterCert != "" || t.clusterKey != "" || t.clusterCA != "" {
			return errors.New("--tls-cluster-cert-file, --tls-cluster-key-file and --tls-cluster-ca-cert-file need --tls-cluster yes")
		}
		return nil
	default:
		return fmt.Errorf("--tls-cluster: %q is neither yes nor no", t.cluster)
	}
	if (t.clusterCert == "") != (t.clusterKey == "") {
		return errors.New("--tls-cluster-cert-file and --tls-cluster-key-file: give both or neither")
	}
	certFile, keyFile := cmp.Or(t.clusterCert, t.certFile), cmp.Or(t.clusterKey, t.keyFile)
	caFlag, caFile := "--tls-ca-cert-file", t.caFile
	if t.clusterCA != "" {
		caFlag, caFile = "--tls-cluster-ca-cert-file", t.clusterCA
	}
	if certFile == "" || keyFile == "" || caFile == "" {
		return errors.New("--tls-cluster yes needs this node's certificate, its key and the cluster CA: --tls-cert-file, --tls-key-file and --tls-ca-cert-file (or --tls-cluster-cert-file, --tls-cluster-key-file, --tls-cluster-ca-cert-file)")
	}
	p, err := r.pair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cluster: %w", err)
	}
	ca, err := r.ca(caFlag, caFile)
	if err != nil {
		return err
	}
	o.cfg.RaftTLS = &cluster.RaftTLS{Certificate: p.current, CurrentCAs: ca.current}
	return nil
}
