package fsm

import (
	"math/bits"
	"slices"
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
// Each write carries its own stamp rather than taking it from connection
// state, so that a resend needs nothing but the request itself, on any
// connection to any node: KVORUM.SEQ id seq floor command args... (The
// front door also takes a pipeline's writes as one frame, KVORUM.SEQS id
// first floor count, whose stamps are explicit in its header; it hands
// each on to the log as the wrapped request it stands for.) The client
// says with floor which replies it has received (every seq below floor),
// and the session forgets those: its memory is bounded by the client's
// writes in flight.
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
	// maxSessionReplies bounds the replies a session keeps (its writes
	// applied and not yet acknowledged): a write beyond it is refused.
	maxSessionReplies = 65536
	// ringReach is how far above the floor a session's ring of replies
	// reaches (a power of two); replies of seqs beyond it are kept in a
	// map, so a session's memory follows the replies it keeps, however
	// far a client numbers ahead.
	ringReach = 4096
	// sweepEvery is how often, in log time, idle sessions are looked for.
	sweepEvery = 1000 // ms
)

// session is one client session's state.
type session struct {
	idle     int64 // ms without a write after which it expires
	lastSeen int64 // log time of its last write
	floor    uint64
	// replies holds the replies of seqs from the floor up. A client
	// numbers its writes densely and acknowledges them in order, so a
	// ring indexed by seq-floor serves where a map would cost a hash per
	// lookup, insert and acknowledgement on every replica, and allocates
	// nothing once it has grown to the client's writes in flight.
	replies window
}

// window is a session's kept replies: a ring for the seqs within
// ringReach of the floor (slot i holds seq floor+i; grown by doubling,
// shrunk when mostly empty) and a map by seq for any further out.
type window struct {
	slots []cached // len is a power of two up to ringReach, or 0
	head  int      // the slot of seq floor
	n     int      // slots in use: seqs floor .. floor+n-1
	far   map[uint64]resp.Value
	count int // replies kept, in the ring and in far
}

// cached is one slot of a session's ring: the reply of the write with
// that seq, if it was applied.
type cached struct {
	reply resp.Value
	ok    bool
}

func (w *window) at(i int) *cached { return &w.slots[(w.head+i)&(len(w.slots)-1)] }

// get returns the reply of seq, floor <= seq.
func (w *window) get(floor, seq uint64) (resp.Value, bool) {
	if i := seq - floor; i < uint64(w.n) {
		if c := w.at(int(i)); c.ok {
			return c.reply, true
		}
	}
	r, ok := w.far[seq] // nil map: not found
	return r, ok
}

// put keeps r as the reply of seq, floor <= seq, which has none yet.
func (w *window) put(floor, seq uint64, r resp.Value) {
	w.count++
	i := seq - floor
	if i >= ringReach {
		if w.far == nil {
			w.far = make(map[uint64]resp.Value)
		}
		w.far[seq] = r
		return
	}
	if int(i) >= len(w.slots) {
		w.resize(max(16, 1<<bits.Len(uint(i))))
	}
	w.n = max(w.n, int(i)+1)
	*w.at(int(i)) = cached{reply: r, ok: true}
}

// resize moves the ring's slots in use to a ring of size slots.
func (w *window) resize(size int) {
	ring := make([]cached, size)
	for j := range w.n {
		ring[j] = *w.at(j)
	}
	w.slots, w.head = ring, 0
}

// drop forgets the replies below floor: the floor moved up from old.
func (w *window) drop(old, floor uint64) {
	k := int(min(floor-old, uint64(w.n)))
	for j := range k {
		if c := w.at(j); c.ok {
			w.count--
		}
		*w.at(j) = cached{}
	}
	if len(w.slots) > 0 {
		w.head = (w.head + k) & (len(w.slots) - 1)
	}
	w.n -= k
	if len(w.slots) > 64 && 4*w.n < len(w.slots) { // a burst has passed
		w.resize(max(16, 1<<bits.Len(uint(2*w.n))))
	}
	for seq := range w.far {
		if seq < floor {
			delete(w.far, seq)
			w.count--
		}
	}
}

// reply returns the cached reply of seq (at or above the floor).
func (s *session) reply(seq uint64) (resp.Value, bool) { return s.replies.get(s.floor, seq) }

// keep caches r as the reply of seq, which is at or above the floor.
func (s *session) keep(seq uint64, r resp.Value) { s.replies.put(s.floor, seq, r) }

// each calls fn with every cached reply and its seq, by seq.
func (s *session) each(fn func(seq uint64, r resp.Value)) {
	seqs := make([]uint64, 0, s.replies.count)
	for i := range s.replies.n {
		if s.replies.at(i).ok {
			seqs = append(seqs, s.floor+uint64(i))
		}
	}
	for seq := range s.replies.far {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		r, _ := s.reply(seq)
		fn(seq, r)
	}
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
		c.State.sessionsOf()[id] = &session{idle: idle, lastSeen: c.Now, floor: 1}
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
	if r, ok := s.reply(uint64(seq)); ok {
		return r
	}
	cmd := t.Lookup(inner[0].TextBytes())
	switch {
	case cmd == nil:
		return UnknownCommand(inner[0].TextBytes())
	case cmd.Name == SeqCommand || cmd.Name == SessionCommand || (cmd.IsInternal() && cmd.Name != ExecCommand):
		return errSeqNesting
	case s.replies.count >= maxSessionReplies:
		return errSeqFull
	}
	if v, ok := cmd.CheckArity(inner); !ok {
		return v
	}
	r := cmd.call(c, inner)
	if cmd.IsBlocking() && r.IsNull() {
		return r // an attempt that found nothing is no answer yet: the wait goes on
	}
	s.keep(uint64(seq), r.Clone())
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
	s.replies.drop(s.floor, floor)
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
		var replies []resp.Value
		s.each(func(seq uint64, r resp.Value) { replies = append(replies, resp.Int(int64(seq)), r) })
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
	s := &session{idle: f[2].Int(), lastSeen: f[3].Int(), floor: uint64(f[4].Int())}
	r := f[5].Elems()
	for i := 0; i < len(r); i += 2 {
		seq := uint64(r[i].Int())
		if _, dup := s.reply(seq); !isCount(r[i]) || seq < s.floor || dup {
			return false
		}
		s.keep(seq, r[i+1])
	}
	st.sessionsOf()[uint64(f[1].Int())] = s
	return true
}
