package door

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// KVORUM.BACKUP and KVORUM.RESTORE (cluster/backup.go): the whole state as
// one bulk string, taken on the leader, and put back. kvorum-cli --backup
// and --restore use them. Both are the leader's alone and admin commands:
// a restore replaces every key in the cluster.
func backupCommands() []Command {
	return []Command{
		{Name: "KVORUM.BACKUP", Kind: Leader, Arity: 1, Run: cmdBackup},
		{Name: "KVORUM.RESTORE", Kind: Leader, Arity: -2, Run: cmdRestore},
	}
}

// cmdBackup answers KVORUM.BACKUP with the backup as a bulk string. The
// snapshot is taken off the connection's goroutine: it waits for a Raft
// barrier and copies the whole state.
func cmdBackup(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	return resp.Later(futureFunc(func() resp.Value {
		var b bytes.Buffer
		if err := d.store.Backup(&b); err != nil {
			return errorValue(err)
		}
		return resp.Bulk(b.Bytes())
	}))
}

// restoreOverKeys is KVORUM.RESTORE's refusal to replace n keys unasked.
func restoreOverKeys(n int) resp.Value {
	keys := "keys"
	if n == 1 {
		keys = "key"
	}
	return resp.Err(fmt.Sprintf("ERR the cluster holds %d %s and KVORUM.RESTORE replaces all of them: add FORCE to do it", n, keys))
}

// cmdRestore serves KVORUM.RESTORE backup [FORCE]: into a cluster with no
// keys, or with FORCE over whatever it holds.
func cmdRestore(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	force := false
	switch {
	case len(args) == 3 && strings.EqualFold(args[2].Text(), "FORCE"):
		force = true
	case len(args) != 2:
		return resp.Now(resp.Err("ERR syntax error: KVORUM.RESTORE backup [FORCE]"))
	}
	data := bytes.Clone(args[1].TextBytes()) // the request's buffer is the reader's
	return resp.Later(futureFunc(func() resp.Value {
		if n := d.fsm.Keys(); n > 0 && !force {
			return restoreOverKeys(n)
		}
		if err := d.store.Restore(data); err != nil {
			var re *resp.RedirectError
			if errors.As(err, &re) {
				return re.Value()
			}
			return resp.Err("ERR " + err.Error())
		}
		return resp.Simple("OK")
	}))
}

// futureFunc is a resp.Future that runs when its reply is due.
type futureFunc func() resp.Value

func (f futureFunc) Wait() resp.Value { return f() }
