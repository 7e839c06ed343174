package fsm

import (
	"math"
	"slices"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// Sorted set commands: the schedules of a task queue (ZADD a job at its due
// time, ZRANGEBYSCORE -inf now to find what is due, ZPOPMIN or BZPOPMIN to
// take it). Scores are doubles; ties order by member, so every reply is
// deterministic.
func zsetCommands() []Command {
	return []Command{
		{Name: "ZADD", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZAdd},
		{Name: "ZREM", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRem},
		{Name: "ZREMRANGEBYSCORE", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRemRangeByScore},
		{Name: "ZPOPMIN", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZPop},
		{Name: "ZPOPMAX", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZPop},
		{Name: "BZPOPMIN", Arity: -3, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Run: bzpop(false),
			Undo: undoBZPop, Pops: (*Entry).isZSet, TimeoutReply: resp.NullArray()},
		{Name: "BZPOPMAX", Arity: -3, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Run: bzpop(true),
			Undo: undoBZPop, Pops: (*Entry).isZSet, TimeoutReply: resp.NullArray()},
		{Name: "ZSCORE", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZScore},
		{Name: "ZCARD", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZCard},
		{Name: "ZRANGE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRange},
		{Name: "ZRANGEBYSCORE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRangeByScore},
		{Name: "ZREVRANGEBYSCORE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRangeByScore},
	}
}

var (
	errNotFloat  = resp.Err("ERR value is not a valid float")
	errMinMax    = resp.Err("ERR min or max is not a float")
	errZAddFlags = resp.Err("ERR XX and NX options at the same time are not compatible")
	errGTLTNX    = resp.Err("ERR GT, LT, and/or NX options at the same time are not compatible")
)

// zsetOf returns key's sorted set for reading (nil if missing), or WRONGTYPE.
func zsetOf(c *Ctx, keyArg resp.Value) (string, *zset, resp.Value, bool) {
	key, e, errv, ok := lookupKind(c, keyArg, func(e *Entry) bool { return e.zset != nil })
	if e == nil {
		return key, nil, errv, ok
	}
	return key, e.zset, errv, ok
}

// mutableZset returns key's set ready to change, creating it if create.
func mutableZset(c *Ctx, key string, create bool) *Entry {
	e := c.State.mutable(key, c.Now)
	if e == nil {
		if !create {
			return nil
		}
		e = &Entry{zset: newZset()}
		c.State.put(key, e)
	}
	e.Mod = c.Index
	return e
}

func dropEmptyZset(c *Ctx, key string, e *Entry) {
	if e.zset.len() == 0 {
		delete(c.State.keys, key)
	}
}

func argScore(v resp.Value) (float64, bool) {
	if !v.IsScalar() {
		return 0, false
	}
	f, err := resp.ParseDouble([]byte(v.Text()))
	return f, err == nil
}

// cmdZAdd serves ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ....
func cmdZAdd(c *Ctx, args []resp.Value) resp.Value {
	o, rest, errv := zaddOptions(args)
	if errv.IsError() {
		return errv
	}
	scores := make([]float64, len(rest)/2)
	for j := range scores {
		f, ok := argScore(rest[2*j])
		if !ok {
			return errNotFloat
		}
		scores[j] = f
	}
	key, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil && o.xx {
		if o.incr {
			return resp.NullBulk()
		}
		return resp.Int(0)
	}
	e := mutableZset(c, key, true)
	var added, changed int64
	var last resp.Value = resp.NullBulk()
	for j, score := range scores {
		member := rest[2*j+1].Text()
		old, exists := e.zset.scores[member]
		if o.incr && exists {
			score += old
			if math.IsNaN(score) {
				return resp.Err("ERR resulting score is not a number (NaN)")
			}
		}
		if (o.nx && exists) || (o.xx && !exists) || (exists && o.gt && score <= old) || (exists && o.lt && score >= old) {
			continue
		}
		if e.zset.add(member, score) {
			added++
		} else if exists && old != score {
			changed++
		}
		last = resp.Double(score)
	}
	dropEmptyZset(c, key, e) // XX on a new key may have added nothing
	c.Pushed = append(c.Pushed, key)
	switch {
	case o.incr:
		return last
	case o.ch:
		return resp.Int(added + changed)
	}
	return resp.Int(added)
}

// zaddOpts are ZADD's flags.
type zaddOpts struct{ nx, xx, gt, lt, ch, incr bool }

// zaddOptions parses ZADD's flags and returns them with the score/member
// pairs that follow, or the error for a bad combination.
func zaddOptions(args []resp.Value) (o zaddOpts, rest []resp.Value, errv resp.Value) {
	i := 2
flags:
	for ; i < len(args); i++ {
		switch argUpper(args[i]) {
		case "NX":
			o.nx = true
		case "XX":
			o.xx = true
		case "GT":
			o.gt = true
		case "LT":
			o.lt = true
		case "CH":
			o.ch = true
		case "INCR":
			o.incr = true
		default:
			break flags
		}
	}
	rest = args[i:]
	switch {
	case len(rest) == 0 || len(rest)%2 != 0:
		return o, nil, errSyntax
	case o.nx && o.xx:
		return o, nil, errZAddFlags
	case (o.gt && o.lt) || (o.nx && (o.gt || o.lt)):
		return o, nil, errGTLTNX
	case o.incr && len(rest) != 2:
		return o, nil, resp.Err("ERR INCR option supports a single increment-element pair")
	}
	return o, rest, resp.Value{}
}

func cmdZRem(c *Ctx, args []resp.Value) resp.Value {
	key, z, errv, ok := zsetOf(c, args[1])
	if !ok || z == nil {
		if !ok {
			return errv
		}
		return resp.Int(0)
	}
	e := mutableZset(c, key, false)
	var n int64
	for _, m := range args[2:] {
		if e.zset.remove(m.Text()) {
			n++
		}
	}
	dropEmptyZset(c, key, e)
	return resp.Int(n)
}

func cmdZScore(c *Ctx, args []resp.Value) resp.Value {
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z != nil {
		if s, ok := z.scores[args[2].Text()]; ok {
			return resp.Double(s)
		}
	}
	return resp.NullBulk()
}

func cmdZCard(c *Ctx, args []resp.Value) resp.Value {
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil {
		return resp.Int(0)
	}
	return resp.Int(int64(z.len()))
}

// members renders members (with scores if asked) as a reply.
func members(ms []zmember, withScores bool) resp.Value {
	out := make([]resp.Value, 0, len(ms)*2)
	for _, m := range ms {
		out = append(out, resp.BulkString(m.member))
		if withScores {
			out = append(out, resp.Double(m.score))
		}
	}
	return resp.Array(out...)
}

// rangeOptions are the options after a range's bounds: ZRANGE takes them
// all, ZRANGEBYSCORE and ZREVRANGEBYSCORE WITHSCORES and LIMIT.
type rangeOptions struct {
	byScore, rev, withScores, limit bool
	offset, count                   int64
}

func parseRangeOptions(args []resp.Value, all bool) (rangeOptions, resp.Value, bool) {
	o := rangeOptions{count: -1}
	for i := 0; i < len(args); i++ {
		switch opt := argUpper(args[i]); {
		case opt == "WITHSCORES":
			o.withScores = true
		case opt == "LIMIT":
			if i+2 >= len(args) {
				return o, errSyntax, false
			}
			var ok1, ok2 bool
			o.offset, ok1 = argInt(args[i+1])
			o.count, ok2 = argInt(args[i+2])
			if !ok1 || !ok2 {
				return o, errNotInt, false
			}
			o.limit = true
			i += 2
		case all && opt == "BYSCORE":
			o.byScore = true
		case all && opt == "REV":
			o.rev = true
		default:
			return o, errSyntax, false
		}
	}
	return o, resp.Value{}, true
}

// cmdZRange serves ZRANGE key start stop [BYSCORE] [REV] [LIMIT offset
// count] [WITHSCORES]: by index, or by score (with REV, start is the
// maximum). BYLEX is not supported.
func cmdZRange(c *Ctx, args []resp.Value) resp.Value {
	o, errv, ok := parseRangeOptions(args[4:], true)
	if !ok {
		return errv
	}
	if o.byScore {
		return zrangeByScore(c, args[1], args[2], args[3], o)
	}
	if o.limit {
		return resp.Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	}
	start, ok1 := argInt(args[2])
	stop, ok2 := argInt(args[3])
	if !ok1 || !ok2 {
		return errNotInt
	}
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil {
		return resp.Array()
	}
	lo, hi := clampRange(start, stop, z.len())
	ms := make([]zmember, hi-lo)
	for i := range ms {
		if o.rev {
			ms[i] = z.order[z.len()-1-(lo+i)]
		} else {
			ms[i] = z.order[lo+i]
		}
	}
	return members(ms, o.withScores)
}

// scoreBound is one end of a score range: "(1.5" excludes, "-inf"/"+inf".
type scoreBound struct {
	v    float64
	excl bool
}

func parseBound(v resp.Value) (scoreBound, bool) {
	s := v.Text()
	b := scoreBound{}
	if strings.HasPrefix(s, "(") {
		b.excl, s = true, s[1:]
	}
	f, err := resp.ParseDouble([]byte(s))
	if err != nil || !v.IsScalar() {
		return b, false
	}
	b.v = f
	return b, true
}

func (b scoreBound) below(f float64) bool { return f > b.v || (!b.excl && f == b.v) } // f >= min
func (b scoreBound) above(f float64) bool { return f < b.v || (!b.excl && f == b.v) } // f <= max

// inRange returns the members with min <= score <= max, in order.
func (z *zset) inRange(min, max scoreBound) []zmember {
	i := z.pos(zmember{score: min.v})
	var out []zmember
	for ; i < len(z.order); i++ {
		m := z.order[i]
		if !max.above(m.score) {
			break
		}
		if min.below(m.score) {
			out = append(out, m)
		}
	}
	return out
}

// cmdZRangeByScore serves ZRANGEBYSCORE key min max and ZREVRANGEBYSCORE key
// max min, with [WITHSCORES] [LIMIT offset count].
func cmdZRangeByScore(c *Ctx, args []resp.Value) resp.Value {
	o, errv, ok := parseRangeOptions(args[4:], false)
	if !ok {
		return errv
	}
	o.rev = argUpper(args[0]) == "ZREVRANGEBYSCORE"
	return zrangeByScore(c, args[1], args[2], args[3], o)
}

// zrangeByScore answers a range by score: the members between the bounds
// (from, to: min and max, or max and min if o.rev), in order or reversed,
// after o.offset, at most o.count of them if o.count >= 0.
func zrangeByScore(c *Ctx, keyArg, from, to resp.Value, o rangeOptions) resp.Value {
	if o.rev {
		from, to = to, from
	}
	min, ok1 := parseBound(from)
	max, ok2 := parseBound(to)
	if !ok1 || !ok2 {
		return errMinMax
	}
	_, z, errv, ok := zsetOf(c, keyArg)
	if !ok {
		return errv
	}
	if z == nil || o.offset < 0 {
		return resp.Array()
	}
	ms := z.inRange(min, max)
	if o.rev {
		slices.Reverse(ms)
	}
	if o.offset >= int64(len(ms)) {
		return resp.Array()
	}
	ms = ms[o.offset:]
	if o.count >= 0 && o.count < int64(len(ms)) {
		ms = ms[:o.count]
	}
	return members(ms, o.withScores)
}

func cmdZRemRangeByScore(c *Ctx, args []resp.Value) resp.Value {
	min, ok1 := parseBound(args[2])
	max, ok2 := parseBound(args[3])
	if !ok1 || !ok2 {
		return errMinMax
	}
	key, z, errv, ok := zsetOf(c, args[1])
	if !ok || z == nil {
		if !ok {
			return errv
		}
		return resp.Int(0)
	}
	gone := z.inRange(min, max)
	if len(gone) == 0 {
		return resp.Int(0)
	}
	e := mutableZset(c, key, false)
	for _, m := range gone {
		e.zset.remove(m.member)
	}
	dropEmptyZset(c, key, e)
	return resp.Int(int64(len(gone)))
}

// popZ removes up to n members from the low (or high) end.
func popZ(c *Ctx, key string, n int, max bool) []zmember {
	e := mutableZset(c, key, false)
	n = min(n, e.zset.len())
	out := make([]zmember, n)
	for i := range out {
		if max {
			out[i] = e.zset.order[e.zset.len()-1]
		} else {
			out[i] = e.zset.order[0]
		}
		e.zset.remove(out[i].member)
	}
	dropEmptyZset(c, key, e)
	return out
}

// cmdZPop serves ZPOPMIN/ZPOPMAX key [count]. Like Redis 7, it answers a
// flat [member, score, ...] array, except to a RESP3 connection that gave
// a count: there each popped member is its own [member, score] pair.
func cmdZPop(c *Ctx, args []resp.Value) resp.Value {
	if len(args) > 3 {
		return errSyntax
	}
	count := int64(1)
	if len(args) == 3 {
		var ok bool
		if count, ok = argInt(args[2]); !ok || count < 0 {
			return resp.Err("ERR value is out of range, must be positive")
		}
	}
	key, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil {
		return resp.Array()
	}
	ms := popZ(c, key, int(count), argUpper(args[0]) == "ZPOPMAX")
	if len(args) == 3 && c.Mode == resp.RESP3 {
		return memberPairs(ms)
	}
	return members(ms, true)
}

// memberPairs renders members as an array of [member, score] pairs.
func memberPairs(ms []zmember) resp.Value {
	out := make([]resp.Value, len(ms))
	for i, m := range ms {
		out[i] = resp.Array(resp.BulkString(m.member), resp.Double(m.score))
	}
	return resp.Array(out...)
}

// undoBZPop gives back what a BZPOPMIN/BZPOPMAX attempt took (reply [key,
// member, score]), unless the member has been added again since.
func undoBZPop(args []resp.Value, reply resp.Value) []resp.Value {
	e := reply.Elems()
	return []resp.Value{resp.BulkString("ZADD"), e[0], resp.BulkString("NX"), resp.BulkString(e[2].Text()), e[1]}
}

// bzpop returns one attempt of BZPOPMIN (or BZPOPMAX, max) key...
// timeout: [key, member, score] from the first non-empty set, or a null
// array. Like BLPOP, key by key: a key of another kind before the first
// non-empty set answers WRONGTYPE.
func bzpop(max bool) func(c *Ctx, args []resp.Value) resp.Value {
	return func(c *Ctx, args []resp.Value) resp.Value {
		if _, errv, ok := BlockTimeout(args); !ok {
			return errv
		}
		for _, k := range args[1 : len(args)-1] {
			key, z, errv, ok := zsetOf(c, k)
			if !ok {
				return errv
			}
			if z == nil {
				continue
			}
			m := popZ(c, key, 1, max)[0]
			return resp.Array(resp.BulkString(key), resp.BulkString(m.member), resp.Double(m.score))
		}
		return resp.NullArray()
	}
}
