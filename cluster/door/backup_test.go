package door_test

import (
	"strings"
	"testing"

	"github.com/kvorum/kvorum/internal/resptest"
)

// KVORUM.BACKUP answers the state as one bulk string; KVORUM.RESTORE puts
// it back, refusing to replace keys without FORCE.
func TestBackup_Commands(t *testing.T) {
	_, addr := startDoor(t)
	c := resptest.Dial(t, addr)
	c.Do(t, "SET", "a", "1")
	c.Do(t, "RPUSH", "l", "x", "y")
	backup := c.Do(t, "KVORUM.BACKUP")
	if backup.IsError() || !strings.HasPrefix(backup.Text(), "*") {
		t.Fatalf("KVORUM.BACKUP = %.40q", backup.Text())
	}
	c.Do(t, "SET", "a", "changed")
	if v := c.Do(t, "KVORUM.RESTORE", backup.Text()); !strings.HasPrefix(v.Text(), "ERR the cluster holds 2 keys") || !strings.Contains(v.Text(), "FORCE") {
		t.Fatalf("KVORUM.RESTORE over keys = %v", v)
	}
	if v := c.Do(t, "GET", "a"); v.Text() != "changed" {
		t.Fatalf("a refused restore changed the state: GET a = %v", v)
	}
	for _, bad := range [][]string{{"KVORUM.RESTORE", backup.Text(), "NOW"}, {"KVORUM.RESTORE", backup.Text(), "FORCE", "x"}, {"KVORUM.RESTORE"}, {"KVORUM.BACKUP", "x"}} {
		if v := c.Do(t, bad...); !v.IsError() {
			t.Fatalf("%.30q = %v, want an error", bad, v)
		}
	}
	if v := c.Do(t, "KVORUM.RESTORE", backup.Text(), "force"); v.Text() != "OK" {
		t.Fatalf("KVORUM.RESTORE ... FORCE = %v", v)
	}
	if v := c.Do(t, "GET", "a"); v.Text() != "1" {
		t.Fatalf("GET a after restore = %v, want the backup's 1", v)
	}
	if v := c.Do(t, "LRANGE", "l", "0", "-1"); v.Len() != 2 {
		t.Fatalf("LRANGE l after restore = %v", v)
	}
}
