package fsm

import (
	"bytes"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// Flags describe how the front door must route a command.
type Flags uint8

const (
	// Write commands change state: they are proposed to the Raft log and
	// applied on every replica.
	Write Flags = 1 << iota
	// Read commands only look: the leader serves them after confirming its
	// leadership; a follower in READONLY mode serves them from its own state.
	Read
	// Blocking commands (BLPOP, ...) are writes that may find nothing to
	// do: the front door retries them when a push touches one of their
	// keys, until their timeout (the last argument).
	Blocking
	// Internal commands are written to the log by kvorum itself (EXEC's
	// entry, WATCH's index read, the expiry sweep, a blocking pop's undo):
	// the front door does not offer them to clients.
	Internal
	// Dangerous commands act on the whole keyspace (FLUSHALL, KEYS): ACL
	// users are kept from them with -@dangerous, as in Redis.
	Dangerous
)

// Ctx is what a command runs with.
type Ctx struct {
	State *State
	// Now is the time in Unix milliseconds: for a write, the leader's clock
	// when it proposed the entry; for a read, the serving node's clock.
	Now int64
	// Mode is the requesting connection's reply mode: native replies follow
	// the tutorial (SET -> :1), resp2/resp3 follow Redis (SET -> +OK).
	Mode resp.Mode
	// Index is the log index of the entry being applied (0 for reads).
	Index uint64
	// Item is the command's place in its entry (a batch holds many), so
	// that Index and Item together name one command on every replica.
	Item int
	// Pushed collects the keys that commands pushed to, so the FSM can wake
	// blocked pops (Config.OnPush) once the batch is applied.
	Pushed []string
	// Limits are the serving node's encoding thresholds, for OBJECT
	// ENCODING (FSM.SetEncodingLimits); nil in apply, where Redis 7.0's
	// defaults stand in, since a reply there must not depend on one node's
	// CONFIG.
	Limits *EncodingLimits
	// counts are the FSM's counters (the keys the expiry sweep removes, the
	// commands that panicked: FSM.Stats) and the log for a panic (guard.go).
	counts *counts
}

// OK is the reply of a command whose Redis reply is +OK: in native mode the
// tutorial's :1.
func (c *Ctx) OK() resp.Value {
	if c.Mode == resp.Native {
		return resp.Int(1)
	}
	return resp.OK()
}

// Command is one row of the command table.
type Command struct {
	Name  string // upper case
	Arity int    // Redis convention: >0 exact argument count including the name, <0 at least -Arity
	Flags Flags
	// Keys: positions of the first and last key argument and the step
	// between keys (LastKey -1 means the last argument). 0 means no keys.
	FirstKey, LastKey, Step int
	Run                     func(c *Ctx, args []resp.Value) resp.Value
	// Undo, for a blocking command, returns the write that gives back what
	// an attempt took (reply is that attempt's non-null reply): the front
	// door proposes it when the client left before its reply could reach
	// it, so that the item is not lost.
	Undo func(args []resp.Value, reply resp.Value) []resp.Value
	// Pops, for a blocking command, reports whether an entry is of the kind
	// the command takes from (a list, a sorted set).
	Pops func(e *Entry) bool
	// Sources, for a blocking command, is how many of its keys it takes
	// from, the rest being destinations (BLMOVE: 1); 0 means all of them.
	Sources int
	// Check, if set, refuses a request's arguments before it runs: what a
	// blocking command must refuse before it blocks, as Redis does.
	Check func(args []resp.Value) (resp.Value, bool)
	// TimeoutReply is a blocking command's reply when its timeout passes:
	// a null array (Redis 7.0 answers a timed-out BLMOVE with one too).
	TimeoutReply resp.Value
	// TimeoutAt, for a blocking command, is the position of its timeout
	// argument; 0 means the last argument (BLPOP k1 k2 5), BLMPOP and
	// BZMPOP put it first (BLMPOP 5 2 k1 k2 LEFT).
	TimeoutAt int
	// KeysOf, if set, finds the keys of a command whose key count is an
	// argument (ZUNIONSTORE dst 2 k1 k2, LMPOP 2 k1 k2 LEFT); FirstKey,
	// LastKey and Step then only describe the first key, for COMMAND's
	// legacy fields, as Redis's own table does.
	KeysOf func(args []resp.Value) []resp.Value
	// HiddenKeys, if set, returns the refusal of a request that reads keys
	// it does not declare (SORT's BY and GET patterns), or "": an ACL user
	// without access to every key may not send such a request, as in
	// Redis.
	HiddenKeys func(args []resp.Value) string
}

// BlockArgs returns a blocking request's timeout in milliseconds (0:
// forever), or the error Redis answers before it would block.
func (cmd *Command) BlockArgs(args []resp.Value) (int64, resp.Value, bool) {
	if cmd.Check != nil {
		if errv, ok := cmd.Check(args); !ok {
			return 0, errv, false
		}
	}
	if cmd.TimeoutAt > 0 && cmd.TimeoutAt < len(args) {
		return BlockTimeout(args[:cmd.TimeoutAt+1])
	}
	return BlockTimeout(args)
}

// SourceKeys returns the keys a blocking command waits on and takes from.
func (cmd *Command) SourceKeys(args []resp.Value) []resp.Value {
	keys := cmd.Keys(args)
	if cmd.Sources > 0 && len(keys) > cmd.Sources {
		keys = keys[:cmd.Sources]
	}
	return keys
}

// IsWrite reports whether the command changes state.
func (cmd *Command) IsWrite() bool { return cmd.Flags&Write != 0 }

// IsInternal reports whether only kvorum itself logs the command.
func (cmd *Command) IsInternal() bool { return cmd.Flags&Internal != 0 }

// IsBlocking reports whether the command waits for a push (BLPOP, ...).
func (cmd *Command) IsBlocking() bool { return cmd.Flags&Blocking != 0 }

// IsDangerous reports whether the command acts on the whole keyspace.
func (cmd *Command) IsDangerous() bool { return cmd.Flags&Dangerous != 0 }

// CheckArity returns the wrong-number-of-arguments error for args, or false.
func (cmd *Command) CheckArity(args []resp.Value) (resp.Value, bool) {
	n := len(args)
	if (cmd.Arity > 0 && n != cmd.Arity) || (cmd.Arity < 0 && n < -cmd.Arity) {
		return WrongArity(cmd.Name), false
	}
	return resp.Value{}, true
}

// Keys returns the key arguments of a request, by the table row's positions.
func (cmd *Command) Keys(args []resp.Value) []resp.Value {
	if cmd.KeysOf != nil {
		return cmd.KeysOf(args)
	}
	if cmd.FirstKey == 0 || cmd.FirstKey >= len(args) {
		return nil
	}
	last := cmd.LastKey
	if last < 0 {
		last = len(args) + last
	}
	var keys []resp.Value
	for i := cmd.FirstKey; i <= last && i < len(args); i += max(cmd.Step, 1) {
		keys = append(keys, args[i])
	}
	return keys
}

// Table maps command names to rows. It is built once per FSM and read-only
// afterwards, so it is safe for concurrent lookups.
type Table struct {
	byName map[string]*Command
}

// NewTable returns the table of every data command.
func NewTable() *Table {
	t := &Table{byName: make(map[string]*Command)}
	t.add(stringCommands(), keyCommands(), listCommands(), hashCommands(), setCommands(), zsetCommands(), mpopCommands(), objectCommands(), sortCommands(), dumpCommands(), streamCommands(), txCommands(t), sessionCommands(t))
	return t
}

// add registers the rows of each family. A name registered twice is a
// programming error, caught when the table is built: it panics.
func (t *Table) add(families ...[]Command) {
	for _, family := range families {
		for i := range family {
			cmd := family[i]
			if _, dup := t.byName[cmd.Name]; dup {
				panic("fsm: command " + cmd.Name + " registered twice")
			}
			t.byName[cmd.Name] = &cmd
		}
	}
}

// Lookup finds a command by name, case-insensitively, without allocating.
func (t *Table) Lookup(name []byte) *Command {
	var buf [24]byte
	if len(name) > len(buf) {
		return t.byName[strings.ToUpper(string(name))]
	}
	up := buf[:len(name)]
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	return t.byName[string(up)]
}

// All returns every command row, for COMMAND.
func (t *Table) All() []*Command {
	out := make([]*Command, 0, len(t.byName))
	for _, c := range t.byName {
		out = append(out, c)
	}
	return out
}

// Errors shared by the command families.
var (
	errWrongType = resp.ErrWrongType.Value()
	errSyntax    = resp.Err("ERR syntax error")
	errNotInt    = resp.Err("ERR value is not an integer or out of range")
	errBadKey    = resp.Err("ERR invalid key: a key must be a string or an integer")
)

// WrongArity is SPEC §4's wrong-argument-count error.
func WrongArity(name string) resp.Value {
	return resp.Err("ERR wrong number of arguments for '" + strings.ToLower(name) + "' command")
}

// UnknownCommand is the reply to a command no row serves, in Redis 7's
// words (SPEC §4 asks only for the "ERR unknown command 'X'" start):
//
//	ERR unknown command 'foo', with args beginning with: 'a' 'b' (and a space)
//
// It is built as Redis builds it: the name cut to 128 bytes; each argument
// quoted and followed by a space while the list is under 128 bytes, the
// last one cut to fit; each text ending at a NUL byte, as C's %s does; CR
// and LF turned into spaces. args are the arguments after the name, only
// read. Callers that omit them get the text for a command without any.
func UnknownCommand(name []byte, args ...resp.Value) resp.Value {
	b := make([]byte, 0, 64)
	b = append(b, "ERR unknown command '"...)
	b = append(b, cText(name, 128)...)
	b = append(b, "', with args beginning with: "...)
	n := 0 // the argument list's length so far
	for _, a := range args {
		if n >= 128 {
			break
		}
		t := cText(a.TextBytes(), 128-n)
		b = append(append(append(b, '\''), t...), "' "...)
		n += len(t) + 3
	}
	return resp.Err(string(b)) // which turns CR and LF into spaces, as Redis does
}

// cText is what C's "%.*s" prints of b with precision limit: b up to its
// first NUL byte, at most limit bytes.
func cText(b []byte, limit int) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > limit {
		b = b[:limit]
	}
	return b
}

// argInt parses an integer argument (a ':' integer or its decimal text).
func argInt(v resp.Value) (int64, bool) {
	if v.Kind() == resp.KindInt {
		return v.Int(), true
	}
	if !v.IsScalar() {
		return 0, false
	}
	return resp.ParseInt(v.TextBytes()) // no copy: the hot path of every count and seq
}

// NumKeys returns the keys of a command whose argument at position at
// counts the keys that follow it (ZUNION 2 k1 k2 ..., LMPOP 2 k1 k2 LEFT),
// preceded by the arguments at positions lead (ZUNIONSTORE's destination).
// A count that is not a positive integer or runs past the arguments gives
// only the lead keys: the command itself refuses such a request.
func NumKeys(at int, lead ...int) func(args []resp.Value) []resp.Value {
	return func(args []resp.Value) []resp.Value {
		var keys []resp.Value
		for _, i := range lead {
			if i < len(args) {
				keys = append(keys, args[i])
			}
		}
		if at >= len(args) {
			return keys
		}
		n, ok := argInt(args[at])
		if !ok || n <= 0 || n > int64(len(args)-at-1) {
			return keys
		}
		return append(keys, args[at+1:at+1+int(n)]...)
	}
}

// argUpper returns a scalar argument's text in upper case, for option names.
func argUpper(v resp.Value) string { return strings.ToUpper(v.Text()) }
