package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// record is one JSON log line as slog's JSON handler writes it.
type record map[string]any

// jsonLogger returns a logger writing JSON lines at level to the returned
// buffer, and a function that decodes them.
func jsonLogger(t *testing.T, level slog.Level) (*slog.Logger, func() []record) {
	t.Helper()
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))
	return l, func() []record {
		t.Helper()
		var out []record
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			var r record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("log line %q is not JSON: %v", line, err)
			}
			out = append(out, r)
		}
		buf.Reset()
		return out
	}
}

// Raft's hclog calls become slog records with the level mapped once, the
// message as given and hclog's pairs as attributes.
func TestHclogAdapter_Levels(t *testing.T) {
	l, lines := jsonLogger(t, slog.LevelDebug)
	h := hclogFor(l, "raft")
	h.Trace("too fine")
	h.Debug("debug line", "term", 3)
	h.Info("entering follower state", "follower", "node-1")
	h.Warn("heartbeat timeout reached")
	h.Error("failed to contact", "server-id", "n2", "error", errors.New("dial tcp: refused"))
	h.Log(hclog.NoLevel, "no level", "servers", hclog.Fmt("%+v", []string{"a", "b"}), "mask", hclog.Hex(255))
	got := lines()
	want := []struct{ level, msg string }{
		{"DEBUG", "debug line"},
		{"INFO", "entering follower state"},
		{"WARN", "heartbeat timeout reached"},
		{"ERROR", "failed to contact"},
		{"INFO", "no level"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d (Trace is below Debug): %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i]["level"] != w.level || got[i]["msg"] != w.msg || got[i]["component"] != "raft" {
			t.Errorf("line %d = %v, want level=%s msg=%q component=raft", i, got[i], w.level, w.msg)
		}
	}
	if got[1]["follower"] != "node-1" || got[3]["server-id"] != "n2" || got[3]["error"] != "dial tcp: refused" ||
		got[4]["servers"] != "[a b]" || got[4]["mask"] != "0xff" {
		t.Errorf("hclog's pairs are not attributes: %v", got)
	}
}

// What the slog handler disables, the adapter reports disabled, so raft
// skips building those lines.
func TestHclogAdapter_Enabled(t *testing.T) {
	l, lines := jsonLogger(t, slog.LevelWarn)
	h := hclogFor(l, "raft")
	if h.IsDebug() || h.IsInfo() || !h.IsWarn() || !h.IsError() || h.GetLevel() != hclog.Warn {
		t.Errorf("at slog WARN: IsDebug %v IsInfo %v IsWarn %v IsError %v GetLevel %v",
			h.IsDebug(), h.IsInfo(), h.IsWarn(), h.IsError(), h.GetLevel())
	}
	h.Info("dropped")
	if got := lines(); len(got) != 0 {
		t.Errorf("Info at WARN logged %v", got)
	}
}

// With, Named and StandardLogger keep the component and the implied args.
func TestHclogAdapter_WithNamed(t *testing.T) {
	l, lines := jsonLogger(t, slog.LevelInfo)
	h := hclogFor(l, "raft").With("node", "n1").Named("net")
	if h.Name() != "raft.net" || len(h.ImpliedArgs()) != 2 {
		t.Errorf("Name %q ImpliedArgs %v", h.Name(), h.ImpliedArgs())
	}
	h.Info("accepted")
	h.StandardLogger(nil).Print("[WARN] raft.net: slow peer")
	got := lines()
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	for _, r := range got {
		if r["component"] != "raft.net" || r["node"] != "n1" {
			t.Errorf("line %v lacks component=raft.net node=n1", r)
		}
	}
	if got[1]["level"] != "WARN" || got[1]["msg"] != "raft.net: slow peer" {
		t.Errorf("standard logger line = %v, want level WARN without the bracket", got[1])
	}
}

// memberlist's lines ("[WARN] memberlist: ...") carry their level once:
// as the record's level, cut from the message with the name prefix.
func TestStdlog_Memberlist(t *testing.T) {
	l, lines := jsonLogger(t, slog.LevelDebug)
	ml := stdlogFor(l, "memberlist")
	ml.Print("[DEBUG] memberlist: Initiating push/pull sync with: n2 127.0.0.1:31429")
	ml.Print("[INFO] memberlist: Suspect n3 has failed, no acks received")
	ml.Print("[WARN] memberlist: Was able to connect to n2 over TCP but UDP probes failed")
	ml.Print("[ERR] memberlist: Failed to send ping: write: broken pipe")
	ml.Print("no level at all")
	ml.Print("[BOGUS] kept as is")
	want := []struct{ level, msg string }{
		{"DEBUG", "Initiating push/pull sync with: n2 127.0.0.1:31429"},
		{"INFO", "Suspect n3 has failed, no acks received"},
		{"WARN", "Was able to connect to n2 over TCP but UDP probes failed"},
		{"ERROR", "Failed to send ping: write: broken pipe"},
		{"INFO", "no level at all"},
		{"INFO", "[BOGUS] kept as is"},
	}
	got := lines()
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i]["level"] != w.level || got[i]["msg"] != w.msg || got[i]["component"] != "memberlist" {
			t.Errorf("line %d = %v, want level=%s msg=%q component=memberlist", i, got[i], w.level, w.msg)
		}
	}
}

// In the text format too, the level appears once per line.
func TestStdlog_TextLevelOnce(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	stdlogFor(l, "memberlist").Print("[ERR] memberlist: Failed to send ping")
	hclogFor(l, "raft").Error("failed to contact", "server-id", "n2")
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Count(line, "ERR") != 1 || strings.Contains(line, "[") {
			t.Errorf("line %q: want the level once and no bracketed prefix", line)
		}
	}
}
