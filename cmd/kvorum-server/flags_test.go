package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// A bad flag or value is reported once, on stderr, with a pointer to
// --help instead of the whole usage, and exits 2.
func TestFlags_ErrorOnce(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--bogus"}, "flag provided but not defined: -bogus"},
		{nil, []string{"--max-clients", "many"}, `invalid value "many" for flag -max-clients`},
		{nil, []string{"--log-format", "xml"}, `--log-format: "xml" is neither text nor json`},
		{nil, []string{"stray"}, `unexpected argument "stray"`},
		{nil, []string{"--gossip-key", "not*base64"}, `--gossip-key: not base64`},
		{nil, []string{"--gossip-key", "c2hvcnQ="}, `gossip key of 5 bytes: it must be 16, 24 or 32`},
		{nil, []string{"--protected-mode", "maybe"}, `--protected-mode: "maybe" is neither yes nor no`},
		{nil, []string{"--users-file", "/nonexistent/users"}, `--users-file: open /nonexistent/users`},
		{[]string{"KVORUM_MAX_CLIENTS=many"}, nil, `KVORUM_MAX_CLIENTS="many"`},
	} {
		out, errOut, code := runBin(t, tc.env, serverBin, tc.args...)
		if code != 2 || out != "" || strings.Count(errOut, tc.want) != 1 ||
			strings.Contains(errOut, "Flags:") || !strings.Contains(errOut, "--help") {
			t.Errorf("%q %q: exit %d, stdout %q, stderr %q; want exit 2 and %q once, no usage",
				tc.env, tc.args, code, out, errOut, tc.want)
		}
	}
}

// --help (on stdout, exit 0) names the healthcheck subcommand, --version
// and the environment twins, and shows each default once.
func TestFlags_Help(t *testing.T) {
	out, errOut, code := runBin(t, nil, serverBin, "--help")
	if code != 0 || errOut != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"kvorum-server healthcheck [--addr host:port]", "--version", "KVORUM_<NAME>",
		"KVORUM_DATA_DIR", "-log-format", "-snapshot-interval"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Count(line, "(default") > 1 {
			t.Errorf("--help shows a default twice: %q", line)
		}
	}
}

// README's flag table lists every flag --help lists, and nothing else.
func TestFlags_READMETable(t *testing.T) {
	out, _, _ := runBin(t, nil, serverBin, "--help")
	var help []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(out, -1) {
		help = append(help, m[1])
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var table []string
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		table = append(table, m[1])
	}
	slices.Sort(help)
	slices.Sort(table)
	if len(help) < 20 || !slices.Equal(help, table) {
		t.Fatalf("README's flag table and --help differ:\n--help: %v\nREADME: %v", help, table)
	}
}

// Raft's and memberlist's lines carry their level once, with no bracketed
// "[LEVEL]" in the message, and a normal start logs no err=<nil>: here a
// node alone among its gossip seeds retries its join, as the first node of
// a cluster does while the others start.
func TestLogs_LevelOnce(t *testing.T) {
	gossip := freeGossipAddrs(t, 1)[0]
	p := launch(t, t.TempDir(), "--gossip-addr", gossip, "--join", gossip, "--log-level", "debug")
	p.waitServing()
	waitLog(t, p, "gossip join found no other member yet")
	waitLog(t, p, "component=memberlist")
	log := p.log.String()
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if strings.Count(line, "level=") != 1 || strings.Contains(line, `msg="[`) || strings.Contains(line, "<nil>") {
			t.Errorf("log line %q: want level= once, no [LEVEL] prefix, no <nil>", line)
		}
	}
	if !strings.Contains(log, "component=raft") {
		t.Errorf("no raft line in the log:\n%s", log)
	}
}

// --log-format json writes one JSON object per line, Raft's included.
func TestLogs_JSON(t *testing.T) {
	p := launch(t, t.TempDir(), "--log-format", "json")
	waitLog(t, p, `"msg":"serving"`)
	var raft int
	for _, line := range strings.Split(strings.TrimSpace(p.log.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		msg, _ := rec["msg"].(string)
		if rec["level"] == nil || msg == "" || strings.HasPrefix(msg, "[") {
			t.Errorf("log line %q: want a level and a message without [LEVEL]", line)
		}
		if rec["component"] == "raft" {
			raft++
		}
	}
	if raft == 0 {
		t.Errorf("no raft line in the JSON log:\n%s", p.log)
	}
}

// waitLog polls p's log until it contains want.
func waitLog(t *testing.T, p *proc, want string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for !strings.Contains(p.log.String(), want) {
		select {
		case <-p.exited:
			t.Fatalf("kvorum-server exited before logging %q: %v", want, p.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kvorum-server did not log %q within %v", want, startTimeout)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not a wait for state
	}
}
