package fsm

import "github.com/kvorum/kvorum/resp"

// Transactions. The front door (cluster/door/tx.go) queues MULTI's commands on
// the connection and sends them at EXEC as one KVORUM.EXEC write; WATCH
// reads KVORUM.MODS. Both are ordinary commands here so that the log,
// snapshots and replicas need nothing special.
const (
	// ExecCommand is KVORUM.EXEC [key mod ...] [[cmd args...] ...]: if every
	// watched key still has the modification index it had when watched, it
	// runs the commands in order, with nothing in between, and answers
	// their replies as an array; otherwise it runs nothing and answers a
	// null array (EXEC's reply when a WATCHed key changed).
	ExecCommand = "KVORUM.EXEC"
	// ModsCommand is KVORUM.MODS key...: each key's last-modified log index
	// (0 if it does not exist), what WATCH records.
	ModsCommand = "KVORUM.MODS"
)

func txCommands(t *Table) []Command {
	return []Command{
		{Name: ExecCommand, Arity: 3, Flags: Write | Internal, Run: func(c *Ctx, args []resp.Value) resp.Value { return t.exec(c, args) }},
		{Name: ModsCommand, Arity: -2, Flags: Read | Internal, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdMods},
	}
}

func cmdMods(c *Ctx, args []resp.Value) resp.Value {
	out := make([]resp.Value, len(args)-1)
	for i, a := range args[1:] {
		out[i] = resp.Int(0)
		if key, ok := keyOf(a); ok {
			if e := c.State.get(key, c.Now); e != nil {
				out[i] = resp.Int(int64(e.Mod))
			}
		}
	}
	return resp.Array(out...)
}

var errBadExec = resp.Err("ERR malformed KVORUM.EXEC")

func (t *Table) exec(c *Ctx, args []resp.Value) resp.Value {
	watches, cmds := args[1], args[2]
	if watches.Kind() != resp.KindArray || cmds.Kind() != resp.KindArray || watches.Len()%2 != 0 {
		return errBadExec
	}
	w := watches.Elems()
	for i := 0; i < len(w); i += 2 {
		key, ok := keyOf(w[i])
		if !ok {
			return errBadExec
		}
		var mod int64
		if e := c.State.get(key, c.Now); e != nil {
			mod = int64(e.Mod)
		}
		if mod != w[i+1].Int() {
			return resp.NullArray() // a watched key changed: run nothing
		}
	}
	// Check every command before running any, so a transaction is all or
	// nothing as far as the table can tell.
	list := cmds.Elems()
	rows := make([]*Command, len(list))
	for i, q := range list {
		if q.Kind() != resp.KindArray || q.Len() == 0 {
			return errBadExec
		}
		cmd := t.Lookup([]byte(q.Elems()[0].Text()))
		if cmd == nil || cmd.Name == ExecCommand {
			return errBadExec
		}
		rows[i] = cmd
	}
	replies := make([]resp.Value, len(list))
	for i, q := range list {
		a := q.Elems()
		if v, ok := rows[i].CheckArity(a); !ok {
			replies[i] = v
			continue
		}
		replies[i] = rows[i].call(c, a)
	}
	return resp.Array(replies...)
}
