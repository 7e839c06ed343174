package clienttest

import (
	"bytes"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// The session protocol's wire names, as the server spells them.
const (
	sessionCommand = "KVORUM.SESSION"
	seqCommand     = "KVORUM.SEQ"
)

// errNoSession is KVORUM.SEQ's reply for a session that is unknown or
// expired.
var errNoSession = resp.Err("NOSESSION unknown or expired session")

// session is one write session of a Store: the acknowledged floor and the
// cached reply of each seq applied at or above it.
type session struct {
	ttl     int64 // idle ttl in ms, as given (the fake has no clock)
	floor   int64
	replies map[int64]resp.Value
}

// session serves KVORUM.SESSION OPEN [ttl-ms] (a write answering the new
// session's id, the log index that created it) and KVORUM.SESSION CLOSE
// id (:1 if it was open, else :0). The caller holds s.mu.
func (s *Store) session(args []resp.Value) resp.Value {
	if len(args) < 2 {
		return resp.Err("ERR wrong number of arguments for 'kvorum.session' command")
	}
	switch strings.ToUpper(args[1].Text()) {
	case "OPEN":
		ttl := int64(3600_000)
		if len(args) > 3 {
			return resp.Err("ERR wrong number of arguments for 'kvorum.session|open' command")
		}
		if len(args) == 3 {
			n, ok := argInt(args[2])
			if !ok || n <= 0 {
				return resp.Err("ERR ttl is not a positive integer")
			}
			ttl = n
		}
		s.index++
		s.sessions[s.index] = &session{ttl: ttl, floor: 1, replies: make(map[int64]resp.Value)}
		return resp.Int(s.index)
	case "CLOSE":
		if len(args) != 3 {
			return resp.Err("ERR wrong number of arguments for 'kvorum.session|close' command")
		}
		id, _ := argInt(args[2])
		if _, ok := s.sessions[id]; !ok {
			return resp.Int(0)
		}
		s.index++
		delete(s.sessions, id)
		return resp.Int(1)
	}
	return resp.Errorf("ERR unknown subcommand '%s'", args[1].Text())
}

// seq serves KVORUM.SEQ id seq floor command args...: the command is
// applied at most once per (id, seq); a repeat answers the first
// application's reply. The floor only rises, and the replies below it are
// forgotten. The caller holds s.mu.
func (s *Store) seq(c *resp.Conn, args []resp.Value) resp.Value {
	if len(args) < 5 {
		return resp.Err("ERR wrong number of arguments for 'kvorum.seq' command")
	}
	var n [3]int64
	for i := range n {
		v, ok := argInt(args[1+i])
		if !ok || v < 0 {
			return resp.Err("ERR session id, seq or floor is not an integer")
		}
		n[i] = v
	}
	id, seq, floor := n[0], n[1], n[2]
	sess := s.sessions[id]
	switch {
	case sess == nil:
		return errNoSession
	case seq < sess.floor:
		return resp.Err("ERR seq below the acknowledged floor")
	}
	if floor > sess.floor {
		sess.floor = floor
		for q := range sess.replies {
			if q < floor {
				delete(sess.replies, q)
			}
		}
	}
	if v, ok := sess.replies[seq]; ok {
		return v
	}
	if name := args[4].Bytes(); bytes.EqualFold(name, []byte(sessionCommand)) || bytes.EqualFold(name, []byte(seqCommand)) {
		return resp.Err("ERR KVORUM.SEQ cannot wrap a session command")
	}
	v := s.run(c, args[4:]).Clone()
	sess.replies[seq] = v
	return v
}

// ExpireSession ends session id as its ttl running out would: a later
// KVORUM.SEQ for it answers -NOSESSION. It reports whether it was open.
func (s *Store) ExpireSession(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sessions[id]
	delete(s.sessions, id)
	return ok
}

// Sessions returns the ids of the open sessions, in no order.
func (s *Store) Sessions() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, len(s.sessions))
	for id := range s.sessions {
		out = append(out, id)
	}
	return out
}

// SessionState returns session id's acknowledged floor and how many
// replies it keeps; ok is false if it is not open.
func (s *Store) SessionState(id int64) (floor int64, cached int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		return 0, 0, false
	}
	return sess.floor, len(sess.replies), true
}

// argInt reads an integer argument: an integer, or a string of digits.
func argInt(v resp.Value) (int64, bool) {
	if v.Kind() == resp.KindInt {
		return v.Int(), true
	}
	return resp.ParseInt(v.Bytes())
}
