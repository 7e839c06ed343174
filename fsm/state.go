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
	// sessions are the client sessions by id (sessions.go); sessionSweep
	// is the log time of the last sweep for idle ones.
	sessions     map[uint64]*session
	sessionSweep int64
}

// NewState returns an empty keyspace.
func NewState() *State { return &State{keys: make(map[string]*Entry)} }

// Entry is one key's value and metadata. A snapshot holds entry pointers
// while writes go on, so an entry is either replaced or, for the mutable
// kinds (lists), changed in place only after State.mutable has made sure
// no snapshot shares it.
//
// A list or hash stored with SET is a plain array or dict Value until the
// first list or hash write turns it into its container (State.mutable).
type Entry struct {
	Value  resp.Value // owned by the entry (cloned from the request); unused when a container is set
	list   *list      // a list being pushed and popped (LPUSH, ...); nil for other values
	hash   *hash      // a hash written by HSET, ...; nil for other values
	zset   *zset      // a sorted set (ZADD, ...); nil for other values
	set    set        // a set (SADD, ...); nil for other values
	stream *stream    // a stream (XADD, ...); nil for other values
	Expire int64      // Unix ms deadline; 0 means none
	Mod    uint64     // log index of the last change (for WATCH)
	gen    uint64     // State.gen when this entry was made
}

// Val returns the entry's value: a list as an array, a hash as a dict, a
// set as an array of its members, a sorted set as a flat array of members
// and scores (each a copy).
func (e *Entry) Val() resp.Value {
	if e.list != nil {
		return e.list.value()
	}
	if e.hash != nil {
		return e.hash.value()
	}
	if e.zset != nil {
		return e.zset.value()
	}
	if e.set != nil {
		return e.set.value()
	}
	if e.stream != nil {
		return e.stream.value()
	}
	return e.Value
}

// isList reports whether the value is a list (an array, or a deque).
func (e *Entry) isList() bool {
	return e.list != nil || (e.plain() && e.Value.Kind() == resp.KindArray)
}

// isHash reports whether the value is a hash (a dict, or a hash container).
func (e *Entry) isZSet() bool { return e.zset != nil }

func (e *Entry) isHash() bool {
	return e.hash != nil || (e.plain() && e.Value.Kind() == resp.KindDict)
}

// plain reports whether the entry holds a Value rather than a container.
func (e *Entry) plain() bool {
	return e.list == nil && e.hash == nil && e.set == nil && e.zset == nil && e.stream == nil
}

// mutable returns key's live entry ready to be changed in place: copied
// first if a snapshot may share it, and with an array value turned into a
// deque and a dict value into a hash. It returns nil if the key is missing.
// Callers have checked the entry's kind.
func (s *State) mutable(key string, now int64) *Entry {
	e := s.get(key, now)
	if e == nil {
		return nil
	}
	if e.gen != s.gen {
		c := *e
		c.cloneContainers()
		c.gen = s.gen
		e = &c
		s.keys[key] = e
	}
	if e.plain() && !e.Value.IsNull() {
		switch e.Value.Kind() {
		case resp.KindArray:
			e.list = newList(e.Value.Elems())
			e.Value = resp.Value{}
		case resp.KindDict:
			e.hash = hashFromPairs(e.Value.Elems())
			e.Value = resp.Value{}
		}
	}
	return e
}

// cloneContainers replaces e's container with a copy sharing no storage.
func (e *Entry) cloneContainers() {
	if e.list != nil {
		e.list = e.list.clone()
	}
	if e.hash != nil {
		e.hash = e.hash.clone()
	}
	if e.zset != nil {
		e.zset = e.zset.clone()
	}
	if e.set != nil {
		e.set = e.set.clone()
	}
	if e.stream != nil {
		e.stream = e.stream.clone()
	}
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
	if e.hash != nil {
		return "hash"
	}
	if e.zset != nil {
		return "zset"
	}
	if e.set != nil {
		return "set"
	}
	if e.stream != nil {
		return "stream"
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
// modification index (EXPIRE, PERSIST, RENAME). A container is copied, so
// the new entry never shares one a snapshot may hold.
func (e *Entry) with(expire int64, mod uint64) *Entry {
	c := &Entry{Value: e.Value, list: e.list, hash: e.hash, set: e.set, zset: e.zset, stream: e.stream, Expire: expire, Mod: mod}
	c.cloneContainers()
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
