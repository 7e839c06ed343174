package fsm

import (
	"sort"

	"github.com/kvorum/kvorum/resp"
)

// Set commands. A set is its own kind (SPEC §2): a map of members, changed
// in place with copy-on-write like lists. Replies list members sorted, and
// SPOP takes the smallest members: the FSM has no randomness, so every
// replica pops the same ones (Redis picks at random).
func setCommands() []Command {
	return []Command{
		{Name: "SADD", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSAdd},
		{Name: "SREM", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSRem},
		{Name: "SPOP", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSPop},
		{Name: "SMEMBERS", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSMembers},
		{Name: "SISMEMBER", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSIsMember},
		{Name: "SCARD", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSCard},
	}
}

type set map[string]struct{}

func (s set) clone() set {
	c := make(set, len(s))
	for m := range s {
		c[m] = struct{}{}
	}
	return c
}

// sorted returns the members in byte order.
func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for m := range s {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// value is the set as an array of its members, sorted (GET in native mode,
// and the snapshot record).
func (s set) value() resp.Value {
	ms := s.sorted()
	out := make([]resp.Value, len(ms))
	for i, m := range ms {
		out[i] = resp.BulkString(m)
	}
	return resp.Array(out...)
}

// setFromValue rebuilds a set from value()'s form (snapshot restore): a
// non-empty array of distinct scalar members.
func setFromValue(v resp.Value) (set, bool) {
	if v.Kind() != resp.KindArray || v.Len() == 0 {
		return nil, false
	}
	s := make(set, v.Len())
	for _, e := range v.Elems() {
		if !e.IsScalar() || e.IsNull() {
			return nil, false
		}
		s[e.Text()] = struct{}{}
	}
	return s, len(s) == v.Len()
}

// setOf returns key's set for reading (nil if missing), or WRONGTYPE.
func setOf(c *Ctx, keyArg resp.Value) (string, set, resp.Value, bool) {
	key, e, errv, ok := lookupKind(c, keyArg, func(e *Entry) bool { return e.set != nil })
	if e == nil {
		return key, nil, errv, ok
	}
	return key, e.set, errv, ok
}

func mutableSet(c *Ctx, key string, create bool) *Entry {
	e := c.State.mutable(key, c.Now)
	if e == nil {
		if !create {
			return nil
		}
		e = &Entry{set: make(set)}
		c.State.put(key, e)
	}
	e.Mod = c.Index
	return e
}

func dropEmptySet(c *Ctx, key string, e *Entry) {
	if len(e.set) == 0 {
		delete(c.State.keys, key)
	}
}

func cmdSAdd(c *Ctx, args []resp.Value) resp.Value {
	key, _, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	e := mutableSet(c, key, true)
	var n int64
	for _, a := range args[2:] {
		if !a.IsScalar() || a.IsNull() {
			dropEmptySet(c, key, e)
			return resp.Err("ERR set member must be a string or an integer")
		}
		if _, ok := e.set[a.Text()]; !ok {
			e.set[a.Text()] = struct{}{}
			n++
		}
	}
	return resp.Int(n)
}

func cmdSRem(c *Ctx, args []resp.Value) resp.Value {
	key, s, errv, ok := setOf(c, args[1])
	if !ok || s == nil {
		if !ok {
			return errv
		}
		return resp.Int(0)
	}
	e := mutableSet(c, key, false)
	var n int64
	for _, a := range args[2:] {
		if _, ok := e.set[a.Text()]; ok {
			delete(e.set, a.Text())
			n++
		}
	}
	dropEmptySet(c, key, e)
	return resp.Int(n)
}

// cmdSPop serves SPOP key [count], popping the smallest members.
func cmdSPop(c *Ctx, args []resp.Value) resp.Value {
	if len(args) > 3 {
		return errSyntax
	}
	count, withCount := int64(1), len(args) == 3
	if withCount {
		var ok bool
		if count, ok = argInt(args[2]); !ok || count < 0 {
			return resp.Err("ERR value is out of range, must be positive")
		}
	}
	key, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if s == nil {
		if withCount {
			return resp.Array()
		}
		return resp.NullBulk()
	}
	e := mutableSet(c, key, false)
	ms := e.set.sorted()
	ms = ms[:min(int(count), len(ms))]
	out := make([]resp.Value, len(ms))
	for i, m := range ms {
		delete(e.set, m)
		out[i] = resp.BulkString(m)
	}
	dropEmptySet(c, key, e)
	if !withCount {
		return out[0]
	}
	return resp.Array(out...)
}

func cmdSMembers(c *Ctx, args []resp.Value) resp.Value {
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if s == nil {
		return resp.Array()
	}
	return s.value()
}

func cmdSIsMember(c *Ctx, args []resp.Value) resp.Value {
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	if _, in := s[args[2].Text()]; in {
		return resp.Int(1)
	}
	return resp.Int(0)
}

func cmdSCard(c *Ctx, args []resp.Value) resp.Value {
	_, s, errv, ok := setOf(c, args[1])
	if !ok {
		return errv
	}
	return resp.Int(int64(len(s)))
}
