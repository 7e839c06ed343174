package fsm

import (
	"sort"

	"github.com/kvorum/kvorum/resp"
)

// Client sessions (the Raft dissertation, §6.3): a client that may have to
// resend a write it got no reply for opens a session, and numbers its
// writes. The state machine applies each (session, seq) at most once and
// keeps the replies the client has not acknowledged, so a resend of a write
// that was applied answers the first application's reply (for a pop: the
// same item) instead of applying again.
//
// A write is wrapped rather than stamped from connection state, so that a
// resend needs nothing but the request itself, on any connection to any
// node: KVORUM.SEQ id seq floor command args... The client says with floor
// which replies it has received (every seq below floor), and the session
// forgets those: its memory is bounded by the client's writes in flight.
// Sessions live in the State, so snapshots and every replica carry them,
// and they expire after an idle time measured in log time (the leader's
// clock stamped in each entry), identically everywhere.
const (
	// SessionCommand is KVORUM.SESSION OPEN [idle-ms] (the new session's
	// id: the log index of the entry that opened it times 65536, plus the
	// command's place in that entry, the same on every replica) or
	// KVORUM.SESSION CLOSE id (:1, or :0 if there was none).
	SessionCommand = "KVORUM.SESSION"
	// SeqCommand is KVORUM.SEQ id seq floor command args...: command,
	// applied once per (id, seq).
	SeqCommand = "KVORUM.SEQ"
	// DefaultSessionIdle is how long a session lives without a write.
	DefaultSessionIdle = 3_600_000 // ms
	// maxSessionReplies bounds a session's unacknowledged replies.
	maxSessionReplies = 65536
	// sweepEvery is how often, in log time, idle sessions are looked for.
	sweepEvery = 1000 // ms
)

// session is one client session's state.
type session struct {
	idle     int64 // ms without a write after which it expires
	lastSeen int64 // log time of its last write
	floor    uint64
	replies  map[uint64]resp.Value // by seq, for seq >= floor
}

var (
	errNoSession  = resp.Err(resp.CodeNoSession + " unknown or expired session")
	errSeqAcked   = resp.Err("ERR seq below the acknowledged floor")
	errSeqArgs    = resp.Err("ERR KVORUM.SEQ needs a session id, a seq > 0 and a floor")
	errSeqFull    = resp.Err("ERR too many unacknowledged writes in this session")
	errSeqNesting = resp.Err("ERR this command cannot run in a session")
)

func sessionCommands(t *Table) []Command {
	return []Command{
		{Name: SessionCommand, Arity: -2, Flags: Write, Run: cmdSession},
		// Internal: the front door routes KVORUM.SEQ by the command inside it.
		{Name: SeqCommand, Arity: -5, Flags: Write | Internal, Run: t.seq},
	}
}

// cmdSession serves KVORUM.SESSION OPEN [idle-ms] and CLOSE id.
func cmdSession(c *Ctx, args []resp.Value) resp.Value {
	c.State.sweepSessions(c.Now)
	switch argUpper(args[1]) {
	case "OPEN":
		idle := int64(DefaultSessionIdle)
		if len(args) == 3 {
			n, ok := argInt(args[2])
			if !ok || n <= 0 {
				return errNotInt
			}
			idle = n
		} else if len(args) > 3 {
			return errSyntax
		}
		id := c.Index<<16 | uint64(c.Item&0xffff)
		for c.State.sessions[id] != nil {
			id++ // two opens at one place: inside one EXEC
		}
		c.State.sessionsOf()[id] = &session{idle: idle, lastSeen: c.Now, floor: 1, replies: map[uint64]resp.Value{}}
		return resp.Int(int64(id))
	case "CLOSE":
		id, ok := argInt(args[len(args)-1])
		if len(args) != 3 || !ok {
			return errSyntax
		}
		if s, had := c.State.sessions[uint64(id)]; !had || s.expired(c.Now) {
			delete(c.State.sessions, uint64(id))
			return resp.Int(0)
		}
		delete(c.State.sessions, uint64(id))
		return resp.Int(1)
	}
	return errSyntax
}

// seq applies a KVORUM.SEQ-wrapped command once per (session, seq).
func (t *Table) seq(c *Ctx, args []resp.Value) resp.Value {
	id, ok1 := argInt(args[1])
	seq, ok2 := argInt(args[2])
	floor, ok3 := argInt(args[3])
	if !ok1 || !ok2 || !ok3 {
		return errSeqArgs
	}
	return t.applySeq(c, id, seq, floor, args[4:])
}

// applySeq applies inner, the command of KVORUM.SEQ id seq floor, once per
// (session, seq): for a wrapped request (seq) and for a batch entry's
// session item (AppendBatchItem) alike.
func (t *Table) applySeq(c *Ctx, id, seq, floor int64, inner []resp.Value) resp.Value {
	if seq <= 0 || floor <= 0 {
		return errSeqArgs
	}
	c.State.sweepSessions(c.Now)
	s := c.State.sessions[uint64(id)]
	if s == nil || s.expired(c.Now) {
		return errNoSession
	}
	s.lastSeen = c.Now
	s.ack(uint64(floor))
	if uint64(seq) < s.floor {
		return errSeqAcked
	}
	if r, ok := s.replies[uint64(seq)]; ok {
		return r
	}
	cmd := t.Lookup(inner[0].TextBytes())
	switch {
	case cmd == nil:
		return UnknownCommand(inner[0].TextBytes())
	case cmd.Name == SeqCommand || cmd.Name == SessionCommand || (cmd.IsInternal() && cmd.Name != ExecCommand):
		return errSeqNesting
	case len(s.replies) >= maxSessionReplies:
		return errSeqFull
	}
	if v, ok := cmd.CheckArity(inner); !ok {
		return v
	}
	r := cmd.Run(c, inner)
	if cmd.IsBlocking() && r.IsNull() {
		return r // an attempt that found nothing is no answer yet: the wait goes on
	}
	s.replies[uint64(seq)] = r.Clone()
	return r
}

// expired reports whether the session has been idle past its time at now.
// It is checked at every use, so when the sweep happens to run changes
// nothing a client sees.
func (s *session) expired(now int64) bool { return now-s.lastSeen > s.idle }

// ack forgets the replies below floor: the client has them.
func (s *session) ack(floor uint64) {
	if floor <= s.floor {
		return
	}
	if floor-s.floor <= uint64(len(s.replies)) {
		for seq := s.floor; seq < floor; seq++ { // the usual step: a few seqs
			delete(s.replies, seq)
		}
	} else {
		for seq := range s.replies {
			if seq < floor {
				delete(s.replies, seq)
			}
		}
	}
	s.floor = floor
}

func (st *State) sessionsOf() map[uint64]*session {
	if st.sessions == nil {
		st.sessions = make(map[uint64]*session)
	}
	return st.sessions
}

// sweepSessions frees the sessions idle past their time at now, at most
// once per sweepEvery of log time (the entries carry the leader's clock).
func (st *State) sweepSessions(now int64) {
	if now < st.sessionSweep+sweepEvery {
		return
	}
	st.sessionSweep = now
	for id, s := range st.sessions {
		if s.expired(now) {
			delete(st.sessions, id)
		}
	}
}

// Sessions returns the number of open sessions (INFO).
func (f *FSM) Sessions() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.state.sessions)
}

// sessionRecords returns the sessions as snapshot records, by id:
// ["session", id, idle, lastSeen, floor, [seq, reply, ...]], replies by seq.
func (st *State) sessionRecords() []resp.Value {
	ids := make([]uint64, 0, len(st.sessions))
	for id := range st.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]resp.Value, 0, len(ids))
	for _, id := range ids {
		s := st.sessions[id]
		seqs := make([]uint64, 0, len(s.replies))
		for q := range s.replies {
			seqs = append(seqs, q)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		replies := make([]resp.Value, 0, 2*len(seqs))
		for _, q := range seqs {
			replies = append(replies, resp.Int(int64(q)), s.replies[q])
		}
		out = append(out, resp.Array(resp.BulkString("session"), resp.Int(int64(id)), resp.Int(s.idle),
			resp.Int(s.lastSeen), resp.Int(int64(s.floor)), resp.Array(replies...)))
	}
	return out
}

// restoreSession reads a session record into st, reporting false if it is
// malformed.
func (st *State) restoreSession(f []resp.Value) bool {
	if len(f) != 6 || !isCount(f[1]) || f[2].Kind() != resp.KindInt || f[3].Kind() != resp.KindInt ||
		!isCount(f[4]) || f[5].Kind() != resp.KindArray || f[5].Len()%2 != 0 {
		return false
	}
	s := &session{idle: f[2].Int(), lastSeen: f[3].Int(), floor: uint64(f[4].Int()), replies: map[uint64]resp.Value{}}
	r := f[5].Elems()
	for i := 0; i < len(r); i += 2 {
		if !isCount(r[i]) {
			return false
		}
		s.replies[uint64(r[i].Int())] = r[i+1]
	}
	st.sessionsOf()[uint64(f[1].Int())] = s
	return true
}
