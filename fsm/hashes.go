package fsm

import (
	"math"
	"math/rand/v2"

	"github.com/kvorum/kvorum/resp"
)

// Hash commands. A hash is a dict value (SPEC §2): one stored with
// SET k {..} answers HGET, and a hash comes back from GET (native mode) as
// a dict. Fields keep their insertion order, so HGETALL, HKEYS and HVALS do
// not depend on map order.
//
// Writes change a hash container in place (hash.go: O(1) per field),
// copied first when a snapshot may share it (State.mutable). A dict stored
// with SET becomes a container on its first hash write; until then a hash
// read indexes it afresh (O(fields)).
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
		{Name: "HSTRLEN", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHStrlen},
		{Name: "HRANDFIELD", Arity: -2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHRandField},
		{Name: "HSCAN", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdHScan},
	}
}

// hashOf returns key's hash for reading (nil if missing), or WRONGTYPE.
// The caller must not change it.
func hashOf(c *Ctx, keyArg resp.Value) (string, *hash, resp.Value, bool) {
	key, e, errv, ok := lookupKind(c, keyArg, (*Entry).isHash)
	switch {
	case e == nil:
		return key, nil, errv, ok
	case e.hash != nil:
		return key, e.hash, errv, ok
	}
	return key, hashFromPairs(e.Value.Elems()), errv, ok
}

// mutableHash returns key's hash entry ready to change, creating it if
// missing.
func mutableHash(c *Ctx, key string) *Entry {
	e := c.State.mutable(key, c.Now)
	if e == nil {
		e = &Entry{hash: newHash(1)}
		c.State.put(key, e)
	}
	e.Mod = c.Index
	return e
}

var errHashField = resp.Err("ERR hash field must be a string or an integer")

// cmdHSet serves HSET (new fields count), HMSET (OK) and HSETNX (1 or 0).
func cmdHSet(c *Ctx, args []resp.Value) resp.Value {
	name := argUpper(args[0])
	if len(args)%2 != 0 {
		return WrongArity(name)
	}
	for i := 2; i < len(args); i += 2 {
		if !args[i].IsScalar() || args[i].IsNull() {
			return errHashField
		}
	}
	key, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	if _, exists := h.get(args[2].Text()); exists && name == "HSETNX" {
		return resp.Int(0)
	}
	e := mutableHash(c, key)
	var added int64
	for i := 2; i < len(args); i += 2 {
		if e.hash.set(resp.BulkString(args[i].Text()), args[i+1].Clone()) {
			added++
		}
	}
	switch name {
	case "HMSET":
		return c.OK()
	case "HSETNX":
		return resp.Int(1)
	}
	return resp.Int(added)
}

func cmdHDel(c *Ctx, args []resp.Value) resp.Value {
	key, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	found := false
	for _, a := range args[2:] {
		if _, ok := h.get(a.Text()); ok {
			found = true
		}
	}
	if !found {
		return resp.Int(0)
	}
	e := mutableHash(c, key)
	var removed int64
	for _, a := range args[2:] {
		if e.hash.del(a.Text()) {
			removed++
		}
	}
	if e.hash.len() == 0 {
		delete(c.State.keys, key)
	}
	return resp.Int(removed)
}

// cmdHIncr serves HINCRBY and HINCRBYFLOAT.
func cmdHIncr(c *Ctx, args []resp.Value) resp.Value {
	key, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	if !args[2].IsScalar() || args[2].IsNull() {
		return errHashField
	}
	cur, exists := h.get(args[2].Text())
	var next resp.Value
	if argUpper(args[0]) == "HINCRBY" {
		delta, ok := argInt(args[3])
		if !ok {
			return errNotInt
		}
		n := int64(0)
		if exists {
			if n, ok = argInt(cur); !ok {
				return resp.Err("ERR hash value is not an integer")
			}
		}
		if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
			return resp.Err("ERR increment or decrement would overflow")
		}
		next = resp.Int(n + delta)
	} else {
		delta, ok := argScore(args[3])
		switch {
		case !ok:
			return errNotFloat
		case math.IsInf(delta, 0):
			return resp.Err("ERR value is NaN or Infinity")
		}
		curText := "0"
		if exists {
			if _, ok := argScore(cur); !ok {
				return resp.Err("ERR hash value is not a float")
			}
			curText = cur.Text()
		}
		sum, ok := addFloat(curText, args[3].Text())
		if !ok {
			return errFloatOverflow
		}
		next = resp.BulkString(sum)
	}
	mutableHash(c, key).hash.set(resp.BulkString(args[2].Text()), next)
	return next
}

// cmdHGet serves HGET field and HMGET field....
func cmdHGet(c *Ctx, args []resp.Value) resp.Value {
	_, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	get := func(f resp.Value) resp.Value {
		if v, ok := h.get(f.Text()); ok {
			return c.elem(v)
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
	_, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	if _, ok := h.get(args[2].Text()); ok {
		return resp.Int(1)
	}
	return resp.Int(0)
}

func cmdHLen(c *Ctx, args []resp.Value) resp.Value {
	_, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	return resp.Int(int64(h.len()))
}

// cmdHGetAll serves HGETALL (a dict: '%' in native and resp3, a flat array
// in resp2), HKEYS and HVALS.
func cmdHGetAll(c *Ctx, args []resp.Value) resp.Value {
	_, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	name := argUpper(args[0])
	out := make([]resp.Value, 0, 2*h.len())
	h.each(func(field, val resp.Value) {
		if name != "HVALS" {
			out = append(out, c.elem(field))
		}
		if name != "HKEYS" {
			out = append(out, c.elem(val))
		}
	})
	if name == "HGETALL" {
		return resp.Dict(out...)
	}
	return resp.Array(out...)
}

// cmdHStrlen serves HSTRLEN key field: the length of the field's value as
// a string (0 if missing).
func cmdHStrlen(c *Ctx, args []resp.Value) resp.Value {
	_, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	v, ok := h.get(args[2].Text())
	if !ok {
		return resp.Int(0)
	}
	return resp.Int(int64(len(v.Text())))
}

// cmdHRandField serves HRANDFIELD key [count [WITHVALUES]], picking at
// random as Redis does (a read: only the serving node picks). With
// WITHVALUES a RESP3 connection gets [field, value] pairs, others a flat
// array.
func cmdHRandField(c *Ctx, args []resp.Value) resp.Value {
	var count int64
	withValues := false
	if len(args) >= 3 {
		var errv resp.Value
		var ok bool
		if count, errv, ok = randCount(args[2]); !ok {
			return errv
		}
		if len(args) > 4 || (len(args) == 4 && argUpper(args[3]) != "WITHVALUES") {
			return errSyntax
		}
		withValues = len(args) == 4
		if withValues && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
			return resp.Err("ERR value is out of range")
		}
		if count < -randCountMax {
			return errRandCountMax
		}
	}
	_, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	if len(args) == 2 {
		if h.len() == 0 {
			return resp.NullBulk()
		}
		return c.elem(h.live(rand.IntN(h.len())).name)
	}
	if h.len() == 0 || count == 0 {
		return resp.Array()
	}
	var picks []int
	if count >= int64(h.len()) { // the whole hash, in its order, as Redis answers it
		picks = make([]int, h.len())
		for i := range picks {
			picks[i] = i
		}
	} else {
		picks = randPicks(h.len(), count)
	}
	if h.holes > 0 {
		h = h.clone() // positions without holes, for live
	}
	out := make([]resp.Value, 0, len(picks)*(1+b2i(withValues)))
	for _, p := range picks {
		f := h.live(p)
		switch {
		case !withValues:
			out = append(out, c.elem(f.name))
		case c.Mode == resp.RESP3:
			out = append(out, resp.Array(c.elem(f.name), c.elem(f.val)))
		default:
			out = append(out, c.elem(f.name), c.elem(f.val))
		}
	}
	return resp.Array(out...)
}

// cmdHScan serves HSCAN key cursor [MATCH pattern] [COUNT count]: field
// and value pairs, a small hash at once in insertion order, a large one by
// scanPage.
func cmdHScan(c *Ctx, args []resp.Value) resp.Value {
	cursor, ok := scanCursor(args[2])
	if !ok {
		return errCursor
	}
	_, h, errv, ok := hashOf(c, args[1])
	if !ok {
		return errv
	}
	if h.len() == 0 {
		return scanReply(0, nil)
	}
	pattern, count, errv, ok := scanOptions(args[3:])
	if !ok {
		return errv
	}
	fields := make([]hfield, 0, h.len())
	h.each(func(name, val resp.Value) { fields = append(fields, hfield{name: name, val: val}) })
	next := uint64(0)
	if len(fields) > scanWhole {
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.name.Text()
		}
		var page []int
		page, next = scanPage(names, cursor, count)
		fields = pick(fields, page)
	}
	var out []resp.Value
	for _, f := range fields {
		if pattern == nil || Glob(pattern, []byte(f.name.Text())) {
			out = append(out, c.elem(f.name), c.elem(f.val))
		}
	}
	return scanReply(next, out)
}
