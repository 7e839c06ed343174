package fsm

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

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
		{Name: "EXPIRETIME", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpireTime},
		{Name: "PEXPIRETIME", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPExpireTime},
		{Name: "EXPIRE", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "PEXPIRE", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "EXPIREAT", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "PEXPIREAT", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdExpire},
		{Name: "PERSIST", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdPersist},
		{Name: "RENAME", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdRename},
		{Name: "RENAMENX", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdRenameNX},
		{Name: "COPY", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdCopy},
		{Name: "RANDOMKEY", Arity: 1, Flags: Read, Run: cmdRandomKey},
		{Name: "TOUCH", Arity: -2, Flags: Read, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdExists},
		{Name: "MOVE", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdMove},
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
	deadline, reply, ok := deadlineOf(c, keyArg)
	if !ok {
		return reply
	}
	return resp.Int((deadline - c.Now + unit/2) / unit)
}

// deadlineOf returns a key's deadline, or what TTL and EXPIRETIME answer
// for a key without one: -2 if it is missing, -1 if it has none.
func deadlineOf(c *Ctx, keyArg resp.Value) (int64, resp.Value, bool) {
	key, ok := keyOf(keyArg)
	if !ok {
		return 0, errBadKey, false
	}
	e := c.State.get(key, c.Now)
	switch {
	case e == nil:
		return 0, resp.Int(-2), false
	case e.Expire == 0:
		return 0, resp.Int(-1), false
	}
	return e.Expire, resp.Value{}, true
}

func cmdExpireTime(c *Ctx, args []resp.Value) resp.Value  { return expireTime(c, args[1], 1000) }
func cmdPExpireTime(c *Ctx, args []resp.Value) resp.Value { return expireTime(c, args[1], 1) }

// expireTime answers EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1
// for one without a deadline, else the deadline as a Unix time in units of
// unit ms, rounded as Redis rounds.
func expireTime(c *Ctx, keyArg resp.Value, unit int64) resp.Value {
	deadline, reply, ok := deadlineOf(c, keyArg)
	if !ok {
		return reply
	}
	return resp.Int(deadline/unit + (deadline%unit+unit/2)/unit) // (deadline+unit/2)/unit, without overflow
}

// cmdExpire serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT key time [NX |
// XX | GT | LT]. The deadline is computed from the entry's timestamp (the
// leader's clock), so every replica stores the same absolute deadline; one
// not after that time deletes the key. Checks come in Redis's order: the
// options, then the time, then the key.
func cmdExpire(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch argUpper(a) {
		case "NX":
			nx = true
		case "XX":
			xx = true
		case "GT":
			gt = true
		case "LT":
			lt = true
		default:
			return resp.Err("ERR Unsupported option " + string(cText(a.TextBytes(), len(a.TextBytes()))))
		}
	}
	if nx && (xx || gt || lt) {
		return resp.Err("ERR NX and XX, GT or LT options at the same time are not compatible")
	}
	if gt && lt {
		return resp.Err("ERR GT and LT options at the same time are not compatible")
	}
	n, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	name := strings.ToLower(args[0].Text())
	if name == "expire" || name == "expireat" {
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			return expireTimeErr(name)
		}
		n *= 1000
	}
	if name == "expire" || name == "pexpire" {
		if n > math.MaxInt64-c.Now {
			return expireTimeErr(name)
		}
		n += c.Now
	}
	e := c.State.get(key, c.Now)
	if e == nil {
		return resp.Int(0)
	}
	cur := e.Expire // 0: none, which GT takes as forever
	if (nx && cur != 0) || (xx && cur == 0) || (gt && (cur == 0 || n <= cur)) || (lt && cur != 0 && n >= cur) {
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
func cmdRename(c *Ctx, args []resp.Value) resp.Value { return rename(c, args, false) }

// cmdRenameNX serves RENAMENX src dst: RENAME unless dst exists (1 or 0).
func cmdRenameNX(c *Ctx, args []resp.Value) resp.Value { return rename(c, args, true) }

func rename(c *Ctx, args []resp.Value, nx bool) resp.Value {
	from, ok1 := keyOf(args[1])
	to, ok2 := keyOf(args[2])
	if !ok1 || !ok2 {
		return errBadKey
	}
	e := c.State.get(from, c.Now)
	if e == nil {
		return resp.Err("ERR no such key")
	}
	done := c.OK()
	if nx {
		done = resp.Int(1)
	}
	if from == to {
		if nx {
			return resp.Int(0)
		}
		return done
	}
	if nx && c.State.get(to, c.Now) != nil {
		return resp.Int(0)
	}
	c.State.del(from, c.Now)
	c.State.put(to, e.with(e.Expire, c.Index))
	if e.isList() || e.isZSet() {
		c.Pushed = append(c.Pushed, to)
	}
	return done
}

// cmdCopy serves COPY src dst [DB n] [REPLACE]: dst gets a copy of src's
// value and deadline, sharing nothing with it (1), unless src is missing
// or dst exists without REPLACE (0). Only database 0 exists: any other DB
// is out of range, as Redis answers for a database it does not have. A
// list or sorted set arriving at dst wakes pops blocked on it, as RENAME's
// does.
func cmdCopy(c *Ctx, args []resp.Value) resp.Value {
	replace := false
	for j := 3; j < len(args); j++ {
		switch opt := argUpper(args[j]); {
		case opt == "REPLACE":
			replace = true
		case opt == "DB" && j+1 < len(args):
			j++
			db, ok := argInt(args[j])
			if !ok {
				return errNotInt
			}
			if db < math.MinInt32 || db > math.MaxInt32 {
				return resp.Err("ERR value is out of range, value must between -2147483648 and 2147483647")
			}
			if db != 0 {
				return resp.Err("ERR DB index is out of range")
			}
		default:
			return errSyntax
		}
	}
	from, ok1 := keyOf(args[1])
	to, ok2 := keyOf(args[2])
	if !ok1 || !ok2 {
		return errBadKey
	}
	if from == to {
		return resp.Err("ERR source and destination objects are the same")
	}
	e := c.State.get(from, c.Now)
	if e == nil {
		return resp.Int(0)
	}
	if !replace && c.State.get(to, c.Now) != nil {
		return resp.Int(0)
	}
	c.State.put(to, e.with(e.Expire, c.Index))
	if e.isList() || e.isZSet() {
		c.Pushed = append(c.Pushed, to)
	}
	return resp.Int(1)
}

// cmdMove serves MOVE key db with Redis's errors. Only database 0 exists,
// so no move can succeed: to 0 the source and destination are the same,
// any other database is out of range.
func cmdMove(c *Ctx, args []resp.Value) resp.Value {
	db, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	if db < math.MinInt32 || db > math.MaxInt32 {
		return resp.Err("ERR value is out of range, value must between -2147483648 and 2147483647")
	}
	if db != 0 {
		return resp.Err("ERR DB index is out of range")
	}
	return resp.Err("ERR source and destination objects are the same")
}

// cmdRandomKey serves RANDOMKEY: a live key picked at random, or null if
// there is none. It is a read, served by one node, so it may be random as
// Redis's is; inside a log entry (EXEC), where every replica runs it, the
// pick is seeded by the entry's place in the log, so replicas agree. It
// walks the whole keyspace: O(n).
func cmdRandomKey(c *Ctx, args []resp.Value) resp.Value {
	n := c.State.live(c.Now)
	if n == 0 {
		return resp.NullBulk()
	}
	live := func(e *Entry) bool { return e.Expire == 0 || e.Expire > c.Now }
	if c.Index == 0 {
		i := rand.IntN(n)
		for k, e := range c.State.keys {
			if live(e) {
				if i == 0 {
					return resp.BulkString(k)
				}
				i--
			}
		}
	}
	keys := make([]string, 0, n)
	for k, e := range c.State.keys {
		if live(e) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // inside an entry, map order must not choose the key
	return resp.BulkString(keys[rand.New(rand.NewPCG(c.Index, uint64(c.Item))).IntN(n)])
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
	if c.counts != nil && n > 0 {
		c.counts.expired.Add(uint64(n))
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
