package fsm

import (
	"math"
	"strconv"

	"github.com/kvorum/kvorum/resp"
)

// Hash commands. A hash is a dict value (SPEC §2): one stored with
// SET k {..} answers HGET, and a hash comes back from GET (native mode) as
// a dict. Fields keep their insertion order, so HGETALL, HKEYS and HVALS do
// not depend on map order.
//
// The dict is an immutable value: a write builds the new dict (O(fields)),
// which suits the small result and job hashes of a task queue; a large
// hash would want a mutable container with copy-on-write, as lists have.
func hashCommands() []Command {
	return []Command{
		{Name: "HSET", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHSet},
		{Name: "HMSET", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHSet},
		{Name: "HSETNX", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHSet},
		{Name: "HDEL", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHDel},
		{Name: "HINCRBY", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHIncr},
		{Name: "HINCRBYFLOAT", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHIncr},
		{Name: "HGET", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHGet},
		{Name: "HMGET", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHGet},
		{Name: "HEXISTS", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHExists},
		{Name: "HLEN", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHLen},
		{Name: "HGETALL", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHGetAll},
		{Name: "HKEYS", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHGetAll},
		{Name: "HVALS", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHGetAll},
	}
}

// hashOf returns key's fields as flat pairs (nil if missing), or WRONGTYPE.
func hashOf(c *Ctx, keyArg resp.Value) (string, *Entry, []resp.Value, resp.Value, bool) {
	key, e, errv, ok := lookupKind(c, keyArg, func(e *Entry) bool { return e.list == nil && e.Value.Kind() == resp.KindDict })
	if e == nil {
		return key, nil, nil, errv, ok
	}
	return key, e, e.Value.Elems(), errv, ok
}

// field finds a field in flat pairs and returns the index of its key, or -1.
func field(pairs []resp.Value, name string) int {
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i].Text() == name {
			return i
		}
	}
	return -1
}

// storeHash replaces key's hash with pairs (deleting the key if empty),
// keeping the deadline of the entry it replaces.
func storeHash(c *Ctx, key string, old *Entry, pairs []resp.Value) {
	if len(pairs) == 0 {
		delete(c.State.keys, key)
		return
	}
	e := &Entry{Value: resp.Dict(pairs...).Clone(), Mod: c.Index}
	if old != nil {
		e.Expire = old.Expire
	}
	c.State.put(key, e)
}

func copyPairs(pairs []resp.Value, extra int) []resp.Value {
	out := make([]resp.Value, len(pairs), len(pairs)+extra)
	copy(out, pairs)
	return out
}

// cmdHSet serves HSET (new fields count), HMSET (OK) and HSETNX (1 or 0).
func cmdHSet(c *Ctx, args []resp.Value) resp.Value {
	name := argUpper(args[0])
	if len(args)%2 != 0 {
		return WrongArity(name)
	}
	key, e, pairs, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	out := copyPairs(pairs, len(args)-2)
	var added int64
	for i := 2; i < len(args); i += 2 {
		if !args[i].IsScalar() || args[i].IsNull() {
			return resp.Err("ERR hash field must be a string or an integer")
		}
		f := args[i].Text()
		if j := field(out, f); j >= 0 {
			if name == "HSETNX" {
				return resp.Int(0)
			}
			out[j+1] = args[i+1]
			continue
		}
		out = append(out, resp.BulkString(f), args[i+1])
		added++
	}
	storeHash(c, key, e, out)
	switch name {
	case "HMSET":
		return c.OK()
	case "HSETNX":
		return resp.Int(1)
	}
	return resp.Int(added)
}

func cmdHDel(c *Ctx, args []resp.Value) resp.Value {
	key, e, pairs, errv, ok := hashOf(c, args[1])
	if !ok || e == nil {
		if !ok {
			return errv
		}
		return resp.Int(0)
	}
	out := copyPairs(pairs, 0)
	var removed int64
	for _, a := range args[2:] {
		if j := field(out, a.Text()); j >= 0 {
			out = append(out[:j], out[j+2:]...)
			removed++
		}
	}
	if removed > 0 {
		storeHash(c, key, e, out)
	}
	return resp.Int(removed)
}

// cmdHIncr serves HINCRBY and HINCRBYFLOAT.
func cmdHIncr(c *Ctx, args []resp.Value) resp.Value {
	key, e, pairs, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	out := copyPairs(pairs, 2)
	j := field(out, args[2].Text())
	var cur resp.Value
	if j >= 0 {
		cur = out[j+1]
	}
	var next resp.Value
	if argUpper(args[0]) == "HINCRBY" {
		delta, ok := argInt(args[3])
		if !ok {
			return errNotInt
		}
		n := int64(0)
		if j >= 0 {
			if n, ok = argInt(cur); !ok || !cur.IsScalar() {
				return resp.Err("ERR hash value is not an integer")
			}
		}
		if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
			return resp.Err("ERR increment or decrement would overflow")
		}
		next = resp.Int(n + delta)
	} else {
		delta, err := resp.ParseDouble([]byte(args[3].Text()))
		if err != nil || !args[3].IsScalar() {
			return resp.Err("ERR value is not a valid float")
		}
		f := 0.0
		if j >= 0 {
			if f, err = resp.ParseDouble([]byte(cur.Text())); err != nil || !cur.IsScalar() {
				return resp.Err("ERR hash value is not a float")
			}
		}
		f += delta
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return resp.Err("ERR increment would produce NaN or Infinity")
		}
		next = resp.BulkString(strconv.FormatFloat(f, 'f', -1, 64))
	}
	if j >= 0 {
		out[j+1] = next
	} else {
		out = append(out, resp.BulkString(args[2].Text()), next)
	}
	storeHash(c, key, e, out)
	return next
}

// cmdHGet serves HGET field and HMGET field....
func cmdHGet(c *Ctx, args []resp.Value) resp.Value {
	_, _, pairs, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	get := func(f resp.Value) resp.Value {
		if j := field(pairs, f.Text()); j >= 0 {
			return c.elem(pairs[j+1])
		}
		return resp.NullBulk()
	}
	if argUpper(args[0]) == "HGET" {
		return get(args[2])
	}
	out := make([]resp.Value, len(args)-2)
	for i, f := range args[2:] {
		out[i] = get(f)
	}
	return resp.Array(out...)
}

func cmdHExists(c *Ctx, args []resp.Value) resp.Value {
	_, _, pairs, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	if field(pairs, args[2].Text()) >= 0 {
		return resp.Int(1)
	}
	return resp.Int(0)
}

func cmdHLen(c *Ctx, args []resp.Value) resp.Value {
	_, _, pairs, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	return resp.Int(int64(len(pairs) / 2))
}

// cmdHGetAll serves HGETALL (a dict: '%' in native and resp3, a flat array
// in resp2), HKEYS and HVALS.
func cmdHGetAll(c *Ctx, args []resp.Value) resp.Value {
	_, _, pairs, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	name := argUpper(args[0])
	var out []resp.Value
	for i := 0; i < len(pairs); i += 2 {
		if name != "HVALS" {
			out = append(out, c.elem(pairs[i]))
		}
		if name != "HKEYS" {
			out = append(out, c.elem(pairs[i+1]))
		}
	}
	if name == "HGETALL" {
		return resp.Dict(out...)
	}
	return resp.Array(out...)
}
