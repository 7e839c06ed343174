package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
)

// tlsFlags configure the TLS client listener, as redis-server's tls-*
// options do.
type tlsFlags struct {
	listen, certFile, keyFile, caFile, authClients string
}

func (t *tlsFlags) register(fs *flag.FlagSet) {
	t.authClients = "no"
	fs.StringVar(&t.listen, "tls-listen", "", `a client address speaking TLS, beside --listen, e.g. ":31336" ("": none); needs --tls-cert-file and --tls-key-file`)
	fs.StringVar(&t.certFile, "tls-cert-file", "", "the TLS listener's certificate (PEM); reloaded with the key on SIGHUP")
	fs.StringVar(&t.keyFile, "tls-key-file", "", "the TLS listener's private key (PEM)")
	fs.StringVar(&t.caFile, "tls-ca-cert-file", "", "CA certificates (PEM) that client certificates are checked against (with --tls-auth-clients)")
	fs.StringVar(&t.authClients, "tls-auth-clients", t.authClients, "yes: require a client certificate signed by --tls-ca-cert-file; optional: check one if given; no: none asked")
}

// certReloader serves the listener's certificate and loads it again on
// request (SIGHUP), so a renewed certificate takes effect without a
// restart; a failed reload keeps the old one.
type certReloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func (r *certReloader) load() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cur.Store(&c)
	return nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return r.cur.Load(), nil }

// reloadOnHUP reloads the certificate at every SIGHUP until done closes.
func (r *certReloader) reloadOnHUP(hup <-chan os.Signal, done <-chan struct{}, log *slog.Logger) {
	for {
		select {
		case <-done:
			return
		case <-hup:
			if err := r.load(); err != nil {
				log.Error("TLS certificate not reloaded; the old one stays", "err", err)
			} else {
				log.Info("TLS certificate reloaded", "cert", r.certFile)
			}
		}
	}
}

// convertTLS builds the TLS listener's configuration, or nothing without
// --tls-listen.
func (o *options) convertTLS(t tlsFlags) error {
	if t.listen == "" {
		return nil
	}
	if t.certFile == "" || t.keyFile == "" {
		return fmt.Errorf("--tls-listen needs --tls-cert-file and --tls-key-file")
	}
	r := &certReloader{certFile: t.certFile, keyFile: t.keyFile}
	if err := r.load(); err != nil {
		return err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}
	switch t.authClients {
	case "no":
	case "yes", "optional":
		if t.caFile == "" {
			return fmt.Errorf("--tls-auth-clients %s needs --tls-ca-cert-file", t.authClients)
		}
		pem, err := os.ReadFile(t.caFile)
		if err != nil {
			return fmt.Errorf("--tls-ca-cert-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--tls-ca-cert-file %s holds no PEM certificate", t.caFile)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		if t.authClients == "optional" {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
	default:
		return fmt.Errorf("--tls-auth-clients: %q is none of yes, optional, no", t.authClients)
	}
	o.cfg.TLSAddr, o.cfg.TLS, o.certs = t.listen, cfg, r
	return nil
}
