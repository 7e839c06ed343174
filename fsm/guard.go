package fsm

import (
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/kvorum/kvorum/resp"
)

// A command that panics is a bug, and in apply it would be fatal for the
// whole cluster, not for one node: every replica applies the same entry,
// so every replica would panic at it, and again after each restart, since
// the entry stays in the log. One bad request would take the cluster down
// for good. So commands run through Command.call, which answers a panic
// with an error reply instead. The panic is as deterministic as the
// command (the same entry against the same state on every replica), so the
// replicas stay identical, and the reply (which a session may keep for a
// resend) is the same on each: whatever the command changed before it
// panicked stays changed, on all of them alike. The guard logs each panic
// with its stack, and Stats counts them, so the bug gets seen and fixed.

// CommandPanicked is the message of the ERROR line a recovered panic logs;
// tests look for it, since the reply alone does not fail them.
const CommandPanicked = "command panicked; answered with an error"

// counts are an FSM's counters that its commands add to (Stats), and the
// log a recovered panic goes to. One pointer in Ctx reaches them all.
type counts struct {
	expired atomic.Uint64 // keys the expiry sweep removed (KVORUM.REAP)
	panics  atomic.Uint64 // commands that panicked (Command.call)
	log     *slog.Logger
}

// call runs cmd, turning a panic into an error reply, logged and counted
// in c.counts.
func (cmd *Command) call(c *Ctx, args []resp.Value) (v resp.Value) {
	defer func() {
		if p := recover(); p != nil {
			if g := c.counts; g != nil {
				g.panics.Add(1)
				g.log.Error(CommandPanicked, "cmd", cmd.Name, "index", c.Index,
					"item", c.Item, "panic", p, "stack", string(debug.Stack()))
			}
			v = resp.Err("ERR internal error in '" + strings.ToLower(cmd.Name) + "' (a server bug; the server logged it)")
		}
	}()
	return cmd.Run(c, args)
}
