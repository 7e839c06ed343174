package fsm

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// The algebra of sorted sets (Redis 6.2 and 7.0): ZUNION, ZINTER, ZDIFF and
// their STORE forms, and ZINTERCARD. A plain set is an input too, each of
// its members scored 1, as in Redis. The result is computed whole, then
// replied or stored; no step depends on map order: a member's score is
// aggregated over the inputs in a fixed order (smallest input first, as
// Redis sorts them), and the result is ordered by (score, member).
func zsetAlgebraCommands() []Command {
	return []Command{
		{Name: "ZUNION", Arity: -3, Flags: Read, FirstKey: 2, LastKey: 2, Step: 1, KeysOf: NumKeys(1), Run: zalgebra(opUnion, false)},
		{Name: "ZINTER", Arity: -3, Flags: Read, FirstKey: 2, LastKey: 2, Step: 1, KeysOf: NumKeys(1), Run: zalgebra(opInter, false)},
		{Name: "ZDIFF", Arity: -3, Flags: Read, FirstKey: 2, LastKey: 2, Step: 1, KeysOf: NumKeys(1), Run: zalgebra(opDiff, false)},
		{Name: "ZINTERCARD", Arity: -3, Flags: Read, FirstKey: 2, LastKey: 2, Step: 1, KeysOf: NumKeys(1), Run: cmdZInterCard},
		{Name: "ZUNIONSTORE", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, KeysOf: NumKeys(2, 1), Run: zalgebra(opUnion, true)},
		{Name: "ZINTERSTORE", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, KeysOf: NumKeys(2, 1), Run: zalgebra(opInter, true)},
		{Name: "ZDIFFSTORE", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, KeysOf: NumKeys(2, 1), Run: zalgebra(opDiff, true)},
	}
}

type zop int

const (
	opUnion zop = iota
	opInter
	opDiff
)

type aggregate int

const (
	aggSum aggregate = iota
	aggMin
	aggMax
)

// zsource is one input of the algebra: a sorted set, a set (scores 1) or
// a missing key (neither), with its weight.
type zsource struct {
	z      *zset
	s      set
	weight float64
}

func (src *zsource) card() int {
	if src.z != nil {
		return src.z.len()
	}
	return len(src.s)
}

// score returns member's score in the input, unweighted.
func (src *zsource) score(member string) (float64, bool) {
	if src.z != nil {
		f, ok := src.z.scores[member]
		return f, ok
	}
	_, ok := src.s[member]
	return 1, ok
}

// each calls f with every member of the input and its unweighted score, in
// the set's order (a plain set's members sorted).
func (src *zsource) each(f func(member string, score float64)) {
	if src.z != nil {
		for _, m := range src.z.order {
			f(m.member, m.score)
		}
		return
	}
	for _, m := range src.s.sorted() {
		f(m, 1)
	}
}

// weighted is w*score, 0 where that is not a number (0 * inf), as in Redis.
func weighted(w, score float64) float64 {
	if f := w * score; !math.IsNaN(f) {
		return f
	}
	return 0
}

// aggregate combines a member's score so far with its next input's score.
// A sum of +inf and -inf is 0, as in Redis.
func (a aggregate) apply(acc, v float64) float64 {
	switch a {
	case aggMin:
		return min(acc, v)
	case aggMax:
		return max(acc, v)
	}
	if f := acc + v; !math.IsNaN(f) {
		return f
	}
	return 0
}

// zalgebraArgs is a parsed request of the family.
type zalgebraArgs struct {
	srcs       []zsource
	agg        aggregate
	withScores bool
	limit      int64 // ZINTERCARD's LIMIT; 0 means none
}

// parseZAlgebra reads numkeys (at position at), the input keys and the
// options, checking in Redis's order: numkeys, the count of keys, each
// key's kind, then the options left to right.
func parseZAlgebra(c *Ctx, args []resp.Value, at int, op zop, store, card bool) (zalgebraArgs, resp.Value, bool) {
	var a zalgebraArgs
	n, ok := argInt(args[at])
	if !ok {
		return a, errNotInt, false
	}
	if n < 1 {
		return a, resp.Err("ERR at least 1 input key is needed for '" + strings.ToLower(args[0].Text()) + "' command"), false
	}
	if n > int64(len(args)-at-1) {
		return a, errSyntax, false
	}
	a.srcs = make([]zsource, n)
	j := at + 1
	for i := range a.srcs {
		_, e, errv, ok := lookupKind(c, args[j], func(e *Entry) bool { return e.zset != nil || e.set != nil })
		if !ok {
			return a, errv, false
		}
		if e != nil {
			a.srcs[i].z, a.srcs[i].s = e.zset, e.set
		}
		a.srcs[i].weight = 1
		j++
	}
	for j < len(args) {
		remaining := len(args) - j
		opt := argUpper(args[j])
		switch {
		case op != opDiff && !card && remaining >= len(a.srcs)+1 && opt == "WEIGHTS":
			j++
			for i := range a.srcs {
				w, ok := argScore(args[j])
				if !ok {
					return a, resp.Err("ERR weight value is not a float"), false
				}
				a.srcs[i].weight = w
				j++
			}
		case op != opDiff && !card && remaining >= 2 && opt == "AGGREGATE":
			switch argUpper(args[j+1]) {
			case "SUM":
				a.agg = aggSum
			case "MIN":
				a.agg = aggMin
			case "MAX":
				a.agg = aggMax
			default:
				return a, errSyntax, false
			}
			j += 2
		case !store && !card && opt == "WITHSCORES":
			a.withScores = true
			j++
		case card && remaining >= 2 && opt == "LIMIT":
			l, ok := argInt(args[j+1])
			if !ok || l < 0 {
				return a, resp.Err("ERR LIMIT can't be negative"), false
			}
			a.limit = l
			j += 2
		default:
			return a, errSyntax, false
		}
	}
	return a, resp.Value{}, true
}

// zalgebra returns the command serving ZUNION/ZINTER/ZDIFF numkeys key...
// [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES], or with store their
// STORE form: dst numkeys key... [WEIGHTS w...] [AGGREGATE ...], which
// replaces dst with the result (deletes it if the result is empty) and
// answers the result's size.
func zalgebra(op zop, store bool) func(c *Ctx, args []resp.Value) resp.Value {
	return func(c *Ctx, args []resp.Value) resp.Value {
		at := 1
		if store {
			at = 2
		}
		a, errv, ok := parseZAlgebra(c, args, at, op, store, false)
		if !ok {
			return errv
		}
		ms := sortedMembers(a.compute(op))
		if store {
			return storeZ(c, args[1], ms)
		}
		return scoredReply(c, ms, a.withScores)
	}
}

// cmdZInterCard serves ZINTERCARD numkeys key... [LIMIT limit]: the size
// of the intersection, counted up to limit if it is not 0.
func cmdZInterCard(c *Ctx, args []resp.Value) resp.Value {
	a, errv, ok := parseZAlgebra(c, args, 1, opInter, false, true)
	if !ok {
		return errv
	}
	srcs := a.bySize()
	if srcs[0].card() == 0 {
		return resp.Int(0)
	}
	var n int64
	stop := false
	srcs[0].each(func(member string, _ float64) {
		if stop {
			return
		}
		for i := 1; i < len(srcs); i++ {
			if _, ok := srcs[i].score(member); !ok {
				return
			}
		}
		n++
		stop = a.limit > 0 && n >= a.limit
	})
	return resp.Int(n)
}

// bySize returns the inputs from the smallest to the largest, the order in
// which Redis visits them for a union or an intersection.
func (a *zalgebraArgs) bySize() []zsource {
	srcs := slices.Clone(a.srcs)
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].card() < srcs[j].card() })
	return srcs
}

// compute returns the result of op as member -> score.
func (a *zalgebraArgs) compute(op zop) map[string]float64 {
	out := make(map[string]float64)
	switch op {
	case opUnion:
		for _, src := range a.bySize() {
			src.each(func(member string, score float64) {
				v := weighted(src.weight, score)
				if acc, ok := out[member]; ok {
					v = a.agg.apply(acc, v)
				}
				out[member] = v
			})
		}
	case opInter:
		srcs := a.bySize()
		if srcs[0].card() == 0 {
			return out
		}
		srcs[0].each(func(member string, score float64) {
			acc := weighted(srcs[0].weight, score)
			for i := 1; i < len(srcs); i++ {
				s, ok := srcs[i].score(member)
				if !ok {
					return
				}
				acc = a.agg.apply(acc, weighted(srcs[i].weight, s))
			}
			out[member] = acc
		})
	case opDiff:
		a.srcs[0].each(func(member string, score float64) {
			for i := 1; i < len(a.srcs); i++ {
				if _, ok := a.srcs[i].score(member); ok {
					return
				}
			}
			out[member] = score
		})
	}
	return out
}

// sortedMembers orders member -> score as a sorted set orders its members.
func sortedMembers(scores map[string]float64) []zmember {
	ms := make([]zmember, 0, len(scores))
	for m, s := range scores {
		ms = append(ms, zmember{m, s})
	}
	sortMembers(ms)
	return ms
}

// sortMembers sorts distinct members by (score, member).
func sortMembers(ms []zmember) {
	slices.SortFunc(ms, func(a, b zmember) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
}
