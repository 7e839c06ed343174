package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/kvorum/kvorum/cluster/door"
)

// secFlags are the flags that decide who may connect (docs/security.md).
type secFlags struct {
	requirepass, requirepassFile, usersFile, protectedMode string
	gossipKeys                                             string
	perIP, timeout                                         int
}

func (s *secFlags) register(fs *flag.FlagSet) {
	s.protectedMode = "yes"
	fs.StringVar(&s.requirepass, "requirepass", "", "password of the default user: clients AUTH with it (prefer --requirepass-file, or the KVORUM_REQUIREPASS twin: a flag shows in ps)")
	fs.StringVar(&s.requirepassFile, "requirepass-file", "", "file holding the default user's password (a Docker secret); a trailing newline is ignored")
	fs.StringVar(&s.usersFile, "users-file", "", "ACL users, one 'user <name> on >password ~pattern +@category' line each (README, Security)")
	fs.StringVar(&s.protectedMode, "protected-mode", s.protectedMode, "yes: with no password for the default user and a listen address beyond loopback, serve loopback clients only")
	fs.StringVar(&s.gossipKeys, "gossip-key", "", "base64 key (16, 24 or 32 bytes) that encrypts and authenticates gossip; a comma-separated list during a rotation, the first one encrypting (docs/security.md)")
	fs.IntVar(&s.perIP, "max-clients-per-ip", 0, "most client connections at once from one IP address (0: no bound)")
	fs.IntVar(&s.timeout, "timeout", 0, "close a client connection idle this many seconds, as Redis's timeout (0: never; blocked clients and subscribers are spared)")
}

// convertSecurity reads the password and users files into the door's
// configuration and decides protected mode, as Redis does: on unless
// turned off, when the default user has no password and a listener is
// bound beyond loopback.
func (o *options) convertSecurity(s secFlags, listen ...string) error {
	pass := s.requirepass
	if s.requirepassFile != "" {
		if pass != "" {
			return fmt.Errorf("--requirepass and --requirepass-file: give one")
		}
		b, err := os.ReadFile(s.requirepassFile)
		if err != nil {
			return fmt.Errorf("--requirepass-file: %w", err)
		}
		if pass = strings.TrimRight(string(b), "\r\n"); pass == "" {
			return fmt.Errorf("--requirepass-file %s is empty", s.requirepassFile)
		}
	}
	text := ""
	if s.usersFile != "" {
		b, err := os.ReadFile(s.usersFile)
		if err != nil {
			return fmt.Errorf("--users-file: %w", err)
		}
		text = string(b)
	}
	users, err := door.ParseUsers(text, pass)
	if err != nil {
		return fmt.Errorf("--users-file %s: %w", s.usersFile, err)
	}
	o.door.Users = users
	if s.perIP < 0 || s.timeout < 0 {
		return fmt.Errorf("--max-clients-per-ip and --timeout must not be negative")
	}
	o.cfg.MaxClientsPerIP, o.cfg.IdleTimeout = s.perIP, time.Duration(s.timeout)*time.Second
	for _, k := range strings.Split(s.gossipKeys, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return fmt.Errorf("--gossip-key: not base64: %w", err)
		}
		o.cfg.GossipKeys = append(o.cfg.GossipKeys, b)
	}
	switch s.protectedMode {
	case "yes":
		for _, l := range listen {
			if l != "" && !loopbackListen(l) && users.DefaultOpen() {
				o.door.ProtectedMode = true
			}
		}
	case "no":
	default:
		return fmt.Errorf("--protected-mode: %q is neither yes nor no", s.protectedMode)
	}
	return nil
}

// loopbackListen reports whether a listen address binds loopback only.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
