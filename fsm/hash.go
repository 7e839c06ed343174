package fsm

import "github.com/kvorum/kvorum/resp"

// hash is a key's hash: its fields in insertion order, with an index from
// field name (its text) to position. HGET, HSET and HDEL cost O(1)
// (amortised); HGETALL, HKEYS and HVALS walk the fields in insertion order,
// never in Go's map order, so every replica answers alike. A deleted field
// leaves a hole that compact squeezes out once holes are half the slice.
// It changes in place, copied first by State.mutable when a snapshot may
// share it, like list.
type hash struct {
	index  map[string]int // field text -> position in fields
	fields []hfield
	holes  int // deleted fields still in fields
}

type hfield struct {
	name, val resp.Value // name keeps its kind (an integer key of a SET dict stays one)
	gone      bool
}

func newHash(n int) *hash {
	return &hash{index: make(map[string]int, n), fields: make([]hfield, 0, n)}
}

// hashFromPairs builds a hash from a dict's flat pairs (shared, not
// copied). A field named twice keeps its first place and value, as the
// reads of an unconverted dict value see it.
func hashFromPairs(pairs []resp.Value) *hash {
	h := newHash(len(pairs) / 2)
	for i := 0; i+1 < len(pairs); i += 2 {
		if _, ok := h.index[pairs[i].Text()]; !ok {
			h.set(pairs[i], pairs[i+1])
		}
	}
	return h
}

// len, get and each read a nil hash as an empty one (a missing key).

func (h *hash) len() int {
	if h == nil {
		return 0
	}
	return len(h.index)
}

func (h *hash) get(name string) (resp.Value, bool) {
	if h == nil {
		return resp.Value{}, false
	}
	i, ok := h.index[name]
	if !ok {
		return resp.Value{}, false
	}
	return h.fields[i].val, true
}

// set stores val under name (both owned by the hash afterwards) and
// reports whether the field is new. A field that exists keeps its place.
func (h *hash) set(name, val resp.Value) bool {
	if i, ok := h.index[name.Text()]; ok {
		h.fields[i].val = val
		return false
	}
	h.index[name.Text()] = len(h.fields)
	h.fields = append(h.fields, hfield{name: name, val: val})
	return true
}

// del removes a field and reports whether it was there.
func (h *hash) del(name string) bool {
	i, ok := h.index[name]
	if !ok {
		return false
	}
	delete(h.index, name)
	h.fields[i] = hfield{gone: true}
	h.holes++
	if h.holes > 16 && h.holes > len(h.fields)/2 {
		h.compact()
	}
	return true
}

func (h *hash) compact() {
	live := h.fields[:0]
	for _, f := range h.fields {
		if !f.gone {
			h.index[f.name.Text()] = len(live)
			live = append(live, f)
		}
	}
	clear(h.fields[len(live):])
	h.fields, h.holes = live, 0
}

// live returns the i-th live field (0 <= i < len()). It is O(1) when the
// hash has no holes, O(fields) otherwise.
func (h *hash) live(i int) hfield {
	if h.holes == 0 {
		return h.fields[i]
	}
	for _, f := range h.fields {
		if !f.gone {
			if i == 0 {
				return f
			}
			i--
		}
	}
	panic("fsm: hash.live out of range")
}

// each calls fn with every field in insertion order.
func (h *hash) each(fn func(name, val resp.Value)) {
	if h == nil {
		return
	}
	for _, f := range h.fields {
		if !f.gone {
			fn(f.name, f.val)
		}
	}
}

// value returns the hash as a dict value (a new element slice sharing the
// field values): GET in native mode, and the snapshot record.
func (h *hash) value() resp.Value {
	pairs := make([]resp.Value, 0, 2*h.len())
	h.each(func(name, val resp.Value) { pairs = append(pairs, name, val) })
	return resp.Dict(pairs...)
}

// clone returns a copy that shares no storage with h (field values are
// immutable once stored, so they are shared).
func (h *hash) clone() *hash {
	c := newHash(h.len())
	h.each(func(name, val resp.Value) { c.set(name, val) })
	return c
}
