package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/buildtest"
	"github.com/kvorum/kvorum/internal/resptest"
)

// --metrics-listen serves Prometheus text with hashicorp/raft's and
// memberlist's series and the node's own, which follow the writes.
func TestMetrics_Endpoint(t *testing.T) {
	ports := buildtest.FreePorts(t, 2)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	p := start(t, t.TempDir(), "--metrics-listen", metricsAddr, "--gossip-addr", fmt.Sprintf("127.0.0.1:%d", ports[1]))
	const writes = 50
	for i := range writes {
		if v := resptest.Do(t, p.addr, "SET", "k"+strconv.Itoa(i), "v"); v.IsError() {
			t.Fatalf("SET = %v", v)
		}
	}
	resptest.Do(t, p.addr, "GET", "k1")
	resptest.Do(t, p.addr, "LPUSH", "k1", "x") // WRONGTYPE: a failed call
	var body string
	value := func(name string) (float64, bool) {
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				return f, err == nil
			}
		}
		return 0, false
	}
	has := func(prefix string) bool {
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, prefix) {
				return true
			}
		}
		return false
	}
	resptest.WaitFor(t, "raft_, memberlist_ and kvorum_ series", 10*time.Second, func() bool {
		res, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			return false
		}
		body = string(b)
		applied, _ := value("kvorum_commands_applied_total")
		return has("raft_") && has("memberlist_") && applied >= writes
	})
	if v, ok := value("kvorum_raft_leader"); !ok || v != 1 {
		t.Errorf("kvorum_raft_leader = %v (found %v) on a single node", v, ok)
	}
	if v, ok := value("kvorum_keys"); !ok || v < writes {
		t.Errorf("kvorum_keys = %v (found %v) after %d SETs of new keys", v, ok, writes)
	}
	// The front door's: commands by name, the latency histograms, blocked
	// clients and redirects.
	for name, want := range map[string]float64{`kvorum_commands_total{command="set"}`: writes, `kvorum_commands_total{command="get"}`: 1,
		`kvorum_commands_failed_total{command="lpush"}`: 1, `kvorum_request_duration_seconds_count{kind="write"}`: writes + 1,
		"kvorum_blocked_clients": 0, "kvorum_redirects_total": 0} {
		if v, ok := value(name); !ok || v != want {
			t.Errorf("%s = %v (found %v), want %v", name, v, ok, want)
		}
	}
	if v, ok := value(`kvorum_request_duration_seconds_count{kind="read"}`); !ok || v < 1 { // the GET, and the start's readiness probes
		t.Errorf(`kvorum_request_duration_seconds_count{kind="read"} = %v (found %v), want at least 1`, v, ok)
	}
	if v, ok := value(`kvorum_request_duration_seconds_bucket{kind="write",le="+Inf"}`); !ok || v != writes+1 {
		t.Errorf("the write histogram's +Inf bucket = %v (found %v), want %d", v, ok, writes+1)
	}
	if v, ok := value("kvorum_command_panics_total"); !ok || v != 0 {
		t.Errorf("kvorum_command_panics_total = %v (found %v), want 0", v, ok)
	}
	for _, name := range []string{"kvorum_log_fsyncs_total", "kvorum_proposer_batches_total", "process_resident_memory_bytes", "go_goroutines"} {
		if v, ok := value(name); !ok || v <= 0 {
			t.Errorf("%s = %v (found %v)", name, v, ok)
		}
	}
}
