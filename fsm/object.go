package fsm

import (
	"strings"
	"unsafe"

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
		{Name: "MEMORY", Arity: -2, Flags: Read, FirstKey: 2, LastKey: 2, Step: 1, Run: cmdMemory},
	}
}

// MEMORY USAGE estimates the bytes a key and its value take in kvorum's
// own structures: the key's map entry, the Entry, and the value's bytes
// and headers (each element's, for a container). With SAMPLES n (default
// 5, 0 for all), a container's elements are estimated from its first n,
// as Redis samples. The figures are Go's sizes on a 64-bit machine, not
// an allocator's, so they are estimates as Redis's are. MEMORY HELP is
// Redis's text; DOCTOR, STATS, MALLOC-STATS and PURGE, which report on
// Redis's allocator, are refused.
func cmdMemory(c *Ctx, args []resp.Value) resp.Value {
	switch sub := argUpper(args[1]); sub {
	case "HELP":
		if len(args) != 2 {
			return resp.Err("ERR wrong number of arguments for 'memory|help' command")
		}
		return helpReply(memoryHelp)
	case "USAGE":
		if len(args) < 3 {
			return resp.Err("ERR wrong number of arguments for 'memory|usage' command")
		}
		samples := int64(5)
		switch {
		case len(args) == 5 && argUpper(args[3]) == "SAMPLES":
			n, ok := argInt(args[4])
			if !ok {
				return errNotInt
			}
			if n < 0 {
				return errSyntax
			}
			samples = n
		case len(args) != 3:
			return errSyntax
		}
		key, ok := keyOf(args[2])
		if !ok {
			return errBadKey
		}
		e := c.State.get(key, c.Now)
		if e == nil {
			return resp.Null()
		}
		return resp.Int(e.usage(key, int(samples)))
	case "DOCTOR", "STATS", "MALLOC-STATS", "PURGE":
		return resp.Err("ERR kvorum has no MEMORY " + sub + ": it reports on Redis's allocator (see INFO memory)")
	}
	return unknownSubcommand(args[1], "MEMORY")
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

// Go's sizes of kvorum's pieces, on a 64-bit machine.
const (
	sizeMapSlot = 48                            // a Go map's share per entry: key string header, value pointer, bucket slack
	sizeEntry   = int64(unsafe.Sizeof(Entry{})) // the Entry itself
	sizeValue   = int64(unsafe.Sizeof(resp.Value{}))
)

// usage is MEMORY USAGE's estimate for key holding e, averaging a
// container's elements over its first samples (all if 0).
func (e *Entry) usage(key string, samples int) int64 {
	n := sizeMapSlot + int64(len(key)) + sizeEntry
	// each sums the sizes of up to samples of count elements and scales
	// the sum to all of them.
	each := func(count int, size func(i int) int64) int64 {
		if count == 0 {
			return 0
		}
		k := count
		if samples > 0 && samples < count {
			k = samples
		}
		var sum int64
		for i := range k {
			sum += size(i)
		}
		return sum * int64(count) / int64(k)
	}
	switch {
	case e.list != nil:
		return n + each(e.list.len(), func(i int) int64 { return valueSize(e.list.at(i)) })
	case e.hash != nil:
		var sizes []int64
		e.hash.each(func(name, val resp.Value) {
			if samples == 0 || len(sizes) < samples {
				sizes = append(sizes, sizeMapSlot+valueSize(name)+valueSize(val))
			}
		})
		return n + each(e.hash.len(), func(i int) int64 { return sizes[i] })
	case e.set != nil:
		members := e.set.sorted()
		return n + each(len(members), func(i int) int64 { return sizeMapSlot + int64(len(members[i])) })
	case e.stream != nil:
		return n + each(len(e.stream.entries), func(i int) int64 { return 16 + valueSize(resp.Array(e.stream.entries[i].fields...)) })
	case e.zset != nil:
		return n + each(len(e.zset.order), func(i int) int64 {
			// the member in the score map and in the ordered slice
			return sizeMapSlot + 2*int64(len(e.zset.order[i].member)) + 24
		})
	}
	return n + valueSize(e.Value)
}

// valueSize is a Value's header and the bytes it holds, its elements'
// included.
func valueSize(v resp.Value) int64 {
	n := sizeValue
	if v.IsScalar() {
		return n + int64(len(v.TextBytes()))
	}
	for _, el := range v.Elems() {
		n += valueSize(el)
	}
	return n
}

// unknownSubcommand is Redis's reply to a subcommand cmd does not have.
func unknownSubcommand(sub resp.Value, cmd string) resp.Value {
	return resp.Err("ERR unknown subcommand '" + string(cText(sub.TextBytes(), 128)) + "'. Try " + cmd + " HELP.")
}

// helpReply is a HELP subcommand's reply: one status line each, as Redis
// writes them.
func helpReply(lines []string) resp.Value {
	out := make([]resp.Value, len(lines))
	for i, l := range lines {
		out[i] = resp.Simple(l)
	}
	return resp.Array(out...)
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
		return unknownSubcommand(args[1], "OBJECT")
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
	case e.stream != nil:
		return "stream"
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
	return helpReply(lines)
}
