package fsm

import (
	"math"
	"sort"

	"github.com/kvorum/kvorum/resp"
)

// zset is a sorted set: members ordered by (score, member), with a map
// for O(1) score lookups. The order is a sorted slice: O(log n) to find,
// O(n) to insert or remove, which suits the schedules of a task queue. It
// changes in place, copied first by State.mutable when a snapshot may
// share it, like list.
type zset struct {
	scores map[string]float64
	order  []zmember
}

type zmember struct {
	member string
	score  float64
}

func newZset() *zset { return &zset{scores: make(map[string]float64)} }

func less(a, b zmember) bool {
	return a.score < b.score || (a.score == b.score && a.member < b.member)
}

// pos returns where m is, or would be inserted, in order.
func (z *zset) pos(m zmember) int {
	return sort.Search(len(z.order), func(i int) bool { return !less(z.order[i], m) })
}

func (z *zset) len() int { return len(z.order) }

// add sets member's score and reports whether it was new.
func (z *zset) add(member string, score float64) bool {
	old, exists := z.scores[member]
	if exists {
		if old == score {
			return false
		}
		z.remove(member)
	}
	m := zmember{member, score}
	i := z.pos(m)
	z.order = append(z.order, zmember{})
	copy(z.order[i+1:], z.order[i:])
	z.order[i] = m
	z.scores[member] = score
	return !exists
}

// remove deletes member and reports whether it was there.
func (z *zset) remove(member string) bool {
	score, ok := z.scores[member]
	if !ok {
		return false
	}
	i := z.pos(zmember{member, score})
	z.order = append(z.order[:i], z.order[i+1:]...)
	delete(z.scores, member)
	return true
}

func (z *zset) clone() *zset {
	c := &zset{scores: make(map[string]float64, len(z.scores)), order: append([]zmember(nil), z.order...)}
	for k, v := range z.scores {
		c.scores[k] = v
	}
	return c
}

// value is the set as a flat array member, score, ... in order (GET in
// native mode, and the snapshot record).
func (z *zset) value() resp.Value {
	out := make([]resp.Value, 0, 2*len(z.order))
	for _, m := range z.order {
		out = append(out, resp.BulkString(m.member), resp.Double(m.score))
	}
	return resp.Array(out...)
}

// zsetFromValue rebuilds a set from value()'s form (snapshot restore): a
// non-empty flat array of distinct scalar members, each followed by a
// double that is not NaN.
func zsetFromValue(v resp.Value) (*zset, bool) {
	e := v.Elems()
	if v.Kind() != resp.KindArray || len(e) == 0 || len(e)%2 != 0 {
		return nil, false
	}
	z := newZset()
	for i := 0; i < len(e); i += 2 {
		m, s := e[i], e[i+1]
		if !m.IsScalar() || m.IsNull() || s.Kind() != resp.KindDouble || math.IsNaN(s.Float()) || !z.add(m.Text(), s.Float()) {
			return nil, false
		}
	}
	return z, true
}
