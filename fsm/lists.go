package fsm

import (
	"math"
	"slices"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// List commands: the queue. A list is an array value (SPEC §2): one set
// with SET k [..] can be pushed to, and GET answers a list as an array.
// Pushes and pops change a deque in place (State.mutable).
//
// The blocking forms (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH) are registered
// here and run as one attempt each (blocking.go).
func listCommands() []Command {
	return []Command{
		{Name: "LPUSH", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPush},
		{Name: "RPUSH", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPush},
		{Name: "LPUSHX", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPush},
		{Name: "RPUSHX", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPush},
		{Name: "LPOP", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPop},
		{Name: "RPOP", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPop},
		{Name: "LLEN", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLLen},
		{Name: "LRANGE", Arity: 4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLRange},
		{Name: "LINDEX", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLIndex},
		{Name: "LPOS", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLPos},
		{Name: "LINSERT", Arity: 5, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLInsert},
		{Name: "LSET", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLSet},
		{Name: "LREM", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLRem},
		{Name: "LTRIM", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdLTrim},
		{Name: "LMOVE", Arity: 5, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLMove},
		{Name: "RPOPLPUSH", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLMove},
		{Name: "BLPOP", Arity: -3, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Run: bpop(true),
			Undo: undoBPop(true), Pops: (*Entry).isList, TimeoutReply: resp.NullArray()},
		{Name: "BRPOP", Arity: -3, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Run: bpop(false),
			Undo: undoBPop(false), Pops: (*Entry).isList, TimeoutReply: resp.NullArray()},
		{Name: "BLMOVE", Arity: 6, Flags: Write | Blocking, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLMove,
			Undo: undoBLMove, Pops: (*Entry).isList, Sources: 1, Check: checkMove, TimeoutReply: resp.NullArray()},
		{Name: "BRPOPLPUSH", Arity: 4, Flags: Write | Blocking, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLMove,
			Undo: undoBLMove, Pops: (*Entry).isList, Sources: 1, Check: checkMove, TimeoutReply: resp.NullArray()},
		{Name: "KVORUM.UNMOVE", Arity: 6, Flags: Write | Internal, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdUnmove},
	}
}

var errNoSuchKey = resp.Err("ERR no such key")

// elem shapes a list element for the connection: as stored in native mode,
// scalars as bulk strings in Redis modes.
func (c *Ctx) elem(v resp.Value) resp.Value {
	if r, ok := c.reply(v); ok {
		return r
	}
	return v
}

// listOf returns key's list entry for reading: nil if missing, WRONGTYPE
// if the key holds something else.
func listOf(c *Ctx, keyArg resp.Value) (string, *Entry, resp.Value, bool) {
	return lookupKind(c, keyArg, (*Entry).isList)
}

// mutableList returns key's list ready to change, creating it if create;
// nil (and no error) if it is missing and create is false.
func mutableList(c *Ctx, key string, create bool) *Entry {
	e := c.State.mutable(key, c.Now)
	if e == nil {
		if !create {
			return nil
		}
		e = &Entry{list: newList(nil)}
		c.State.put(key, e)
	}
	if e.list == nil { // an empty array value
		e.list = newList(nil)
		e.Value = resp.Value{}
	}
	e.Mod = c.Index
	return e
}

// isEmpty reports whether a list entry is missing or has no elements (an
// empty array stored with SET): nothing to pop.
func isEmpty(e *Entry) bool { return e == nil || len(e.elems()) == 0 }

// dropIfEmpty deletes a list key whose last element was removed.
func dropIfEmpty(c *Ctx, key string, e *Entry) {
	if e.list.len() == 0 {
		delete(c.State.keys, key)
	}
}

func cmdPush(c *Ctx, args []resp.Value) resp.Value {
	key, e, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	name := argUpper(args[0])
	onlyIfExists := strings.HasSuffix(name, "X")
	if e == nil && onlyIfExists {
		return resp.Int(0)
	}
	e = mutableList(c, key, true)
	front := name[0] == 'L'
	for _, a := range args[2:] {
		v := a.Clone()
		if front {
			e.list.pushFront(v)
		} else {
			e.list.pushBack(v)
		}
	}
	c.Pushed = append(c.Pushed, key)
	return resp.Int(int64(e.list.len()))
}

// cmdPop serves LPOP/RPOP key [count]. As in Redis, more arguments are
// a wrong argument count, and the count is checked before the key.
func cmdPop(c *Ctx, args []resp.Value) resp.Value {
	if len(args) > 3 {
		return WrongArity(args[0].Text())
	}
	count, withCount := int64(1), len(args) == 3
	if withCount {
		var ok bool
		if count, ok = argInt(args[2]); !ok || count < 0 {
			return resp.Err("ERR value is out of range, must be positive")
		}
	}
	key, e, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	if isEmpty(e) { // missing, or an empty array stored with SET
		if withCount {
			return resp.NullArray()
		}
		return resp.NullBulk()
	}
	e = mutableList(c, key, false)
	front := argUpper(args[0])[0] == 'L'
	n := int(min(count, int64(e.list.len())))
	out := make([]resp.Value, n)
	for i := range out {
		if front {
			out[i] = c.elem(e.list.popFront())
		} else {
			out[i] = c.elem(e.list.popBack())
		}
	}
	dropIfEmpty(c, key, e)
	if !withCount {
		return out[0]
	}
	return resp.Array(out...)
}

// moveArgs returns the ends of LMOVE, RPOPLPUSH and their blocking forms,
// or the error for a bad direction or timeout.
func moveArgs(args []resp.Value) (from, to string, errv resp.Value, ok bool) {
	name := argUpper(args[0])
	from, to = "RIGHT", "LEFT"
	if name == "LMOVE" || name == "BLMOVE" {
		from, to = argUpper(args[3]), argUpper(args[4])
		if (from != "LEFT" && from != "RIGHT") || (to != "LEFT" && to != "RIGHT") {
			return "", "", errSyntax, false
		}
	}
	if name[0] == 'B' {
		if _, errv, ok := BlockTimeout(args); !ok {
			return "", "", errv, false
		}
	}
	return from, to, resp.Value{}, true
}

// checkMove is BLMOVE's and BRPOPLPUSH's Command.Check.
func checkMove(args []resp.Value) (resp.Value, bool) {
	_, _, errv, ok := moveArgs(args)
	return errv, ok
}

// cmdLMove serves LMOVE src dst LEFT|RIGHT LEFT|RIGHT, RPOPLPUSH src dst,
// and one attempt of BLMOVE / BRPOPLPUSH (null when the source is empty).
func cmdLMove(c *Ctx, args []resp.Value) resp.Value {
	from, to, errv, ok := moveArgs(args)
	if !ok {
		return errv
	}
	src, se, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	if isEmpty(se) { // as in Redis, before the destination's kind is looked at
		return resp.NullBulk()
	}
	dst, _, errv, ok := listOf(c, args[2])
	if !ok {
		return errv
	}
	return c.elem(move(c, src, from, dst, to))
}

// move pops the element at the from end (LEFT or RIGHT) of the non-empty
// list src and pushes it at the to end of dst, and returns it.
func move(c *Ctx, src, from, dst, to string) resp.Value {
	se := mutableList(c, src, false)
	var v resp.Value
	if from == "LEFT" {
		v = se.list.popFront()
	} else {
		v = se.list.popBack()
	}
	dropIfEmpty(c, src, se)
	de := mutableList(c, dst, true)
	if to == "LEFT" {
		de.list.pushFront(v)
	} else {
		de.list.pushBack(v)
	}
	c.Pushed = append(c.Pushed, dst)
	return v
}

func cmdLLen(c *Ctx, args []resp.Value) resp.Value {
	_, e, errv, ok := listOf(c, args[1])
	switch {
	case !ok:
		return errv
	case e == nil:
		return resp.Int(0)
	case e.list != nil:
		return resp.Int(int64(e.list.len()))
	}
	return resp.Int(int64(e.Value.Len()))
}

// elems returns a list entry's elements without copying a deque's storage
// more than needed: the caller must not keep or change the slice.
func (e *Entry) elems() []resp.Value {
	if e.list != nil {
		return e.list.items[e.list.head:]
	}
	return e.Value.Elems()
}

// clampRange turns Redis's inclusive start/stop (negative from the end)
// into a half-open [lo, hi) within n elements.
func clampRange(start, stop int64, n int) (int, int) {
	if start < 0 {
		start += int64(n)
	}
	if stop < 0 {
		stop += int64(n)
	}
	start = max(start, 0)
	stop = min(stop, int64(n)-1)
	if start > stop {
		return 0, 0
	}
	return int(start), int(stop) + 1
}

// listRange parses LRANGE/LTRIM's "key start stop" and returns the list
// entry (nil if missing) and the half-open element range it selects.
func listRange(c *Ctx, args []resp.Value) (key string, e *Entry, lo, hi int, errv resp.Value, ok bool) {
	start, ok1 := argInt(args[2])
	stop, ok2 := argInt(args[3])
	if !ok1 || !ok2 {
		return "", nil, 0, 0, errNotInt, false
	}
	key, e, errv, ok = listOf(c, args[1])
	if !ok || e == nil {
		return key, nil, 0, 0, errv, ok
	}
	lo, hi = clampRange(start, stop, len(e.elems()))
	return key, e, lo, hi, errv, true
}

func cmdLRange(c *Ctx, args []resp.Value) resp.Value {
	_, e, lo, hi, errv, ok := listRange(c, args)
	if !ok {
		return errv
	}
	if e == nil {
		return resp.Array()
	}
	all := e.elems()
	out := make([]resp.Value, hi-lo)
	for i := range out {
		out[i] = c.elem(all[lo+i])
	}
	return resp.Array(out...)
}

// cmdLIndex serves LINDEX key index: as in Redis, the key is looked at
// before the index is parsed.
func cmdLIndex(c *Ctx, args []resp.Value) resp.Value {
	_, e, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	if e == nil {
		return resp.NullBulk()
	}
	i, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	all := e.elems()
	if i < 0 {
		i += int64(len(all))
	}
	if i < 0 || i >= int64(len(all)) {
		return resp.NullBulk()
	}
	return c.elem(all[i])
}

// cmdLSet serves LSET key index element: as in Redis, the key is looked
// at before the index is parsed.
func cmdLSet(c *Ctx, args []resp.Value) resp.Value {
	key, e, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	if e == nil {
		return errNoSuchKey
	}
	i, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	e = mutableList(c, key, false)
	if i < 0 {
		i += int64(e.list.len())
	}
	if i < 0 || i >= int64(e.list.len()) {
		return resp.Err("ERR index out of range")
	}
	e.list.set(int(i), args[3].Clone())
	return c.OK()
}

// cmdLRem removes count occurrences of an element: from the front if
// count > 0, from the back if < 0, all if 0.
func cmdLRem(c *Ctx, args []resp.Value) resp.Value {
	count, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	key, e, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	if e == nil {
		return resp.Int(0)
	}
	e = mutableList(c, key, false)
	all := e.list.slice(0, e.list.len())
	limit := count
	if limit < 0 {
		limit = -limit
	}
	keep := make([]bool, len(all))
	var removed int64
	for j := range all {
		i := j
		if count < 0 {
			i = len(all) - 1 - j
		}
		if (limit == 0 || removed < limit) && resp.Equal(all[i], args[3]) {
			removed++
			continue
		}
		keep[i] = true
	}
	out := all[:0]
	for i, v := range all {
		if keep[i] {
			out = append(out, v)
		}
	}
	e.list.replace(out)
	dropIfEmpty(c, key, e)
	return resp.Int(removed)
}

func cmdLTrim(c *Ctx, args []resp.Value) resp.Value {
	key, e, lo, hi, errv, ok := listRange(c, args)
	if !ok {
		return errv
	}
	if e == nil {
		return c.OK()
	}
	e = mutableList(c, key, false)
	e.list.replace(e.list.slice(lo, hi))
	dropIfEmpty(c, key, e)
	return c.OK()
}

// cmdLPos serves LPOS key element [RANK rank] [COUNT num] [MAXLEN len].
func cmdLPos(c *Ctx, args []resp.Value) resp.Value {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	minRank := false // RANK -9223372036854775808, which Redis cannot negate
	for i := 3; i < len(args); i += 2 {
		opt := argUpper(args[i])
		if i+1 >= len(args) || (opt != "RANK" && opt != "COUNT" && opt != "MAXLEN") {
			return errSyntax
		}
		n, ok := argInt(args[i+1])
		switch opt {
		case "RANK":
			switch {
			case !ok:
				return errNotInt
			case n == 0:
				return resp.Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
			}
			rank, minRank = n, n == math.MinInt64
		case "COUNT":
			if !ok || n < 0 {
				return resp.Err("ERR COUNT can't be negative")
			}
			count = n
		case "MAXLEN":
			if !ok || n < 0 {
				return resp.Err("ERR MAXLEN can't be negative")
			}
			maxlen = n
		}
	}
	if minRank {
		// Redis's -rank overflows and stays negative: it matches from the
		// first match from the tail on, and a COUNT never stops it.
		rank = -1
		if count > 0 {
			count = 0
		}
	}
	_, e, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	var matches []resp.Value
	if e != nil {
		all := e.elems()
		skip := rank
		if skip < 0 {
			skip = -skip
		}
		want := count
		if want == 0 {
			want = int64(len(all))
		} else if want < 0 {
			want = 1
		}
		for j := 0; j < len(all) && (maxlen == 0 || int64(j) < maxlen) && int64(len(matches)) < want; j++ {
			i := j
			if rank < 0 {
				i = len(all) - 1 - j
			}
			if resp.Equal(all[i], args[2]) {
				if skip > 1 {
					skip--
					continue
				}
				matches = append(matches, resp.Int(int64(i)))
			}
		}
	}
	if count >= 0 {
		return resp.Array(matches...)
	}
	if len(matches) == 0 {
		return resp.NullBulk()
	}
	return matches[0]
}

// cmdLInsert serves LINSERT key BEFORE|AFTER pivot element: the length
// after inserting element next to the first pivot from the front, -1 if
// there is no pivot, 0 if there is no list.
func cmdLInsert(c *Ctx, args []resp.Value) resp.Value {
	after := false
	switch argUpper(args[2]) {
	case "AFTER":
		after = true
	case "BEFORE":
	default:
		return errSyntax
	}
	key, e, errv, ok := listOf(c, args[1])
	if !ok {
		return errv
	}
	if e == nil {
		return resp.Int(0)
	}
	at := slices.IndexFunc(e.elems(), func(v resp.Value) bool { return resp.Equal(v, args[3]) })
	if at < 0 {
		return resp.Int(-1)
	}
	if after {
		at++
	}
	e = mutableList(c, key, false)
	e.list.insert(at, args[4].Clone())
	return resp.Int(int64(e.list.len()))
}
