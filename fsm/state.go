package fsm

import (
	"github.com/kvorum/kvorum/resp"
)

// State is the keyspace. It is not safe for concurrent use: FSM guards it.
type State struct {
	keys map[string]*Entry
}

// NewState returns an empty keyspace.
func NewState() *State { return &State{keys: make(map[string]*Entry)} }

// Entry is one key's value and metadata. Entries are replaced, never
// modified in place, once they are in the map: a snapshot holds the old
// pointers while writes go on.
type Entry struct {
	Value  resp.Value // owned by the entry (cloned from the request)
	Expire int64      // Unix ms deadline; 0 means none
	Mod    uint64     // log index of the last change (for WATCH)
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
func (s *State) put(key string, e *Entry) { s.keys[key] = e }

// del removes key and reports whether it was live at now.
func (s *State) del(key string, now int64) bool {
	e, ok := s.keys[key]
	if !ok {
		return false
	}
	delete(s.keys, key)
	return e.Expire == 0 || e.Expire > now
}

// typeName is what TYPE answers for a value.
func typeName(v resp.Value) string {
	switch v.Kind() {
	case resp.KindArray:
		return "list"
	case resp.KindDict:
		return "hash"
	}
	return "string"
}
