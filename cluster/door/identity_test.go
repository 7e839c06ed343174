package door_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/version"
	"github.com/kvorum/kvorum/resp"
)

// HELLO and INFO server describe the same server: the same Redis version
// and mode, and kvorum's own version in INFO's kvorum_version, in RESP2
// (HELLO's flat array) and RESP3 (its map) alike.
func TestIdentity_HelloAgreesWithInfo(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	for _, proto := range []string{"2", "3"} {
		c := resptest.Dial(t, addr)
		hello := pairs(c.Do(t, "HELLO", proto).Elems())
		info := infoFields(c.Do(t, "INFO", "server").Text())
		c.Close()
		if hello["server"] != "redis" || hello["version"] == "" || hello["version"] != info["redis_version"] {
			t.Errorf("RESP%s: HELLO server %q version %q, INFO redis_version %q: want redis and the same version",
				proto, hello["server"], hello["version"], info["redis_version"])
		}
		if hello["mode"] != "cluster" || info["redis_mode"] != "cluster" {
			t.Errorf("RESP%s: HELLO mode %q, INFO redis_mode %q: want cluster in both (kvorum answers CLUSTER)",
				proto, hello["mode"], info["redis_mode"])
		}
		if info["kvorum_version"] != version.String() {
			t.Errorf("RESP%s: INFO kvorum_version %q, want internal/version's %q", proto, info["kvorum_version"], version.String())
		}
		if exe, _ := os.Executable(); info["executable"] != exe || info["config_file"] != "" || info["uptime_in_days"] != "0" ||
			info["process_id"] != strconv.Itoa(os.Getpid()) {
			t.Errorf("RESP%s: INFO server executable %q config_file %q uptime_in_days %q process_id %q, want %q, none, 0, this process",
				proto, info["executable"], info["config_file"], info["uptime_in_days"], info["process_id"], exe)
		}
		if _, ok := info["config_file"]; !ok {
			t.Errorf("RESP%s: INFO server has no config_file line", proto)
		}
		if _, ok := hello["kvorum_version"]; ok || len(hello) != 7 {
			t.Errorf("RESP%s: HELLO has %d fields %v, want Redis's seven", proto, len(hello), hello)
		}
	}
}

// pairs turns HELLO's alternating names and values into a map of texts.
func pairs(elems []resp.Value) map[string]string {
	out := make(map[string]string, len(elems)/2)
	for i := 0; i+1 < len(elems); i += 2 {
		out[elems[i].Text()] = elems[i+1].Text()
	}
	return out
}

// infoFields parses INFO's "name:value" lines.
func infoFields(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// INFO stats counts the commands served and INFO memory reports the heap,
// as dashboards read them.
func TestInfo_StatsAndMemory(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	c := resptest.Dial(t, addr)
	defer c.Close()
	before := infoFields(c.Do(t, "INFO", "stats").Text())
	for i := 0; i < 5; i++ {
		c.Do(t, "SET", "k", "v")
	}
	after := infoFields(c.Do(t, "INFO", "stats").Text())
	b, _ := strconv.Atoi(before["total_commands_processed"])
	a, _ := strconv.Atoi(after["total_commands_processed"])
	if a-b != 6 { // five SETs and the first INFO
		t.Fatalf("total_commands_processed went from %d to %d, want +6", b, a)
	}
	for _, f := range []string{"total_connections_received", "rejected_connections"} {
		if _, ok := after[f]; !ok {
			t.Errorf("INFO stats has no %s: %v", f, after)
		}
	}
	mem := infoFields(c.Do(t, "INFO", "memory").Text())
	if n, err := strconv.ParseUint(mem["used_memory"], 10, 64); err != nil || n == 0 {
		t.Fatalf("INFO memory used_memory = %q", mem["used_memory"])
	}
}
