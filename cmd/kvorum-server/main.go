// Command kvorum-server runs one kvorum node.
//
// main only turns flags and KVORUM_* environment variables into a
// cluster.Config, starts the node, waits for SIGINT/SIGTERM and shuts it
// down in the order cluster.Node.Close documents. Every flag has an
// environment twin: --data-dir is KVORUM_DATA_DIR, and so on.
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
	"github.com/kvorum/kvorum/resp"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Args[2:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run parses args, runs a node until a signal, and returns the exit code.
func run(args []string, stderr io.Writer) int {
	args, profile := cutFlag(args, "cpuprofile")
	cfg, doorCfg, logLevel, leave, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "kvorum-server:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	cfg.Logger = log
	// The data flow: resp (in the node's client listener) -> the front
	// door -> the node's Raft log -> the fsm, and back.
	node, err := cluster.New(cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	doorCfg.Store, doorCfg.WakeTimeout, doorCfg.Logger = node, cfg.ApplyTimeout, log
	front := door.New(doorCfg)
	defer front.Close() // after the node: it stops serving clients first
	if err := node.Start(front); err != nil {
		log.Error("cannot start", "err", err)
		node.Close()
		return 1
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
	<-ctx.Done()
	log.Info("shutting down", "leave", leave)
	if leave {
		err = node.Leave()
	} else {
		err = node.Close()
	}
	if err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
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

func parseFlags(args []string, stderr io.Writer) (cluster.Config, door.Config, slog.Level, bool, error) {
	d := cluster.DefaultConfig()
	fs := flag.NewFlagSet("kvorum-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      = d
		doorCfg  door.Config
		protocol = "native"
		level    = "info"
		join     string
		leave    = false
		follower = "redirect"
	)
	fs.StringVar(&cfg.ClientAddr, "listen", d.ClientAddr, "client address (RESP)")
	fs.StringVar(&cfg.RaftAddr, "raft-addr", d.RaftAddr, "Raft transport address")
	fs.StringVar(&cfg.GossipAddr, "gossip-addr", ":31339", `gossip (memberlist) address; "" disables gossip`)
	fs.StringVar(&cfg.DataDir, "data-dir", d.DataDir, "directory for the Raft log and snapshots")
	fs.StringVar(&cfg.NodeID, "node-id", d.NodeID, "unique node id (default: hostname)")
	fs.StringVar(&cfg.Advertise, "advertise", "", "host other nodes and clients use to reach this one (fills in the advertise addresses)")
	fs.StringVar(&cfg.AdvertiseClient, "advertise-client", "", "client address put in redirects (host:port reachable by clients)")
	fs.StringVar(&cfg.AdvertiseRaft, "advertise-raft", "", "Raft address other nodes dial")
	fs.StringVar(&join, "join", "", "comma-separated gossip seeds host:port")
	fs.IntVar(&cfg.BootstrapExpect, "bootstrap-expect", 0, "bootstrap once this many fresh nodes see each other")
	fs.DurationVar(&cfg.ReapAfter, "reap-after", d.ReapAfter, "remove a failed member from Raft after this long (0: never)")
	fs.StringVar(&protocol, "protocol", protocol, "reply mode of new connections: native, resp2 or resp3")
	fs.StringVar(&level, "log-level", level, "debug, info, warn or error")
	fs.Uint64Var(&cfg.SnapshotThreshold, "snapshot-threshold", d.SnapshotThreshold, "log entries between snapshots")
	fs.DurationVar(&cfg.SnapshotInterval, "snapshot-interval", d.SnapshotInterval, "how often to check --snapshot-threshold")
	fs.BoolVar(&leave, "leave-on-terminate", leave, "on SIGTERM, leave the cluster for good: gossip announces the leave and the leader removes this node from Raft (default: a stopped node stays a voter and rejoins on restart)")
	fs.IntVar(&cfg.MaxClients, "max-clients", 10000, "most client connections at once")
	fs.StringVar(&doorCfg.SentinelMaster, "sentinel-master", "mymaster", "master name the SENTINEL commands answer for (the Raft leader), as Sentinel clients are configured")
	fs.StringVar(&cfg.SentinelAddr, "sentinel-listen", "", `a second client address for Sentinel clients that insist on Sentinel's port, e.g. ":26379" ("": none)`)
	fs.StringVar(&follower, "follower-mode", follower, "what a follower does with a plain client's command for the leader: redirect (-MOVED) or proxy (relay the connection to the leader)")
	fs.VisitAll(func(f *flag.Flag) {
		env := "KVORUM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			f.Value.Set(v)
		}
	})
	if err := fs.Parse(args); err != nil {
		return cfg, doorCfg, 0, false, err
	}
	if fs.NArg() > 0 {
		return cfg, doorCfg, 0, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Protocol, err = resp.ParseMode(protocol); err != nil {
		return cfg, doorCfg, 0, false, err
	}
	switch follower {
	case "redirect":
	case "proxy":
		doorCfg.Proxy = true
	default:
		return cfg, doorCfg, 0, false, fmt.Errorf("--follower-mode: %q is neither redirect nor proxy", follower)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return cfg, doorCfg, 0, false, fmt.Errorf("--log-level: %w", err)
	}
	if cfg.ReapAfter == 0 {
		cfg.ReapAfter = -1
	}
	for _, j := range strings.Split(join, ",") {
		if j = strings.TrimSpace(j); j != "" {
			if !strings.Contains(j, ":") {
				j = net.JoinHostPort(j, "31339")
			}
			cfg.Join = append(cfg.Join, j)
		}
	}
	return cfg, doorCfg, lv, leave, cfg.Validate()
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
	v, err := resp.NewReader(conn, resp.Limits{}).ReadValue()
	if err != nil || v.Text() != "PONG" {
		fmt.Fprintln(stderr, "healthcheck: unexpected reply", v, err)
		return 1
	}
	return 0
}
