// Command kvorum-server runs one kvorum node.
//
// main only turns flags and KVORUM_* environment variables into a
// cluster.Config, starts the node, waits for SIGINT/SIGTERM and shuts it
// down in the order cluster.Node.Close documents. Every flag has an
// environment twin: --data-dir is KVORUM_DATA_DIR, and so on (not
// --version, which prints internal/version's and exits).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/internal/version"
	"github.com/kvorum/kvorum/resp"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Args[2:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs a node until a signal, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	args, profile := cutFlag(args, "cpuprofile")
	opts, err := parseFlags(args, stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "kvorum-server: %v\nRun 'kvorum-server --help' for usage.\n", err)
		return 2
	case opts.version:
		fmt.Fprintln(stdout, "kvorum-server", version.String())
		return 0
	}
	log := newLogger(stderr, opts.logFormat, opts.logLevel)
	cfg, doorCfg := opts.cfg, opts.door
	cfg.Logger = log
	log.Info("starting", "version", version.String(), "node", cfg.NodeID)
	// The data flow: resp (in the node's client listener) -> the front
	// door -> the node's Raft log -> the fsm, and back.
	node, err := cluster.New(cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	doorCfg.Store, doorCfg.WakeTimeout, doorCfg.Logger = node, cfg.ApplyTimeout, log
	doorCfg.DialLeader = node.DialLeader // the follower proxy's upstream: mutual TLS with --tls-cluster
	// A fresh node's first election takes one to two election timeouts:
	// requests that come sooner wait for it rather than get CLUSTERDOWN.
	doorCfg.FirstLeaderWait = 4 * cfg.ElectionTimeout
	front := door.New(doorCfg)
	defer front.Close() // after the node: it stops serving clients first
	if err := node.Start(front); err != nil {
		log.Error("cannot start", "err", err)
		node.Close()
		return 1
	}
	if opts.metricsAddr != "" {
		stopMetrics, err := startMetrics(opts.metricsAddr, node, front, log)
		if err != nil {
			log.Error("cannot start", "err", err)
			node.Close()
			return 1
		}
		defer stopMetrics()
	}
	if profile != "" {
		stopProfile, err := startCPUProfile(profile)
		if err != nil {
			log.Error("cpu profile", "err", err)
		} else {
			defer stopProfile()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if opts.certs != nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go opts.certs.reloadOnHUP(hup, ctx.Done(), log)
	}
	<-ctx.Done()
	stop() // a second SIGTERM or interrupt now ends the process at once
	log.Info("shutting down", "leave", opts.leave)
	stopNode := node.Close
	if opts.leave {
		stopNode = node.Leave
	}
	if err := shutdown(stopNode, opts.shutdownTimeout, stderr); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// shutdown runs stopNode (node.Close, or node.Leave to leave the cluster
// for good), giving up after timeout: a process that does not stop on SIGTERM is worse for
// an operator than one that exits without its last snapshot, and its log
// then holds every goroutine's stack to say where it hung. Raft's state
// is on disk, so a node that exits this way restarts like one that was
// killed.
func shutdown(stopNode func() error, timeout time.Duration, stderr io.Writer) error {
	done := make(chan error, 1)
	go func() { done <- stopNode() }() // abandoned if it hangs: the process exits

	if timeout <= 0 {
		return <-done
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		fmt.Fprintf(stderr, "kvorum-server: shutdown did not finish in %v; goroutines:\n", timeout)
		pprof.Lookup("goroutine").WriteTo(stderr, 2)
		return fmt.Errorf("did not finish in %v (--shutdown-timeout); exiting without it", timeout)
	}
}

// newLogger returns the node's one logger: slog's text or JSON handler on
// w. Raft's and memberlist's lines reach it too (cluster/logbridge.go).
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	o := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// cutFlag removes a hidden "--name FILE" or "--name=FILE" flag from args
// (kept out of --help: --cpuprofile is for benchmarking, see bench/).
func cutFlag(args []string, name string) ([]string, string) {
	out := make([]string, 0, len(args))
	val := ""
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(strings.TrimPrefix(args[i], "-"), "-")
		switch {
		case a == name && i+1 < len(args):
			val = args[i+1]
			i++
		case strings.HasPrefix(a, name+"="):
			val = a[len(name)+1:]
		default:
			out = append(out, args[i])
		}
	}
	return out, val
}

// startCPUProfile writes a CPU profile to path until the returned function
// is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// options is what the command line and the KVORUM_* environment say.
type options struct {
	cfg       cluster.Config
	door      door.Config
	logLevel  slog.Level
	logFormat string // text or json
	leave     bool   // --leave-on-terminate
	// shutdownTimeout bounds the graceful stop after SIGTERM.
	shutdownTimeout time.Duration
	metricsAddr     string        // --metrics-listen: Prometheus /metrics, off if ""
	version         bool          // --version: print it and exit
	certs           *certReloader // every TLS file (certificates, keys, CAs), reloaded on SIGHUP; nil without any
}

// rawFlags holds the flags that are converted after parsing.
type rawFlags struct {
	protocol, level, format, join, follower string
	sec                                     secFlags // security.go
	tls                                     tlsFlags // tls.go
}

// usageHead is --help's text above the flag list.
const usageHead = `usage: kvorum-server [flags]             run a node
       kvorum-server healthcheck [--addr host:port]
                                         exit 0 if the node at addr answers PING
       kvorum-server --version           print the version and exit

Every flag has an environment twin KVORUM_<NAME>: --data-dir is
KVORUM_DATA_DIR, --bootstrap-expect is KVORUM_BOOTSTRAP_EXPECT. A flag on
the command line wins over its twin.

Flags:
`

// newFlagSet declares the flags on o and raw. The set prints nothing:
// run reports a bad flag once, and parseFlags prints --help's usage.
func newFlagSet(o *options, raw *rawFlags) *flag.FlagSet {
	d := cluster.DefaultConfig()
	o.cfg = d
	*raw = rawFlags{protocol: "native", level: "info", format: "text", follower: "redirect"}
	fs := flag.NewFlagSet("kvorum-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c := &o.cfg
	fs.StringVar(&c.ClientAddr, "listen", d.ClientAddr, "client address (RESP)")
	fs.StringVar(&c.RaftAddr, "raft-addr", d.RaftAddr, "Raft transport address")
	fs.StringVar(&c.GossipAddr, "gossip-addr", ":31339", `gossip (memberlist) address; "" disables gossip`)
	fs.StringVar(&c.DataDir, "data-dir", d.DataDir, "directory for the Raft log and snapshots")
	fs.StringVar(&c.LogStore, "raft-log-store", cluster.LogStoreBolt, "Raft log store: boltdb (raft-boltdb) or wal (hashicorp/raft-wal, one fsync per write); a data dir keeps the store it was created with")
	fs.StringVar(&c.NodeID, "node-id", "", "unique, stable node id (default: this machine's hostname)")
	fs.StringVar(&c.Advertise, "advertise", "", "host other nodes and clients use to reach this one (fills in the advertise addresses)")
	fs.StringVar(&c.AdvertiseClient, "advertise-client", "", "client address put in redirects (host:port reachable by clients)")
	fs.StringVar(&c.AdvertiseRaft, "advertise-raft", "", "Raft address other nodes dial")
	fs.StringVar(&raw.join, "join", "", "comma-separated gossip seeds host[:port]")
	fs.IntVar(&c.BootstrapExpect, "bootstrap-expect", 0, "bootstrap once this many fresh nodes see each other")
	fs.DurationVar(&c.ReapAfter, "reap-after", d.ReapAfter, "remove a failed member from Raft after this long (0: never)")
	fs.StringVar(&raw.protocol, "protocol", raw.protocol, "reply mode of new connections: native, resp2 or resp3")
	fs.StringVar(&raw.level, "log-level", raw.level, "debug, info, warn or error")
	fs.StringVar(&raw.format, "log-format", raw.format, "log lines as text (key=value) or json")
	fs.Uint64Var(&c.SnapshotThreshold, "snapshot-threshold", d.SnapshotThreshold, "log entries between snapshots")
	fs.DurationVar(&c.SnapshotInterval, "snapshot-interval", d.SnapshotInterval, "how often to check --snapshot-threshold")
	fs.StringVar(&o.metricsAddr, "metrics-listen", "", "serve Prometheus metrics (raft_, memberlist_, kvorum_ series) over HTTP at /metrics on this address, e.g. 127.0.0.1:9121; off if empty")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long a graceful stop after SIGTERM may take (leadership handover, last snapshot); past it the node logs every goroutine's stack and exits 1 (0: no limit)")
	fs.BoolVar(&o.leave, "leave-on-terminate", false, "on SIGTERM, leave the cluster for good: gossip announces the leave and the leader removes this node from Raft (otherwise a stopped node stays a voter and rejoins on restart)")
	fs.IntVar(&c.MaxClients, "max-clients", 10000, "most client connections at once")
	c.MinFreeDisk = 64 << 20
	fs.Var(sizeFlag{&c.MinFreeDisk}, "min-free-disk", "refuse writes with MISCONF, and go on serving reads, while the data directory's disk has less free space than this (e.g. 64mb, 1gb; 0: no check)")
	fs.StringVar(&o.door.SentinelMaster, "sentinel-master", "mymaster", "master name the SENTINEL commands answer for (the Raft leader), as Sentinel clients are configured")
	fs.StringVar(&c.SentinelAddr, "sentinel-listen", "", `a second client address for Sentinel clients that insist on Sentinel's port, e.g. ":26379" ("": none)`)
	raw.sec.register(fs)
	raw.tls.register(fs)
	fs.StringVar(&raw.follower, "follower-mode", raw.follower, "what a follower does with a plain client's command for the leader: redirect (-MOVED) or proxy (relay the connection to the leader, over mutual TLS with --tls-cluster yes)")
	return fs
}

// printUsage writes --help's text to w.
func printUsage(fs *flag.FlagSet, w io.Writer) {
	io.WriteString(w, usageHead)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFlags turns args and the KVORUM_* environment into options. It
// prints only --help's usage (to help); the caller reports an error.
func parseFlags(args []string, help io.Writer) (options, error) {
	var (
		o   options
		raw rawFlags
	)
	fs := newFlagSet(&o, &raw)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "KVORUM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	})
	if envErr != nil {
		return o, envErr
	}
	// Declared after the environment twins are read: --version has none.
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, help)
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.version {
		return o, nil
	}
	return o, o.convert(raw)
}

// convert checks and applies the flags that need more than parsing.
func (o *options) convert(raw rawFlags) error {
	var err error
	if o.cfg.Protocol, err = resp.ParseMode(raw.protocol); err != nil {
		return err
	}
	switch raw.follower {
	case "redirect":
	case "proxy":
		o.door.Proxy = true
	default:
		return fmt.Errorf("--follower-mode: %q is neither redirect nor proxy", raw.follower)
	}
	if err := o.convertSecurity(raw.sec, o.cfg.ClientAddr, o.cfg.SentinelAddr, raw.tls.listen); err != nil {
		return err
	}
	if err := o.convertTLS(raw.tls); err != nil {
		return err
	}
	if s := o.cfg.LogStore; s != cluster.LogStoreBolt && s != cluster.LogStoreWAL {
		return fmt.Errorf("--raft-log-store: %q is neither %s nor %s", s, cluster.LogStoreBolt, cluster.LogStoreWAL)
	}
	if err := o.logLevel.UnmarshalText([]byte(raw.level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if raw.format != "text" && raw.format != "json" {
		return fmt.Errorf("--log-format: %q is neither text nor json", raw.format)
	}
	o.logFormat = raw.format
	if o.cfg.NodeID == "" {
		o.cfg.NodeID = cluster.DefaultConfig().NodeID
	}
	if o.cfg.ReapAfter == 0 {
		o.cfg.ReapAfter = -1
	}
	for _, j := range strings.Split(raw.join, ",") {
		if j = strings.TrimSpace(j); j != "" {
			if !strings.Contains(j, ":") {
				j = net.JoinHostPort(j, "31339")
			}
			o.cfg.Join = append(o.cfg.Join, j)
		}
	}
	return o.cfg.Validate()
}

// healthcheck pings a node: exit 0 if it answers PONG. It serves as the
// container HEALTHCHECK (the image has no shell).
func healthcheck(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:31337", "node client address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	conn, err := net.DialTimeout("tcp", *addr, 2*time.Second)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write(resp.AppendCommand(nil, "PING")); err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	// -NOAUTH is an answer too: a node with a password is up.
	v, err := resp.NewReader(conn, resp.Limits{}).ReadValue()
	if err != nil || (v.Text() != "PONG" && v.Code() != "NOAUTH") {
		fmt.Fprintln(stderr, "healthcheck: unexpected reply", v, err)
		return 1
	}
	return 0
}
