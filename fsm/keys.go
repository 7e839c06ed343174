package fsm

import (
	"math"
	"sort"
	"strconv"

	"github.com/kvorum/kvorum/resp"
)

// Key commands: the tutorial's DELETE and FLUSH, and Redis's keyspace family.
func keyCommands() []Command {
	return []Command{
		{Name: "DELETE", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdDel},
		{Name: "DEL", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdDel},
		{Name: "UNLINK", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdDel},
		{Name: "FLUSH", Arity: 1, Flags: Write | Dangerous, Run: cmdFlush},
		{Name: "FLUSHALL", Arity: -1, Flags: Write | Dangerous, Run: cmdFlushAll},
		{Name: "FLUSHDB", Arity: -1, Flags: Write | Dangerous, Run: cmdFlushAll},
		{Name: "EXISTS", Arity: -2, Flags: Read, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdExists},
		{Name: "DBSIZE", Arity: 1, Flags: Read, Run: cmdDBSize},
		{Name: "TYPE", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdType},
		{Name: "KEYS", Arity: 2, Flags: Read | Dangerous, Run: cmdKeys},
		{Name: "SCAN", Arity: -2, Flags: Read, Run: cmdScan},
		{Name: "TTL", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdTTL},
		{Name: "PTTL", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPTTL},
		{Name: "EXPIRE", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "PEXPIRE", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "EXPIREAT", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "PEXPIREAT", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "PERSIST", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPersist},
		{Name: "RENAME", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdRename},
		{Name: reapCommand, Arity: -2, Flags: Write | Internal, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdReap},
	}
}

// cmdDel serves DEL k... (count removed) and the tutorial's DELETE k (:1/:0).
func cmdDel(c *Ctx, args []resp.Value) resp.Value {
	var n int64
	for _, a := range args[1:] {
		if key, ok := keyOf(a); ok && c.State.del(key, c.Now) {
			n++
		}
	}
	return resp.Int(n)
}

// cmdFlush is the tutorial's FLUSH: it answers how many keys it removed.
func cmdFlush(c *Ctx, args []resp.Value) resp.Value {
	n := c.State.live(c.Now)
	c.State.keys = make(map[string]*Entry)
	return resp.Int(int64(n))
}

func cmdFlushAll(c *Ctx, args []resp.Value) resp.Value {
	if len(args) > 2 || (len(args) == 2 && argUpper(args[1]) != "ASYNC" && argUpper(args[1]) != "SYNC") {
		return errSyntax
	}
	c.State.keys = make(map[string]*Entry)
	return c.OK()
}

func cmdExists(c *Ctx, args []resp.Value) resp.Value {
	var n int64
	for _, a := range args[1:] {
		if key, ok := keyOf(a); ok && c.State.get(key, c.Now) != nil {
			n++
		}
	}
	return resp.Int(n)
}

func cmdDBSize(c *Ctx, args []resp.Value) resp.Value { return resp.Int(int64(c.State.live(c.Now))) }

func cmdType(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	e := c.State.get(key, c.Now)
	if e == nil {
		return resp.Simple("none")
	}
	return resp.Simple(typeName(e))
}

// cmdKeys answers the live keys matching a glob pattern, sorted so that the
// answer does not depend on map order.
func cmdKeys(c *Ctx, args []resp.Value) resp.Value {
	pattern := []byte(args[1].Text())
	var keys []string
	for k, e := range c.State.keys {
		if (e.Expire == 0 || e.Expire > c.Now) && Glob(pattern, []byte(k)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]resp.Value, len(keys))
	for i, k := range keys {
		out[i] = resp.BulkString(k)
	}
	return resp.Array(out...)
}

func cmdTTL(c *Ctx, args []resp.Value) resp.Value  { return ttl(c, args[1], 1000) }
func cmdPTTL(c *Ctx, args []resp.Value) resp.Value { return ttl(c, args[1], 1) }

// ttl answers -2 for a missing key, -1 for one without a deadline, else the
// time left in units of unit ms, rounded as Redis rounds.
func ttl(c *Ctx, keyArg resp.Value, unit int64) resp.Value {
	key, ok := keyOf(keyArg)
	if !ok {
		return errBadKey
	}
	e := c.State.get(key, c.Now)
	switch {
	case e == nil:
		return resp.Int(-2)
	case e.Expire == 0:
		return resp.Int(-1)
	}
	return resp.Int((e.Expire - c.Now + unit/2) / unit)
}

// cmdExpire serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT. The deadline is
// computed from the entry's timestamp (the leader's clock), so every replica
// stores the same absolute deadline.
func cmdExpire(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	n, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	name := argUpper(args[0])
	if name == "EXPIRE" || name == "EXPIREAT" {
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			return resp.Err("ERR invalid expire time in '" + args[0].Text() + "' command")
		}
		n *= 1000
	}
	if name == "EXPIRE" || name == "PEXPIRE" {
		if (n > 0 && c.Now > math.MaxInt64-n) || (n < 0 && c.Now < math.MinInt64-n) {
			return resp.Err("ERR invalid expire time in '" + args[0].Text() + "' command")
		}
		n += c.Now
	}
	e := c.State.get(key, c.Now)
	if e == nil {
		return resp.Int(0)
	}
	if n <= c.Now {
		c.State.del(key, c.Now)
		return resp.Int(1)
	}
	c.State.put(key, e.with(n, c.Index))
	return resp.Int(1)
}

func cmdPersist(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	e := c.State.get(key, c.Now)
	if e == nil || e.Expire == 0 {
		return resp.Int(0)
	}
	c.State.put(key, e.with(0, c.Index))
	return resp.Int(1)
}

// cmdRename serves RENAME src dst. A list or sorted set arriving at dst
// counts as a push to dst (Ctx.Pushed), so pops blocked on dst wake, as in
// Redis, where a renamed key signals its new name ready.
func cmdRename(c *Ctx, args []resp.Value) resp.Value {
	from, ok1 := keyOf(args[1])
	to, ok2 := keyOf(args[2])
	if !ok1 || !ok2 {
		return errBadKey
	}
	e := c.State.get(from, c.Now)
	if e == nil {
		return resp.Err("ERR no such key")
	}
	c.State.del(from, c.Now)
	c.State.put(to, e.with(e.Expire, c.Index))
	if e.isList() || e.isZSet() {
		c.Pushed = append(c.Pushed, to)
	}
	return c.OK()
}

// live counts the keys whose deadline has not passed at now.
func (s *State) live(now int64) int {
	n := 0
	for _, e := range s.keys {
		if e.Expire == 0 || e.Expire > now {
			n++
		}
	}
	return n
}

// reapCommand is the log-only command of the expiry sweep.
const reapCommand = "KVORUM.REAP"

// cmdReap is the leader's expiry sweep: KVORUM.REAP key... deletes each key
// whose deadline has passed at the entry's time (the leader's clock) and
// answers how many it removed. A key given a new value or deadline since
// the leader listed it is left alone, so the sweep never races a write.
func cmdReap(c *Ctx, args []resp.Value) resp.Value {
	var n int64
	for _, a := range args[1:] {
		key, ok := keyOf(a)
		if !ok {
			continue
		}
		if e := c.State.keys[key]; e != nil && e.Expire != 0 && e.Expire <= c.Now {
			delete(c.State.keys, key)
			n++
		}
	}
	if c.expired != nil && n > 0 {
		c.expired.Add(uint64(n))
	}
	return resp.Int(n)
}

// cmdScan serves SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]. The
// cursor is a position in the sorted list of live keys, so a full
// iteration returns every key that exists throughout it exactly once (keys
// added or removed meanwhile may or may not appear, as Redis allows). Each
// call sorts the keyspace: O(n log n), fine for the task-queue sizes this
// store is for.
func cmdScan(c *Ctx, args []resp.Value) resp.Value {
	cursor, ok := argInt(args[1])
	if !ok || cursor < 0 {
		return resp.Err("ERR invalid cursor")
	}
	pattern, count, typ := []byte("*"), int64(10), ""
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return errSyntax
		}
		switch argUpper(args[i]) {
		case "MATCH":
			pattern = []byte(args[i+1].Text())
		case "COUNT":
			if count, ok = argInt(args[i+1]); !ok || count < 1 {
				return errSyntax
			}
		case "TYPE":
			typ = args[i+1].Text()
		default:
			return errSyntax
		}
	}
	keys := make([]string, 0, len(c.State.keys))
	for k, e := range c.State.keys {
		if e.Expire == 0 || e.Expire > c.Now {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []resp.Value
	i := int(min(cursor, int64(len(keys))))
	end := int(min(int64(i)+count, int64(len(keys))))
	for ; i < end; i++ {
		k := keys[i]
		if Glob(pattern, []byte(k)) && (typ == "" || typeName(c.State.keys[k]) == typ) {
			out = append(out, resp.BulkString(k))
		}
	}
	next := int64(end)
	if end >= len(keys) {
		next = 0
	}
	return resp.Array(resp.BulkString(strconv.FormatInt(next, 10)), resp.Array(out...))
}
