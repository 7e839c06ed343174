package door

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Kind is how the front door routes a command. It is fixed when the
// command is registered, never guessed from its name at routing time.
type Kind uint8

const (
	// Write commands are proposed to the Raft log on the leader.
	Write Kind = iota + 1
	// Read commands run on the leader after a linearizable read barrier;
	// a follower in READONLY mode runs them on its own state.
	Read
	// Blocking commands are writes that may find nothing to do: the leader
	// retries them when a push touches their keys, until their timeout.
	Blocking
	// Local commands are answered by the node that receives them, leader
	// or follower, without the log (PING, INFO, CLUSTER, ...).
	Local
	// Leader commands are answered by the leader alone, without the log
	// (pub/sub, whose messages are not replicated).
	Leader
)

var kindNames = [...]string{Write: "write", Read: "readonly", Blocking: "blocking", Local: "fast", Leader: "pubsub"}

// Flag is a routing rule of a command beyond its kind.
type Flag uint8

const (
	// Subscribed commands are allowed on a RESP2 connection in subscribe
	// mode; every other command is refused there, as Redis does.
	Subscribed Flag = 1 << iota
	// Queued Local commands are queued inside MULTI and answered in their
	// place in EXEC's reply (data commands always are).
	Queued
	// InMulti commands run even inside MULTI instead of being queued
	// (MULTI, EXEC, DISCARD, WATCH, UNWATCH, QUIT).
	InMulti
	// Aware commands are sent only by clients that follow redirects
	// (READONLY, READWRITE, CLUSTER, KVORUM.SEQ): their connection is not
	// plain (tenure.go).
	Aware
	// Upstream Local commands hand a plain connection on a follower in
	// proxy mode over to the leader, as the leader's commands do (MULTI,
	// WATCH, SUBSCRIBE, PSUBSCRIBE; proxy.go).
	Upstream
	// NoAuth commands run before authentication and for every user
	// (AUTH, HELLO, QUIT; auth.go).
	NoAuth
)

// Command is one row of the registry: a command's name, how it is routed,
// its arity (Redis's convention: >0 exact, <0 at least) and key positions,
// and what runs it.
type Command struct {
	Name                    string // upper case
	Kind                    Kind
	Flags                   Flag
	Cats                    Category // ACL categories (acl.go)
	Arity                   int
	FirstKey, LastKey, Step int
	// Data is the fsm row of a Write, Read or Blocking command.
	Data *fsm.Command
	// Answer runs a Local command that answers at once; Run any other
	// Local or Leader command.
	Answer func(d *Door, c *resp.Conn, args []resp.Value) resp.Value
	Run    func(d *Door, c *resp.Conn, args []resp.Value) resp.Reply
	// stats are the command's INFO commandstats counters, one set per
	// registry (so per door), made by the registry.
	stats *cmdStats
}

func (cmd *Command) has(f Flag) bool { return cmd.Flags&f != 0 }

// keys returns a request's key arguments: the data row's own finder for a
// data command (which knows ZUNIONSTORE's numkeys), else the positions.
func (cmd *Command) keys(args []resp.Value) []resp.Value {
	if cmd.Data != nil {
		return cmd.Data.Keys(args)
	}
	return (&fsm.Command{FirstKey: cmd.FirstKey, LastKey: cmd.LastKey, Step: cmd.Step}).Keys(args)
}

// arityOK reports whether n arguments (the name included) fit the arity.
func (cmd *Command) arityOK(n int) bool {
	return (cmd.Arity > 0 && n == cmd.Arity) || (cmd.Arity < 0 && n >= -cmd.Arity)
}

// Registry holds every command a client may send: fsm's data commands and
// the door's own. It is built once and read-only afterwards, so lookups
// are safe from any goroutine. Routing, COMMAND and later ACL categories
// all read it.
type Registry struct {
	byName map[string]*Command
	rows   []*Command // sorted by name
}

// NewRegistry registers the data commands of table (but not its internal
// ones, which only kvorum logs) and then each of own. A name registered
// twice is an error: a second row must never silently replace the first.
func NewRegistry(table *fsm.Table, own ...[]Command) (*Registry, error) {
	r := &Registry{byName: make(map[string]*Command)}
	for _, dc := range table.All() {
		if dc.IsInternal() {
			continue
		}
		kind := Read
		switch {
		case dc.IsBlocking():
			kind = Blocking
		case dc.IsWrite():
			kind = Write
		}
		row := Command{Name: dc.Name, Kind: kind, Cats: dataCategories(dc), Arity: dc.Arity, FirstKey: dc.FirstKey, LastKey: dc.LastKey,
			Step: dc.Step, Data: dc}
		if err := r.add(row); err != nil {
			return nil, err
		}
	}
	for _, family := range own {
		for _, row := range family {
			if err := r.add(row); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(r.rows, func(i, j int) bool { return r.rows[i].Name < r.rows[j].Name })
	return r, nil
}

func (r *Registry) add(row Command) error {
	if _, dup := r.byName[row.Name]; dup {
		return fmt.Errorf("door: command %s registered twice", row.Name)
	}
	if (row.Kind == Local || row.Kind == Leader) == (row.Data != nil) || (row.Data == nil && (row.Answer == nil) == (row.Run == nil)) {
		return fmt.Errorf("door: command %s: a data command needs Data, any other exactly one of Answer and Run", row.Name)
	}
	row.stats = new(cmdStats)
	r.byName[row.Name] = &row
	r.rows = append(r.rows, &row)
	return nil
}

// Lookup finds a command by name, case-insensitively, without allocating
// for names of up to 32 bytes.
func (r *Registry) Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return r.byName[strings.ToUpper(string(name))]
	}
	up := buf[:len(name)]
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	return r.byName[string(up)]
}

// All returns every row, sorted by name. The caller must not change it.
func (r *Registry) All() []*Command { return r.rows }

// Len returns the number of commands (COMMAND COUNT).
func (r *Registry) Len() int { return len(r.rows) }

// info is the command's COMMAND INFO row: name, arity, flags, first key,
// last key, step.
func (cmd *Command) info() resp.Value {
	flags := []resp.Value{resp.Simple(kindNames[cmd.Kind])}
	if cmd.Kind == Blocking {
		flags = append([]resp.Value{resp.Simple("write")}, flags...)
	}
	if cmd.has(Subscribed) && cmd.Kind != Leader {
		flags = append(flags, resp.Simple("pubsub"))
	}
	return resp.Array(resp.BulkString(strings.ToLower(cmd.Name)), resp.Int(int64(cmd.Arity)), resp.Array(flags...),
		resp.Int(int64(cmd.FirstKey)), resp.Int(int64(cmd.LastKey)), resp.Int(int64(cmd.Step)))
}

var kindSummaries = [...]string{
	Write:    "a write: proposed to the Raft log on the leader",
	Read:     "a read: served by the leader after a linearizable read barrier",
	Blocking: "a blocking write: retried on the leader as pushes arrive, until its timeout",
	Local:    "answered by the node that receives it",
	Leader:   "answered by the leader alone, not logged",
}

// docs is the command's COMMAND DOCS entry: how kvorum serves it.
func (cmd *Command) docs() resp.Value {
	return resp.Dict(resp.BulkString("summary"), resp.BulkString(kindSummaries[cmd.Kind]),
		resp.BulkString("group"), resp.BulkString(kindNames[cmd.Kind]))
}
