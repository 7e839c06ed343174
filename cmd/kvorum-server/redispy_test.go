package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// redis-py, the client RQ and Huey use, works unchanged against a server
// started with --protocol resp2: strings, counters, expiry, the queue
// commands with blocking pops, pipelines and INFO.
func TestRedisPy_DropIn(t *testing.T) {
	python := "/usr/bin/python3" // Debian's, which python3-redis installs into
	if err := exec.Command(python, "-c", "import redis").Run(); err != nil {
		t.Skip("python3-redis not installed (apt-get install python3-redis)")
	}
	p := start(t, t.TempDir(), "--protocol", "resp2")
	host, port, _ := strings.Cut(p.addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "testdata/redispy_dropin.py", host, port).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("redis-py drop-in script: %v\n%s", err, out)
	}
}
