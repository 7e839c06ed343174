package fsm

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// Sorted set commands: the schedules of a task queue (ZADD a job at its due
// time, ZRANGEBYSCORE -inf now to find what is due, ZPOPMIN or BZPOPMIN to
// take it), and the rest of Redis 7.0's family: ranges by rank, score and
// lex (ZRANGE's whole syntax and the commands it grew from, ZRANGESTORE),
// counts, ranks, removals, ZINCRBY, ZMSCORE, ZRANDMEMBER, ZSCAN, and the
// algebra (zsetalgebra.go). Scores are doubles; ties order by member, so
// every reply is deterministic, except ZRANDMEMBER's: a read, it picks at
// random as Redis does. ZMPOP and BZMPOP are in mpop.go.
func zsetCommands() []Command {
	rows := []Command{
		{Name: "ZADD", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZAdd},
		{Name: "ZINCRBY", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZIncrBy},
		{Name: "ZREM", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRem},
		{Name: "ZREMRANGEBYSCORE", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRemRangeByScore},
		{Name: "ZREMRANGEBYRANK", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRemRangeByRank},
		{Name: "ZREMRANGEBYLEX", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRemRangeByLex},
		{Name: "ZRANGESTORE", Arity: -5, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdZRangeStore},
		{Name: "ZPOPMIN", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZPop},
		{Name: "ZPOPMAX", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZPop},
		{Name: "BZPOPMIN", Arity: -3, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Run: bzpop(false),
			Undo: undoBZPop, Pops: (*Entry).isZSet, TimeoutReply: resp.NullArray()},
		{Name: "BZPOPMAX", Arity: -3, Flags: Write | Blocking, FirstKey: 1, LastKey: -2, Step: 1, Run: bzpop(true),
			Undo: undoBZPop, Pops: (*Entry).isZSet, TimeoutReply: resp.NullArray()},
		{Name: "ZSCORE", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZScore},
		{Name: "ZMSCORE", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZMScore},
		{Name: "ZCARD", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZCard},
		{Name: "ZCOUNT", Arity: 4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZCount},
		{Name: "ZLEXCOUNT", Arity: 4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZLexCount},
		{Name: "ZRANK", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRank},
		{Name: "ZREVRANK", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRank},
		{Name: "ZRANGE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: zrangeCommand(rangeAuto, dirAuto)},
		{Name: "ZREVRANGE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: zrangeCommand(rangeRank, dirReverse)},
		{Name: "ZRANGEBYSCORE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: zrangeCommand(rangeScore, dirForward)},
		{Name: "ZREVRANGEBYSCORE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: zrangeCommand(rangeScore, dirReverse)},
		{Name: "ZRANGEBYLEX", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: zrangeCommand(rangeLex, dirForward)},
		{Name: "ZREVRANGEBYLEX", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: zrangeCommand(rangeLex, dirReverse)},
		{Name: "ZRANDMEMBER", Arity: -2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZRandMember},
		{Name: "ZSCAN", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdZScan},
	}
	return append(rows, zsetAlgebraCommands()...)
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

// members renders members (with scores if asked) as a flat reply.
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

// scoredReply renders members as Redis 7 answers a range: with scores, a
// flat [member, score, ...] array, except to a RESP3 connection, which
// gets a [member, score] pair for each member.
func scoredReply(c *Ctx, ms []zmember, withScores bool) resp.Value {
	if withScores && c.Mode == resp.RESP3 {
		return memberPairs(ms)
	}
	return members(ms, withScores)
}

// How a range request reads its bounds (ZRANGE's BYSCORE and BYLEX), and
// in which direction (REV); rangeAuto and dirAuto leave it to the options.
type zrangeKind int

const (
	rangeAuto zrangeKind = iota
	rangeRank
	rangeScore
	rangeLex
)

type zrangeDir int

const (
	dirAuto zrangeDir = iota
	dirForward
	dirReverse
)

var (
	errLexRange   = resp.Err("ERR min or max not valid string range item")
	errLimitRank  = resp.Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	errLexScores  = resp.Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	errNaNScore   = resp.Err("ERR resulting score is not a number (NaN)")
	errOutOfRange = resp.Err("ERR value is out of range")
)

// zrangeCommand returns the Run of a range command of fixed kind and
// direction: ZRANGE (both auto), ZREVRANGE, ZRANGEBYSCORE, ZRANGEBYLEX, ...
func zrangeCommand(kind zrangeKind, dir zrangeDir) func(c *Ctx, args []resp.Value) resp.Value {
	return func(c *Ctx, args []resp.Value) resp.Value { return zrangeGeneric(c, args, 1, false, kind, dir) }
}

// cmdZRangeStore serves ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV]
// [LIMIT offset count]: the range replaces dst (an empty one deletes it),
// and the reply is its size.
func cmdZRangeStore(c *Ctx, args []resp.Value) resp.Value {
	return zrangeGeneric(c, args, 2, true, rangeAuto, dirAuto)
}

// zrangeGeneric is Redis's zrangeGenericCommand: the source key is at
// position at, its bounds follow, then the options. It checks in Redis's
// order: the options, their conflicts, the bounds, then the key.
func zrangeGeneric(c *Ctx, args []resp.Value, at int, store bool, kind zrangeKind, dir zrangeDir) resp.Value {
	minArg, maxArg := args[at+1], args[at+2]
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := at + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch opt := argUpper(args[j]); {
		case !store && opt == "WITHSCORES":
			withScores = true
		case opt == "LIMIT" && left >= 2:
			var ok bool
			if offset, ok = argInt(args[j+1]); !ok {
				return errNotInt
			}
			if limit, ok = argInt(args[j+2]); !ok {
				return errNotInt
			}
			j += 2
		case dir == dirAuto && opt == "REV":
			dir = dirReverse
		case kind == rangeAuto && opt == "BYLEX":
			kind = rangeLex
		case kind == rangeAuto && opt == "BYSCORE":
			kind = rangeScore
		default:
			return errSyntax
		}
	}
	if kind == rangeAuto {
		kind = rangeRank
	}
	rev := dir == dirReverse
	switch {
	case limit != -1 && kind == rangeRank:
		return errLimitRank
	case withScores && kind == rangeLex:
		return errLexScores
	}
	if rev && kind != rangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var start, stop int64
	var smin, smax scoreBound
	var lmin, lmax lexBound
	switch kind {
	case rangeRank:
		var ok bool
		if start, ok = argInt(minArg); !ok {
			return errNotInt
		}
		if stop, ok = argInt(maxArg); !ok {
			return errNotInt
		}
	case rangeScore:
		var ok1, ok2 bool
		smin, ok1 = parseBound(minArg)
		smax, ok2 = parseBound(maxArg)
		if !ok1 || !ok2 {
			return errMinMax
		}
	case rangeLex:
		var ok1, ok2 bool
		lmin, ok1 = parseLexBound(minArg)
		lmax, ok2 = parseLexBound(maxArg)
		if !ok1 || !ok2 {
			return errLexRange
		}
	}
	_, z, errv, ok := zsetOf(c, args[at])
	if !ok {
		return errv
	}
	var ms []zmember
	if z != nil {
		switch kind {
		case rangeRank:
			ms = z.byRank(start, stop, rev)
		case rangeScore:
			ms = pageOf(z.inRange(smin, smax), rev, offset, limit)
		case rangeLex:
			ms = pageOf(z.inLexRange(lmin, lmax), rev, offset, limit)
		}
	}
	if store {
		return storeZ(c, args[1], ms)
	}
	return scoredReply(c, ms, withScores)
}

// storeZ replaces dstArg's key with a sorted set of ms, distinct members
// in any order (deletes the key if ms is empty), and answers its size: the
// STORE commands' ending. The new key has no deadline, as in Redis.
func storeZ(c *Ctx, dstArg resp.Value, ms []zmember) resp.Value {
	dst, ok := keyOf(dstArg)
	if !ok {
		return errBadKey
	}
	if len(ms) == 0 {
		c.State.del(dst, c.Now)
		return resp.Int(0)
	}
	z := &zset{scores: make(map[string]float64, len(ms)), order: slices.Clone(ms)}
	for _, m := range ms {
		z.scores[m.member] = m.score
	}
	sortMembers(z.order)
	c.State.put(dst, &Entry{zset: z, Mod: c.Index})
	c.Pushed = append(c.Pushed, dst)
	return resp.Int(int64(z.len()))
}

// byRank returns the members from rank start to stop (negative from the
// end), counting from the highest score if rev.
func (z *zset) byRank(start, stop int64, rev bool) []zmember {
	lo, hi := clampRange(start, stop, z.len())
	ms := make([]zmember, hi-lo)
	for i := range ms {
		if rev {
			ms[i] = z.order[z.len()-1-(lo+i)]
		} else {
			ms[i] = z.order[lo+i]
		}
	}
	return ms
}

// pageOf reverses ms if rev, then skips offset members and keeps at most
// limit (all if limit is negative); a negative offset leaves nothing, as
// in Redis.
func pageOf(ms []zmember, rev bool, offset, limit int64) []zmember {
	if offset < 0 || offset >= int64(len(ms)) {
		return nil
	}
	if rev {
		slices.Reverse(ms)
	}
	ms = ms[offset:]
	if limit >= 0 && limit < int64(len(ms)) {
		ms = ms[:limit]
	}
	return ms
}

// scoreBound is one end of a score range: "(1.5" excludes, "-inf"/"+inf".
type scoreBound struct {
	v    float64
	excl bool
}

// parseBound reads a score range's end as Redis's zslParseRange does, with
// C's strtod: leading white space is skipped, the empty text is 0, a
// number too large is infinite, and NaN is refused.
func parseBound(v resp.Value) (scoreBound, bool) {
	if !v.IsScalar() {
		return scoreBound{}, false
	}
	s := v.Text()
	b := scoreBound{}
	if strings.HasPrefix(s, "(") {
		b.excl, s = true, s[1:]
	}
	f, overflow, ok := strtod(s)
	if !ok && !overflow {
		return b, false
	}
	b.v = f
	return b, true
}

// strtod reads s whole as C's strtod does: leading white space skipped,
// "" is 0, NaN refused; a number too large is ±Inf with overflow set (and
// ok false), for the caller to take (a score bound) or refuse (a SORT
// weight, as Redis's ERANGE check does).
func strtod(s string) (f float64, overflow, ok bool) {
	if s == "" {
		return 0, false, true
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" {
		return 0, false, false
	}
	f, err := strconv.ParseFloat(t, 64)
	switch {
	case math.IsNaN(f):
		return 0, false, false
	case errors.Is(err, strconv.ErrRange):
		return f, true, false
	}
	return f, false, err == nil
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

// lexBound is one end of a lexicographic range: "[a" includes a, "(a"
// excludes it, "-" and "+" are below and above every member (inf -1, 1).
type lexBound struct {
	s    string
	excl bool
	inf  int
}

func parseLexBound(v resp.Value) (lexBound, bool) {
	if !v.IsScalar() {
		return lexBound{}, false
	}
	s := v.Text()
	switch {
	case s == "-":
		return lexBound{excl: true, inf: -1}, true
	case s == "+":
		return lexBound{excl: true, inf: 1}, true
	case strings.HasPrefix(s, "("):
		return lexBound{s: s[1:], excl: true}, true
	case strings.HasPrefix(s, "["):
		return lexBound{s: s[1:]}, true
	}
	return lexBound{}, false
}

// cmp compares s with the bound's value.
func (b lexBound) cmp(s string) int {
	if b.inf != 0 {
		return -b.inf
	}
	return strings.Compare(s, b.s)
}

func (b lexBound) gteMin(s string) bool {
	if b.excl {
		return b.cmp(s) > 0
	}
	return b.cmp(s) >= 0
}

func (b lexBound) lteMax(s string) bool {
	if b.excl {
		return b.cmp(s) < 0
	}
	return b.cmp(s) <= 0
}

// emptyLex reports whether min > max, or min == max with either excluded:
// a range nothing is in.
func emptyLex(min, max lexBound) bool {
	var c int
	switch {
	case min.inf != 0 || max.inf != 0:
		c = min.inf - max.inf
		if min.inf == 0 {
			c = -max.inf
		} else if max.inf == 0 {
			c = min.inf
		}
	default:
		c = strings.Compare(min.s, max.s)
	}
	return c > 0 || (c == 0 && (min.excl || max.excl))
}

// inLexRange returns the members between min and max by byte order, in
// order. Like Redis it assumes the members share one score: it starts at
// the first member not below min and stops at the first above max.
func (z *zset) inLexRange(min, max lexBound) []zmember {
	if emptyLex(min, max) {
		return nil
	}
	i := sort.Search(len(z.order), func(i int) bool { return min.gteMin(z.order[i].member) })
	var out []zmember
	for ; i < len(z.order) && max.lteMax(z.order[i].member); i++ {
		out = append(out, z.order[i])
	}
	return out
}

// removeAll removes ms from key's set and answers how many it removed.
func removeAll(c *Ctx, key string, ms []zmember) resp.Value {
	if len(ms) == 0 {
		return resp.Int(0)
	}
	e := mutableZset(c, key, false)
	for _, m := range ms {
		e.zset.remove(m.member)
	}
	dropEmptyZset(c, key, e)
	return resp.Int(int64(len(ms)))
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
	return removeAll(c, key, z.inRange(min, max))
}

// cmdZRemRangeByLex serves ZREMRANGEBYLEX key min max.
func cmdZRemRangeByLex(c *Ctx, args []resp.Value) resp.Value {
	min, ok1 := parseLexBound(args[2])
	max, ok2 := parseLexBound(args[3])
	if !ok1 || !ok2 {
		return errLexRange
	}
	key, z, errv, ok := zsetOf(c, args[1])
	if !ok || z == nil {
		if !ok {
			return errv
		}
		return resp.Int(0)
	}
	return removeAll(c, key, z.inLexRange(min, max))
}

// cmdZRemRangeByRank serves ZREMRANGEBYRANK key start stop.
func cmdZRemRangeByRank(c *Ctx, args []resp.Value) resp.Value {
	start, ok1 := argInt(args[2])
	stop, ok2 := argInt(args[3])
	if !ok1 || !ok2 {
		return errNotInt
	}
	key, z, errv, ok := zsetOf(c, args[1])
	if !ok || z == nil {
		if !ok {
			return errv
		}
		return resp.Int(0)
	}
	return removeAll(c, key, z.byRank(start, stop, false))
}

// cmdZCount serves ZCOUNT key min max.
func cmdZCount(c *Ctx, args []resp.Value) resp.Value {
	min, ok1 := parseBound(args[2])
	max, ok2 := parseBound(args[3])
	if !ok1 || !ok2 {
		return errMinMax
	}
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil {
		return resp.Int(0)
	}
	return resp.Int(int64(len(z.inRange(min, max))))
}

// cmdZLexCount serves ZLEXCOUNT key min max.
func cmdZLexCount(c *Ctx, args []resp.Value) resp.Value {
	min, ok1 := parseLexBound(args[2])
	max, ok2 := parseLexBound(args[3])
	if !ok1 || !ok2 {
		return errLexRange
	}
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil {
		return resp.Int(0)
	}
	return resp.Int(int64(len(z.inLexRange(min, max))))
}

// cmdZRank serves ZRANK and ZREVRANK key member: the member's rank from
// the lowest (highest) score, or null.
func cmdZRank(c *Ctx, args []resp.Value) resp.Value {
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil {
		return resp.NullBulk()
	}
	member := args[2].Text()
	score, ok := z.scores[member]
	if !ok {
		return resp.NullBulk()
	}
	r := z.pos(zmember{member, score})
	if argUpper(args[0]) == "ZREVRANK" {
		r = z.len() - 1 - r
	}
	return resp.Int(int64(r))
}

// cmdZMScore serves ZMSCORE key member...: each member's score or null.
func cmdZMScore(c *Ctx, args []resp.Value) resp.Value {
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	out := make([]resp.Value, len(args)-2)
	for i, m := range args[2:] {
		out[i] = resp.NullBulk()
		if z != nil {
			if s, ok := z.scores[m.Text()]; ok {
				out[i] = resp.Double(s)
			}
		}
	}
	return resp.Array(out...)
}

// cmdZIncrBy serves ZINCRBY key increment member: ZADD INCR's reply
// without its options.
func cmdZIncrBy(c *Ctx, args []resp.Value) resp.Value {
	incr, ok := argScore(args[2])
	if !ok {
		return errNotFloat
	}
	key, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	member := args[3].Text()
	score := incr
	if z != nil {
		if old, ok := z.scores[member]; ok {
			score += old
		}
	}
	if math.IsNaN(score) {
		return errNaNScore
	}
	mutableZset(c, key, true).zset.add(member, score)
	c.Pushed = append(c.Pushed, key)
	return resp.Double(score)
}

// maxRandRepeats bounds ZRANDMEMBER's negative count: Redis streams any
// count, kvorum builds its reply whole, and refuses (as out of range) a
// reply it could not hold.
const maxRandRepeats = 1 << 22

// cmdZRandMember serves ZRANDMEMBER key [count [WITHSCORES]]. It is a
// read, so it picks at random, as Redis does: a positive count gives
// distinct members (all of them if count is the size or more), a negative
// one -count members that may repeat.
func cmdZRandMember(c *Ctx, args []resp.Value) resp.Value {
	if len(args) == 2 {
		_, z, errv, ok := zsetOf(c, args[1])
		if !ok {
			return errv
		}
		if z == nil {
			return resp.NullBulk()
		}
		return resp.BulkString(z.order[rand.IntN(z.len())].member)
	}
	count, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	if count == math.MinInt64 {
		return resp.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
	}
	withScores := false
	if len(args) > 4 || (len(args) == 4 && argUpper(args[3]) != "WITHSCORES") {
		return errSyntax
	} else if len(args) == 4 {
		withScores = true
		if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
			return errOutOfRange
		}
	}
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	if z == nil || count == 0 {
		return resp.Array()
	}
	var ms []zmember
	switch n := z.len(); {
	case count < -maxRandRepeats:
		return errOutOfRange
	case count < 0:
		ms = make([]zmember, -count)
		for i := range ms {
			ms[i] = z.order[rand.IntN(n)]
		}
	case count >= int64(n):
		ms = z.order
	default:
		picked := rand.Perm(n)[:count]
		slices.Sort(picked)
		ms = make([]zmember, count)
		for i, p := range picked {
			ms[i] = z.order[p]
		}
	}
	return scoredReply(c, ms, withScores)
}

// scoreText spells a score as Redis 7.0 stores it in text (d2string): an
// integer within ±LLONG_MAX/2 as an integer, "inf" and "-inf", otherwise
// C's %.17g.
func scoreText(f float64) string {
	const half = float64(math.MaxInt64 / 2)
	switch {
	case math.IsInf(f, 0):
		return resp.FormatDouble(f)
	case f >= -half && f <= half && f == math.Trunc(f):
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// cmdZScan serves ZSCAN key cursor [MATCH pattern] [COUNT n]: like SCAN,
// the cursor is a position in the set's order; scores are strings spelt
// as Redis spells them.
func cmdZScan(c *Ctx, args []resp.Value) resp.Value {
	cursor, ok := argInt(args[2])
	if !ok || cursor < 0 {
		return resp.Err("ERR invalid cursor")
	}
	pattern, count := []byte("*"), int64(10)
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return errSyntax
		}
		switch argUpper(args[i]) {
		case "MATCH":
			pattern = []byte(args[i+1].Text())
		case "COUNT":
			if count, ok = argInt(args[i+1]); !ok {
				return errNotInt
			}
			if count < 1 {
				return errSyntax
			}
		default:
			return errSyntax
		}
	}
	_, z, errv, ok := zsetOf(c, args[1])
	if !ok {
		return errv
	}
	var out []resp.Value
	next := int64(0)
	if z != nil {
		i := int(min(cursor, int64(z.len())))
		end := int(min(int64(i)+count, int64(z.len())))
		for ; i < end; i++ {
			m := z.order[i]
			if Glob(pattern, []byte(m.member)) {
				out = append(out, resp.BulkString(m.member), resp.BulkString(scoreText(m.score)))
			}
		}
		if end < z.len() {
			next = int64(end)
		}
	}
	return resp.Array(resp.BulkString(strconv.FormatInt(next, 10)), resp.Array(out...))
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
