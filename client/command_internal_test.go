package client

import (
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/internal/testcluster"
)

// The client's tables are checked against the server's own: every command
// COMMAND calls a write is one a session wraps (so a resend after a
// cut-off reply applies it once), with its blocking timeout found where
// the server reads it, and every read is safe to resend. A command added
// to the server and not here fails this test.
func TestCommandTables_MatchTheServer(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1, Configure: func(i int, cfg *cluster.Config) { cfg.BootstrapExpect = 1 }})
	n := c.Leader(10 * time.Second)
	rows := resptest.Do(t, n.ClientAddr(), "COMMAND").Elems()
	if len(rows) < 50 {
		t.Fatalf("COMMAND answered %d rows", len(rows))
	}
	for _, row := range rows {
		f := row.Elems()
		name := strings.ToUpper(f[0].Text())
		var flags []string
		for _, fl := range f[2].Elems() {
			flags = append(flags, fl.Text())
		}
		has := func(s string) bool {
			for _, x := range flags {
				if x == s {
					return true
				}
			}
			return false
		}
		switch {
		case strings.HasPrefix(name, "KVORUM."): // kvorum's own: sessions and backups go plain
		case has("write") && !sessionWrite(name):
			t.Errorf("%s is a write (%v) that the client's session does not wrap (sessionWrite)", name, flags)
		case has("readonly") && !retrySafe(name, nil):
			t.Errorf("%s is a read (%v) that the client does not resend (retrySafe)", name, flags)
		case has("blocking") && timeoutArg(name, 5) == 0:
			t.Errorf("%s blocks (%v) but the client does not know where its timeout is (blockTimeout)", name, flags)
		}
	}
}
