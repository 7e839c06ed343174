package cluster

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// Below its minimum the guard refuses writes with MISCONF, and lets them
// through again once there is space; each change is logged once.
func TestDiskGuard_RefusesWhileLow(t *testing.T) {
	var logs bytes.Buffer
	g := &diskGuard{dir: t.TempDir(), min: 1 << 62, log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := g.refusal(); err != nil {
		t.Fatalf("refusal before any check = %v", err)
	}
	g.check()
	g.check()
	err := g.refusal()
	var named *resp.Error
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF ") || !strings.Contains(err.Error(), "reads are served") {
		t.Fatalf("refusal with less free than %d = %v", g.min, err)
	}
	if n := (&Node{}).writeError(err); n != err || !errors.As(n, &named) {
		t.Fatalf("writeError(%v) = %v: the refusal must reach the client as it is", err, n)
	}
	g.min = 1
	g.check()
	if err := g.refusal(); err != nil {
		t.Fatalf("refusal with space again = %v", err)
	}
	if got := strings.Count(logs.String(), "data disk low"); got != 1 {
		t.Fatalf("%d 'data disk low' lines for one change, want 1:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "has space again") {
		t.Fatalf("no line for the way back:\n%s", logs.String())
	}
	var none *diskGuard // no Config.MinFreeDisk
	if err := none.refusal(); err != nil {
		t.Fatalf("a node without a guard refuses: %v", err)
	}
}
