package fsm

import (
	"github.com/kvorum/kvorum/resp"
)

// State is the keyspace. It is not safe for concurrent use: FSM guards it.
type State struct {
	keys map[string]*Entry
	// gen counts snapshots taken of this state. An entry created in an
	// older generation may be held by a snapshot still being written, so
	// it is copied (mutable) before anything in it changes in place.
	gen uint64
}

// NewState returns an empty keyspace.
func NewState() *State { return &State{keys: make(map[string]*Entry)} }

// Entry is one key's value and metadata. A snapshot holds entry pointers
// while writes go on, so an entry is either replaced or, for the mutable
// kinds (lists), changed in place only after State.mutable has made sure
// no snapshot shares it.
type Entry struct {
	Value  resp.Value // owned by the entry (cloned from the request); unused when list is set
	list   *list      // a list being pushed and popped (LPUSH, ...); nil for other values
	zset   *zset      // a sorted set (ZADD, ...); nil for other values
	set    set        // a set (SADD, ...); nil for other values
	Expire int64      // Unix ms deadline; 0 means none
	Mod    uint64     // log index of the last change (for WATCH)
	gen    uint64     // State.gen when this entry was made
}

// Val returns the entry's value: a list as an array (a copy).
func (e *Entry) Val() resp.Value {
	if e.list != nil {
		return e.list.value()
	}
	if e.zset != nil {
		return e.zset.value()
	}
	if e.set != nil {
		return e.set.value()
	}
	return e.Value
}

// isList reports whether the value is a list (an array, or a deque).
func (e *Entry) isList() bool {
	return e.list != nil || (e.zset == nil && e.set == nil && e.Value.Kind() == resp.KindArray)
}

// mutable returns key's live entry ready to be changed in place: copied
// first if a snapshot may share it, and with an array value turned into a
// deque. It returns nil if the key is missing.
func (s *State) mutable(key string, now int64) *Entry {
	e := s.get(key, now)
	if e == nil {
		return nil
	}
	if e.gen != s.gen {
		c := *e
		if c.list != nil {
			c.list = c.list.clone()
		}
		if c.zset != nil {
			c.zset = c.zset.clone()
		}
		if c.set != nil {
			c.set = c.set.clone()
		}
		c.gen = s.gen
		e = &c
		s.keys[key] = e
	}
	if e.list == nil && e.Value.Kind() == resp.KindArray && !e.Value.IsNull() {
		e.list = newList(e.Value.Elems())
		e.Value = resp.Value{}
	}
	return e
}

// Len returns the number of keys, counting ones whose deadline has passed
// but that are not yet deleted.
func (s *State) Len() int { return len(s.keys) }

// keyOf returns the map key for a key argument: strings as they are,
// integers as their decimal text. Aggregates are not keys.
func keyOf(v resp.Value) (string, bool) {
	switch v.Kind() {
	case resp.KindBulk, resp.KindSimple:
		return string(v.Bytes()), !v.IsNull()
	case resp.KindInt, resp.KindDouble, resp.KindBool:
		return v.Text(), true
	}
	return "", false
}

// get returns the live entry of key at time now, or nil.
func (s *State) get(key string, now int64) *Entry {
	e := s.keys[key]
	if e == nil || (e.Expire != 0 && e.Expire <= now) {
		return nil
	}
	return e
}

// put stores a new entry for key.
func (s *State) put(key string, e *Entry) {
	e.gen = s.gen
	s.keys[key] = e
}

// del removes key and reports whether it was live at now.
func (s *State) del(key string, now int64) bool {
	e, ok := s.keys[key]
	if !ok {
		return false
	}
	delete(s.keys, key)
	return e.Expire == 0 || e.Expire > now
}

// typeName is what TYPE answers for an entry.
func typeName(e *Entry) string {
	if e.list != nil {
		return "list"
	}
	if e.zset != nil {
		return "zset"
	}
	if e.set != nil {
		return "set"
	}
	v := e.Value
	switch v.Kind() {
	case resp.KindArray:
		return "list"
	case resp.KindDict:
		return "hash"
	}
	return "string"
}

// with returns a new entry holding e's value with another deadline and
// modification index (EXPIRE, PERSIST, RENAME). A list is copied, so the
// new entry never shares a deque with one a snapshot may hold.
func (e *Entry) with(expire int64, mod uint64) *Entry {
	c := &Entry{Value: e.Value, Expire: expire, Mod: mod}
	if e.list != nil {
		c.list = e.list.clone()
	}
	if e.zset != nil {
		c.zset = e.zset.clone()
	}
	if e.set != nil {
		c.set = e.set.clone()
	}
	return c
}

// lookupKind returns the live entry of a key argument if it holds the kind
// is accepts: (key, nil, _, true) if missing, WRONGTYPE if another kind.
// Each family's accessor (listOf, hashOf, setOf, zsetOf) is built on it.
func lookupKind(c *Ctx, keyArg resp.Value, is func(*Entry) bool) (string, *Entry, resp.Value, bool) {
	key, ok := keyOf(keyArg)
	if !ok {
		return "", nil, errBadKey, false
	}
	e := c.State.get(key, c.Now)
	if e != nil && !is(e) {
		return key, nil, errWrongType, false
	}
	return key, e, resp.Value{}, true
}
