package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// report is one run's JSON report.
type report struct {
	Seed     uint64   `json:"seed"`
	Store    string   `json:"raft_log_store"` // the nodes' --raft-log-store
	Replay   string   `json:"replay"`
	Duration string   `json:"duration"`
	Machine  string   `json:"machine"`
	Schedule []step   `json:"schedule"`
	Faults   []fault  `json:"faults"`
	Ops      opsBlock `json:"ops"`
	Verdicts verdicts `json:"verdicts"`
	Failover struct {
		Count  int       `json:"count"`
		P50    float64   `json:"p50_s"`
		Max    float64   `json:"max_s"`
		Values []float64 `json:"values_s"`
	} `json:"failover"`
	Registers struct {
		Operations int       `json:"operations"`
		Keys       int       `json:"keys"`
		MaxKeyOps  int       `json:"max_ops_per_key"`
		CAS        casCounts `json:"cas"`
		CheckS     float64   `json:"check_s"`
	} `json:"registers"`
	// RedisPy is the redis-py register workload (pyregisters_test.go).
	RedisPy struct {
		Skipped    string   `json:"skipped,omitempty"` // why it did not run
		Version    string   `json:"redis_py_version,omitempty"`
		Operations int      `json:"operations"`
		Keys       int      `json:"keys"`
		MaxKeyOps  int      `json:"max_ops_per_key"`
		CheckS     float64  `json:"check_s"`
		Killed     bool     `json:"killed,omitempty"` // still running redisPyGrace after the run: killed
		Errors     []string `json:"errors,omitempty"` // the first failed or unknown operations' errors
	} `json:"redispy_registers"`
	Queue         queueVerdict              `json:"queue"`
	SmartQueue    queueVerdict              `json:"smart_queue"`
	SmartErrs     []string                  `json:"smart_queue_errors,omitempty"`
	Counters      map[string]*counterRecord `json:"counters"`
	SmartCounters map[string]*counterRecord `json:"smart_counters"`
	SmartCtrErrs  []string                  `json:"smart_counters_errors,omitempty"`
	Logs          string                    `json:"logs"`
	// ShutdownDeadlines are the SIGTERMs a node answered by running out of
	// its --shutdown-timeout: not a safety violation, a stop that hung.
	ShutdownDeadlines []string `json:"shutdown_deadlines,omitempty"`
}

type opsBlock struct {
	Registers        opCounts `json:"registers"`
	RedisPyRegisters opCounts `json:"redispy_registers"`
	Queue            opCounts `json:"queue"`
	SmartQueue       opCounts `json:"smart_queue"`
	Counters         opCounts `json:"counters"`
	SmartCounters    opCounts `json:"smart_counters"`
}

type verdicts struct {
	Linearizability string `json:"linearizability"`
	Visualization   string `json:"visualization,omitempty"`
	// RedisPy is the redis-py registers' porcupine verdict, or "skipped".
	RedisPy              string   `json:"redispy_linearizability"`
	RedisPyVisualization string   `json:"redispy_visualization,omitempty"`
	Queue                string   `json:"queue"`
	SmartQueue           string   `json:"smart_queue"`
	Counters             string   `json:"counters"`
	SmartCounters        string   `json:"smart_counters"`
	Problems             []string `json:"problems,omitempty"`
}

// ok reports whether no checker found a violation and nothing failed.
func (r *report) ok() bool { return len(r.Verdicts.Problems) == 0 }

// finish fills in the failover summary.
func (r *report) finish() {
	for _, f := range r.Faults {
		if f.Failover > 0 {
			r.Failover.Values = append(r.Failover.Values, f.Failover)
		}
	}
	v := slices.Sorted(slices.Values(r.Failover.Values))
	r.Failover.Count = len(v)
	if len(v) > 0 {
		r.Failover.P50, r.Failover.Max = v[(len(v)-1)/2], v[len(v)-1]
	}
}

// summary is the run in one line.
func (r *report) summary() string {
	kinds := map[string]int{}
	for _, f := range r.Faults {
		if f.Skipped == "" {
			kinds[f.Kind]++
		}
	}
	var ks []string
	for _, k := range faultKinds {
		if kinds[k] > 0 {
			ks = append(ks, fmt.Sprintf("%s %d", k, kinds[k]))
		}
	}
	verdict := "PASS"
	if !r.ok() {
		verdict = "FAIL"
	}
	o := r.Ops
	py := "redis-py registers skipped"
	if r.RedisPy.Skipped == "" {
		py = fmt.Sprintf("redis-py registers %d/%d/%d %s", o.RedisPyRegisters.OK, o.RedisPyRegisters.Failed,
			o.RedisPyRegisters.Unknown, r.Verdicts.RedisPy)
		if r.RedisPy.Killed {
			py += " (script killed after the run)"
		}
	}
	line := fmt.Sprintf("chaos %s seed=%d %s %s faults=%d (%s) failover p50=%.2fs max=%.2fs | registers %d/%d/%d %s (cas %d swapped, %d changed, %d differed) | %s | queue %d/%d/%d %s | smart queue %d/%d/%d %s | counters %d/%d/%d %s | smart counters %d/%d/%d %s (ok/failed/unknown)",
		verdict, r.Seed, r.Store, r.Duration, len(r.Faults), strings.Join(ks, ", "), r.Failover.P50, r.Failover.Max,
		o.Registers.OK, o.Registers.Failed, o.Registers.Unknown, r.Verdicts.Linearizability,
		r.Registers.CAS.Swapped, r.Registers.CAS.Changed, r.Registers.CAS.Differed, py,
		o.Queue.OK, o.Queue.Failed, o.Queue.Unknown, firstWord(r.Verdicts.Queue),
		o.SmartQueue.OK, o.SmartQueue.Failed, o.SmartQueue.Unknown, firstWord(r.Verdicts.SmartQueue),
		o.Counters.OK, o.Counters.Failed, o.Counters.Unknown, r.Verdicts.Counters,
		o.SmartCounters.OK, o.SmartCounters.Failed, o.SmartCounters.Unknown, r.Verdicts.SmartCounters)
	if n := len(r.ShutdownDeadlines); n > 0 {
		line += fmt.Sprintf(" | %d stop(s) ran out of the shutdown deadline", n)
	}
	return line
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// write writes the report as report.json in dir and returns its path.
func (r *report) write(dir string) (string, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "report.json")
	return path, os.WriteFile(path, b, 0o644)
}

func numCPU() int { return runtime.NumCPU() }
