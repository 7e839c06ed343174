package fsm

import (
	"slices"

	"github.com/kvorum/kvorum/resp"
)

// list is a key's list kept as a deque, so pushes and pops at either end
// cost O(1) amortised instead of copying an immutable array each time. It
// is changed in place; State.mutable copies it first when a snapshot may
// still be reading it (see Entry.gen).
type list struct {
	items []resp.Value // items[head:] are the elements, front first
	head  int
}

func newList(elems []resp.Value) *list {
	l := &list{items: make([]resp.Value, 0, max(len(elems), 4))}
	l.items = append(l.items, elems...)
	return l
}

func (l *list) len() int { return len(l.items) - l.head }

// at returns the i-th element from the front (0 <= i < len).
func (l *list) at(i int) resp.Value { return l.items[l.head+i] }

func (l *list) set(i int, v resp.Value) { l.items[l.head+i] = v }

func (l *list) pushBack(v resp.Value) { l.items = append(l.items, v) }

func (l *list) pushFront(v resp.Value) {
	if l.head == 0 {
		// Make room at the front: as much again as the list holds.
		room := max(l.len(), 4)
		grown := make([]resp.Value, room+l.len(), room+cap(l.items)-l.head)
		copy(grown[room:], l.items[l.head:])
		l.items, l.head = grown, room
	}
	l.head--
	l.items[l.head] = v
}

func (l *list) popFront() resp.Value {
	v := l.items[l.head]
	l.items[l.head] = resp.Value{}
	l.head++
	l.compact()
	return v
}

func (l *list) popBack() resp.Value {
	n := len(l.items) - 1
	v := l.items[n]
	l.items[n] = resp.Value{}
	l.items = l.items[:n]
	l.compact()
	return v
}

// compact drops the unused front once it is most of the backing array, so
// a queue that is pushed at one end and popped at the other does not grow.
func (l *list) compact() {
	if l.head > 32 && l.head > l.len() {
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items, l.head = l.items[:n], 0
	}
}

// insert puts v before the i-th element from the front (0 <= i <= len).
func (l *list) insert(i int, v resp.Value) {
	if i == 0 {
		l.pushFront(v)
		return
	}
	l.items = slices.Insert(l.items, l.head+i, v)
}

// slice returns a copy of elements [start, stop) (already clamped).
func (l *list) slice(start, stop int) []resp.Value {
	out := make([]resp.Value, stop-start)
	copy(out, l.items[l.head+start:l.head+stop])
	return out
}

// replace sets the elements to elems (owned by the list afterwards).
func (l *list) replace(elems []resp.Value) { l.items, l.head = elems, 0 }

// value returns the list as an array value (a copy).
func (l *list) value() resp.Value { return resp.Array(l.slice(0, l.len())...) }

func (l *list) clone() *list { return newList(l.items[l.head:]) }
