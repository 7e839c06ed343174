package fsm

import (
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// OBJECT reports on a key's value as Redis 7.0 does. kvorum keeps one
// representation per type, so OBJECT ENCODING answers the encoding Redis
// would give the value as it is now under this node's thresholds
// (EncodingLimits, which CONFIG SET changes): a string is "int", "embstr"
// or "raw"; a list "quicklist"; a hash "listpack" or "hashtable"; a set
// "intset" or "hashtable"; a sorted set "listpack" or "skiplist". Redis
// keeps a value in its larger encoding once promoted, until it is reloaded;
// kvorum answers for the value as it stands, as Redis does after a reload.
//
// REFCOUNT is 1: every value belongs to exactly one key (Redis answers
// 2147483647 for the small integers it shares). FREQ answers Redis's
// error for a server without an LFU policy, which is the truth:
// maxmemory-policy is noeviction. IDLETIME is refused: kvorum does not
// record when a key was last read (reads take no write lock).

func objectCommands() []Command {
	return []Command{
		{Name: "OBJECT", Arity: -2, Flags: Read, FirstKey: 2, LastKey: 2, Step: 1, Run: cmdObject},
	}
}

// EncodingLimits are the thresholds under which Redis 7.0 keeps a value in
// its compact encoding: CONFIG's hash-max-listpack-entries and -value,
// set-max-intset-entries, zset-max-listpack-entries and -value.
type EncodingLimits struct {
	HashEntries, HashValue int64
	IntsetEntries          int64
	ZsetEntries, ZsetValue int64
}

// DefaultEncodingLimits are Redis 7.0's defaults.
func DefaultEncodingLimits() EncodingLimits {
	return EncodingLimits{HashEntries: 512, HashValue: 64, IntsetEntries: 512, ZsetEntries: 128, ZsetValue: 64}
}

// embstrLimit is Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT: a string up to
// this long is allocated with its object header.
const embstrLimit = 44

func cmdObject(c *Ctx, args []resp.Value) resp.Value {
	sub := argUpper(args[1])
	arity := 3
	if sub == "HELP" {
		arity = 2
	}
	switch sub {
	case "HELP", "ENCODING", "FREQ", "IDLETIME", "REFCOUNT":
		if len(args) != arity {
			return resp.Err("ERR wrong number of arguments for 'object|" + strings.ToLower(sub) + "' command")
		}
	default:
		return resp.Err("ERR unknown subcommand '" + string(cText(args[1].TextBytes(), 128)) + "'. Try OBJECT HELP.")
	}
	if sub == "HELP" {
		return objectHelp()
	}
	key, ok := keyOf(args[2])
	if !ok {
		return errBadKey
	}
	e := c.State.get(key, c.Now)
	if e == nil {
		return resp.Null()
	}
	switch sub {
	case "ENCODING":
		limits := DefaultEncodingLimits()
		if c.Limits != nil {
			limits = *c.Limits
		}
		return resp.Bulk([]byte(e.encoding(limits)))
	case "FREQ":
		return resp.Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
			"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	case "IDLETIME":
		return resp.Err("ERR kvorum does not track when a key was last accessed")
	}
	return resp.Int(1) // REFCOUNT
}

// encoding is the encoding Redis 7.0 would give e's value under limits.
func (e *Entry) encoding(l EncodingLimits) string {
	switch {
	case e.list != nil:
		return "quicklist" // Redis 7.0 keeps every list in a quicklist
	case e.hash != nil:
		return hashEncoding(e.hash.len(), l, e.hash.each)
	case e.set != nil:
		if int64(len(e.set)) > l.IntsetEntries {
			return "hashtable"
		}
		for m := range e.set {
			if _, ok := resp.ParseInt([]byte(m)); !ok {
				return "hashtable"
			}
		}
		return "intset"
	case e.zset != nil:
		if int64(e.zset.len()) > l.ZsetEntries {
			return "skiplist"
		}
		for _, m := range e.zset.order {
			if int64(len(m.member)) > l.ZsetValue {
				return "skiplist"
			}
		}
		return "listpack"
	}
	v := e.Value
	switch v.Kind() {
	case resp.KindArray:
		return "quicklist"
	case resp.KindDict:
		pairs := v.Elems()
		return hashEncoding(len(pairs)/2, l, func(fn func(name, val resp.Value)) {
			for i := 0; i+1 < len(pairs); i += 2 {
				fn(pairs[i], pairs[i+1])
			}
		})
	case resp.KindInt:
		return "int"
	}
	b := v.TextBytes()
	if _, ok := resp.ParseInt(b); ok && len(b) <= 20 {
		return "int"
	}
	if len(b) <= embstrLimit {
		return "embstr"
	}
	return "raw"
}

// hashEncoding is "listpack" for a hash of n fields, walked by each, whose
// count and every field name and value fit l, else "hashtable". A nested
// value (kvorum's native dicts may hold arrays) never fits a listpack.
func hashEncoding(n int, l EncodingLimits, each func(func(name, val resp.Value))) string {
	if int64(n) > l.HashEntries {
		return "hashtable"
	}
	fits := true
	each(func(name, val resp.Value) {
		for _, x := range []resp.Value{name, val} {
			if !x.IsScalar() || int64(len(x.TextBytes())) > l.HashValue {
				fits = false
			}
		}
	})
	if fits {
		return "listpack"
	}
	return "hashtable"
}

// objectHelp is OBJECT HELP, Redis 7.0's text.
func objectHelp() resp.Value {
	lines := []string{
		"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
		"HELP",
		"    Prints this help.",
	}
	out := make([]resp.Value, len(lines))
	for i, l := range lines {
		out[i] = resp.Simple(l)
	}
	return resp.Array(out...)
}
