package fsm

import (
	"math"

	"github.com/kvorum/kvorum/resp"
)

// Set algebra: SINTER, SUNION and SDIFF, their STORE forms, and
// SINTERCARD. A missing key is an empty set; any input of another kind is
// WRONGTYPE, checked for every key before any result is built, as Redis 7
// does. Replies list members sorted, like SMEMBERS; a STORE builds a new
// set and replaces the destination whatever it held, and deletes it when
// the result is empty. Nothing depends on map order: the result is a set,
// and its members are only ever replied sorted.
func setAlgebraCommands() []Command {
	return []Command{
		{Name: "SINTER", Arity: -2, Flags: Read, FirstKey: 1, LastKey: -1, Step: 1, Run: salgebra(setInter, false)},
		{Name: "SUNION", Arity: -2, Flags: Read, FirstKey: 1, LastKey: -1, Step: 1, Run: salgebra(setUnion, false)},
		{Name: "SDIFF", Arity: -2, Flags: Read, FirstKey: 1, LastKey: -1, Step: 1, Run: salgebra(setDiff, false)},
		{Name: "SINTERSTORE", Arity: -3, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1, Run: salgebra(setInter, true)},
		{Name: "SUNIONSTORE", Arity: -3, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1, Run: salgebra(setUnion, true)},
		{Name: "SDIFFSTORE", Arity: -3, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1, Run: salgebra(setDiff, true)},
		{Name: "SINTERCARD", Arity: -3, Flags: Read, FirstKey: 2, LastKey: 2, Step: 1, KeysOf: NumKeys(1), Run: cmdSInterCard},
	}
}

// setOp is an operation of the set algebra.
type setOp int

const (
	setUnion setOp = iota
	setInter
	setDiff
)

// setsOf returns the sets of key arguments in order (nil for a missing
// key), or the first error (WRONGTYPE, a bad key).
func setsOf(c *Ctx, keys []resp.Value) ([]set, resp.Value, bool) {
	sets := make([]set, len(keys))
	for i, k := range keys {
		_, s, errv, ok := setOf(c, k)
		if !ok {
			return nil, errv, false
		}
		sets[i] = s
	}
	return sets, resp.Value{}, true
}

// combine computes op over sets (nil ones are empty) as a new set.
func combine(op setOp, sets []set) set {
	out := make(set)
	switch op {
	case setUnion:
		for _, s := range sets {
			for m := range s {
				out[m] = struct{}{}
			}
		}
	case setInter:
		small := 0
		for i, s := range sets {
			if len(s) == 0 {
				return out
			}
			if len(s) < len(sets[small]) {
				small = i
			}
		}
	members:
		for m := range sets[small] {
			for _, s := range sets {
				if _, in := s[m]; !in {
					continue members
				}
			}
			out[m] = struct{}{}
		}
	case setDiff:
	first:
		for m := range sets[0] {
			for _, s := range sets[1:] {
				if _, in := s[m]; in {
					continue first
				}
			}
			out[m] = struct{}{}
		}
	}
	return out
}

// salgebra serves SINTER/SUNION/SDIFF key... and, with store, their STORE
// forms dst key....
func salgebra(op setOp, store bool) func(c *Ctx, args []resp.Value) resp.Value {
	return func(c *Ctx, args []resp.Value) resp.Value {
		keys := args[1:]
		if store {
			keys = args[2:]
		}
		sets, errv, ok := setsOf(c, keys)
		if !ok {
			return errv
		}
		out := combine(op, sets)
		if !store {
			return out.value()
		}
		dst, ok := keyOf(args[1])
		if !ok {
			return errBadKey
		}
		c.State.del(dst, c.Now)
		if len(out) > 0 {
			c.State.put(dst, &Entry{set: out, Mod: c.Index})
		}
		return resp.Int(int64(len(out)))
	}
}

// cmdSInterCard serves SINTERCARD numkeys key... [LIMIT limit]: the size
// of the intersection, counted up to limit (0: no limit).
func cmdSInterCard(c *Ctx, args []resp.Value) resp.Value {
	n, ok := argInt(args[1])
	if !ok || n < 1 {
		return resp.Err("ERR numkeys should be greater than 0")
	}
	if n > int64(len(args)-2) {
		return resp.Err("ERR Number of keys can't be greater than number of args")
	}
	limit := int64(0)
	for i := 2 + int(n); i < len(args); i++ {
		if argUpper(args[i]) != "LIMIT" || i+1 >= len(args) {
			return errSyntax
		}
		i++
		if limit, ok = argInt(args[i]); !ok || limit < 0 {
			return resp.Err("ERR LIMIT can't be negative")
		}
	}
	sets, errv, ok := setsOf(c, args[2:2+n])
	if !ok {
		return errv
	}
	if limit == 0 {
		limit = math.MaxInt64
	}
	// Whatever order the members are visited in, the count is
	// min(|intersection|, limit): LIMIT only bounds the work.
	small := sets[0]
	for _, s := range sets {
		if len(s) < len(small) {
			small = s
		}
	}
	var count int64
members:
	for m := range small {
		if count >= limit {
			break
		}
		for _, s := range sets {
			if _, in := s[m]; !in {
				continue members
			}
		}
		count++
	}
	return resp.Int(count)
}
