package door

import (
	"bytes"
	"slices"
	"time"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// Client sessions (fsm/sessions.go) make a resent write apply once: a
// client stamps each write with its session id, a seq and the floor below
// which it has every reply, and the state machine answers a repeated (id,
// seq) with the first reply. A write comes stamped in one of two forms:
//
//   - wrapped, KVORUM.SEQ id seq floor command args...: one request that
//     needs nothing of its connection, the form for a lone write;
//   - framed, KVORUM.SEQS id first floor count followed by count plain
//     requests, which carry seqs first, first+1, ...: the form for a
//     pipeline of writes, which saves each of them the four wrapping
//     arguments on the wire and in the door's parse (docs/BENCHMARKS.md,
//     "Client sessions"). The header has no reply of its own, so the
//     replies are the writes', one each, as if wrapped. A header that is
//     refused (not authenticated, a bad stamp) answers its error and
//     closes the connection, so its writes are never served bare; a
//     client learns that a node takes frames from COMMAND INFO KVORUM.SEQS
//     on the connection, so a node without them never sees one.
//
// The door routes a stamped write by the command inside it: a write, or
// each attempt of a blocking pop, is proposed wrapped; EXEC proposes its
// entry wrapped (one seq for the transaction); anything else has nothing
// to deduplicate and is served as if it came bare. KVORUM.SESSION OPEN and
// CLOSE are ordinary writes.

// seqsCommand is the frame header: KVORUM.SEQS id first floor count.
const seqsCommand = "KVORUM.SEQS"

// maxFrame bounds a frame's writes: as many as a session keeps replies of.
const maxFrame = 65536

func sessionCommands() []Command {
	return []Command{
		{Name: fsm.SeqCommand, Kind: Local, Flags: InMulti | Aware, Arity: -5, Run: cmdSeq},
		{Name: seqsCommand, Kind: Local, Flags: InMulti | Aware, Arity: 5, Run: cmdSeqs},
	}
}

var (
	errSeqStamp  = resp.Err("ERR KVORUM.SEQ needs a session id, a seq > 0 and a floor")
	errSeqsStamp = resp.Err("ERR KVORUM.SEQS needs a session id, a first seq, a floor and a count of 1 to 65536")
	errSeqNested = resp.Err("ERR KVORUM.SEQ and KVORUM.SEQS cannot be stamped themselves")
)

// frame is a connection's frame in progress: its next write is seq of
// session id, and left writes remain.
type frame struct {
	id, seq, floor int64
	left           int
}

// seqName is the first element of a stamped write as the door hands it on.
var seqName = resp.BulkString(fsm.SeqCommand)

func cmdSeq(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	s := sessionOf(c)
	for _, a := range args[1:4] {
		if _, ok := stampInt(a); !ok {
			return s.refuse(errSeqStamp)
		}
	}
	return d.serveSeq(c, s, args, false)
}

// cmdSeqs opens a frame: the next count requests of the connection are
// session writes. It answers nothing (see above), or an error and the
// connection's end.
func cmdSeqs(d *Door, c *resp.Conn, args []resp.Value) resp.Reply {
	s := sessionOf(c)
	var n [4]int64
	for i, a := range args[1:5] {
		v, ok := stampInt(a)
		if !ok || (i == 3 && (v < 1 || v > maxFrame)) {
			return s.refuse(errSeqsStamp) // and Serve ends the connection
		}
		n[i] = v
	}
	s.frame = frame{id: n[0], seq: n[1], floor: n[2], left: int(n[3])}
	return resp.NoReply()
}

// stampInt reads one number of a stamp: a non-negative integer.
func stampInt(a resp.Value) (int64, bool) {
	n, ok := resp.ParseInt(a.TextBytes())
	return n, ok && n >= 0 && a.IsScalar()
}

// isFrameHeader reports whether args is a KVORUM.SEQS request.
func isFrameHeader(args []resp.Value) bool {
	name := args[0].TextBytes()
	return len(name) == len(seqsCommand) && args[0].IsScalar() && bytes.EqualFold(name, []byte(seqsCommand))
}

// serveFramed serves args, the next write of the connection's frame, as
// the wrapped request KVORUM.SEQ id seq floor args... it stands for, and
// counts it as one.
func (d *Door) serveFramed(c *resp.Conn, s *session, args []resp.Value, start time.Time) resp.Reply {
	f := &s.frame
	s.seqArgs = append(s.seqArgs[:0], seqName, resp.Int(f.id), resp.Int(f.seq), resp.Int(f.floor))
	s.seqArgs = append(s.seqArgs, args...)
	f.seq++
	f.left--
	d.countRequest(start)
	d.awaitFirstLeader(c.Context())
	r := d.serveSeq(c, s, s.seqArgs, true)
	clear(s.seqArgs) // keep no value of this request alive with the connection
	countServed(d.seqCmd, start, r)
	return r
}

// serveSeq serves a stamped write, args being KVORUM.SEQ id seq floor
// command args... If scratch, args is the connection's scratch, valid only
// until its next request: it is copied unless the write is proposed (and
// so encoded) at once.
func (d *Door) serveSeq(c *resp.Conn, s *session, args []resp.Value, scratch bool) resp.Reply {
	inner := args[4:]
	cmd, refused, ok := d.check(s, inner)
	switch {
	case !ok:
		return refused
	case cmd.Name == fsm.SeqCommand || cmd.Name == seqsCommand:
		return s.refuse(errSeqNested) // a header: Serve ends the connection
	case scratch && !(cmd.Kind == Write && s.tx == nil && s.reads == 0):
		args = slices.Clone(args)
		inner = args[4:]
	}
	switch {
	case cmd.Name == "EXEC":
		return exec(d, c, args[:4])
	case s.tx != nil && !cmd.has(InMulti):
		return s.queue(cmd, inner) // the EXEC carries the transaction's seq
	case cmd.Kind == Write:
		return d.write(c, s, d.seqStats, args)
	case cmd.Kind == Blocking:
		return d.block(c, cmd.Data, inner, args)
	}
	return d.route(c, s, cmd, inner)
}
