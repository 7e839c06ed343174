package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	gometrics "github.com/hashicorp/go-metrics"
	gmprom "github.com/hashicorp/go-metrics/prometheus"
	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/cluster/door"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics (--metrics-listen): Prometheus text at /metrics, with three
// sources in one registry of the process's own:
//   - raft_* and memberlist_*: what hashicorp/raft and memberlist report
//     through hashicorp/go-metrics. Both libraries report to go-metrics'
//     process-wide sink, so that one global is set here, once, to a sink
//     that feeds the registry; nothing else in kvorum is global.
//   - kvorum_*: the node's own counters (cluster.Stats) and its front
//     door's (door.Stats: commands by name, request latency histograms,
//     redirects, blocked clients), read at scrape time.
//   - go_* and process_*: the Go runtime's and the process's.

// metricsExpiry is how long a raft_ or memberlist_ series lives without a
// new sample (go-metrics' sink forgets per-peer series of gone peers).
const metricsExpiry = 5 * time.Minute

// startMetrics serves /metrics on addr until the returned stop is called.
func startMetrics(addr string, node *cluster.Node, front *door.Door, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	reg := prometheus.NewRegistry()
	sink, err := gmprom.NewPrometheusSinkFrom(gmprom.PrometheusOpts{Registerer: reg, Expiration: metricsExpiry})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("metrics sink: %w", err)
	}
	cfg := gometrics.DefaultConfig("") // no prefix: raft_apply, memberlist_gossip
	cfg.EnableHostname, cfg.EnableHostnameLabel, cfg.EnableRuntimeMetrics = false, false, false
	if _, err := gometrics.NewGlobal(cfg, sink); err != nil {
		ln.Close()
		return nil, fmt.Errorf("metrics: %w", err)
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		nodeCollector{node}, doorCollector{front})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	sink.RunBackgroundCleanup(ctx) // starts its own goroutine, which ends with ctx
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	log.Info("metrics", "addr", ln.Addr().String(), "path", "/metrics")
	return func() {
		// Raft and memberlist report to the global sink as long as the
		// process lives: point it at nothing before its registry goes.
		gometrics.NewGlobal(cfg, &gometrics.BlackholeSink{})
		cancel()
		srv.Close()
		<-served
	}, nil
}

// nodeCollector reads the node's counters at each scrape.
type nodeCollector struct{ node *cluster.Node }

// The kvorum_ series. Names follow Prometheus's conventions: _total for
// counters, _seconds_total for summed time.
var (
	descLeader       = nodeDesc("raft_leader", "1 if this node leads its Raft cluster")
	descTerm         = nodeDesc("raft_term", "the node's current Raft term")
	descCommitIndex  = nodeDesc("raft_commit_index", "the highest log index known committed")
	descAppliedIndex = nodeDesc("raft_applied_index", "the highest log index applied to the state machine")
	descLastLogIndex = nodeDesc("raft_last_log_index", "the last index in the node's log")
	descPeers        = nodeDesc("raft_peers", "the other servers in the Raft configuration")
	descLogWrites    = nodeDesc("log_writes_total", "writes to the Raft log store")
	descLogEntries   = nodeDesc("log_entries_total", "entries written to the Raft log store")
	descLogSyncs     = nodeDesc("log_fsyncs_total", "fdatasyncs the log writes cost (2 per bolt write, 1 per raft-wal write)")
	descLogWrite     = nodeDesc("log_write_seconds_total", "time spent in Raft log store writes")
	descApplied      = nodeDesc("commands_applied_total", "commands applied by this node's state machine")
	descApply        = nodeDesc("apply_seconds_total", "time spent applying log entries")
	descBatches      = nodeDesc("proposer_batches_total", "batch entries proposed by this node as leader; commands per batch is the rate of kvorum_proposer_commands_total over this")
	descBatchCmds    = nodeDesc("proposer_commands_total", "writes proposed in those batches")
	descBatchQueue   = nodeDesc("proposer_queue_seconds_total", "summed time from a batch's first write to its proposal")
	descBatchCommit  = nodeDesc("proposer_commit_seconds_total", "summed time from a batch's proposal to its apply")
	descInFlight     = nodeDesc("proposer_batches_in_flight", "batches proposed and not yet applied")
	descKeys         = nodeDesc("keys", "keys held (expired ones not yet removed included)")
	descSessions     = nodeDesc("sessions", "open client write sessions")
	descPanics       = nodeDesc("command_panics_total", "commands that panicked (a server bug, logged with its stack) and were answered with an error")
)

func nodeDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("kvorum_"+name, help, nil, nil)
}

// Describe sends nothing: the collector is unchecked, its series fixed
// by Collect.
func (nodeCollector) Describe(chan<- *prometheus.Desc) {}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.node.Stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	leader := 0.0
	if s.Leader {
		leader = 1
	}
	gauge(descLeader, leader)
	gauge(descTerm, float64(s.Term))
	gauge(descCommitIndex, float64(s.CommitIndex))
	gauge(descAppliedIndex, float64(s.AppliedIndex))
	gauge(descLastLogIndex, float64(s.LastLogIndex))
	gauge(descPeers, float64(s.Peers))
	counter(descLogWrites, float64(s.LogWrites))
	counter(descLogEntries, float64(s.LogEntries))
	counter(descLogSyncs, float64(s.LogSyncs))
	counter(descLogWrite, s.LogWrite.Seconds())
	counter(descApplied, float64(s.CommandsApplied))
	counter(descApply, s.Apply.Seconds())
	counter(descBatches, float64(s.Batches))
	counter(descBatchCmds, float64(s.BatchCommands))
	counter(descBatchQueue, s.BatchQueue.Seconds())
	counter(descBatchCommit, s.BatchCommit.Seconds())
	gauge(descInFlight, float64(s.BatchesInFlight))
	gauge(descKeys, float64(s.Keys))
	gauge(descSessions, float64(s.Sessions))
	counter(descPanics, float64(s.CommandPanics))
}

// doorCollector reads the front door's counters at each scrape.
type doorCollector struct{ front *door.Door }

var (
	descBlocked   = nodeDesc("blocked_clients", "blocking commands (BLPOP, BLMOVE, ...) waiting now")
	descRedirects = nodeDesc("redirects_total", "requests not served because this node does not lead (-MOVED, or -CLUSTERDOWN while no leader is known)")
	descCalls     = prometheus.NewDesc("kvorum_commands_total", "requests routed, by command (INFO commandstats' calls; CONFIG RESETSTAT zeroes it)", []string{"command"}, nil)
	descRejected  = prometheus.NewDesc("kvorum_commands_rejected_total", "requests refused before routing (arity, NOAUTH, NOPERM), by command", []string{"command"}, nil)
	descFailed    = prometheus.NewDesc("kvorum_commands_failed_total", "requests answered with an error, by command", []string{"command"}, nil)
	descCmdTime   = prometheus.NewDesc("kvorum_command_seconds_total", "the node's own work on requests, by command (INFO commandstats' usec)", []string{"command"}, nil)
	descLatency   = prometheus.NewDesc("kvorum_request_duration_seconds", "from a request's arrival to its reply being known, for the writes and reads this node served as leader", []string{"kind"}, nil)
)

func (doorCollector) Describe(chan<- *prometheus.Desc) {}

func (c doorCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.front.Stats()
	ch <- prometheus.MustNewConstMetric(descBlocked, prometheus.GaugeValue, float64(s.BlockedClients))
	ch <- prometheus.MustNewConstMetric(descRedirects, prometheus.CounterValue, float64(s.Redirects))
	for _, cs := range s.Commands {
		name := strings.ToLower(cs.Name)
		ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(cs.Calls), name)
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(cs.Rejected), name)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(cs.Failed), name)
		ch <- prometheus.MustNewConstMetric(descCmdTime, prometheus.CounterValue, cs.Time.Seconds(), name)
	}
	for kind, h := range map[string]door.Histogram{"write": s.Writes, "read": s.Reads} {
		buckets := make(map[float64]uint64, len(h.Bounds))
		var n uint64
		for i, b := range h.Bounds {
			n += h.Counts[i]
			buckets[b] = n // cumulative, as Prometheus counts them
		}
		n += h.Counts[len(h.Bounds)]
		ch <- prometheus.MustNewConstHistogram(descLatency, n, h.Sum.Seconds(), buckets, kind)
	}
}
