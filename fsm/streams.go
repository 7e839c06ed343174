package fsm

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// Streams: XADD, XLEN, XRANGE, XREVRANGE, XDEL and XTRIM, as Redis 7.0
// answers them (RQ keeps each job's results in a stream of its own once
// a server says it is 5.0 or later). Consumer groups, XREAD and XINFO are
// not here.
//
// An auto ID (*) takes its milliseconds from the leader's clock in the
// entry, never below the stream's last ID, so every replica generates the
// same IDs. MAXLEN and MINID trim exactly; with ~ they remove whole
// hundreds of entries only (at most LIMIT, default 10,000), as Redis removes
// whole nodes of its radix tree (stream-node-max-entries 100): a stream
// built by appends is trimmed as Redis trims it.

func streamCommands() []Command {
	return []Command{
		{Name: "XADD", Arity: -5, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdXAdd},
		{Name: "XLEN", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdXLen},
		{Name: "XRANGE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: xrange(false)},
		{Name: "XREVRANGE", Arity: -4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: xrange(true)},
		{Name: "XDEL", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdXDel},
		{Name: "XTRIM", Arity: -4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdXTrim},
	}
}

// streamID is an entry's ID: milliseconds and a sequence number.
type streamID struct{ ms, seq uint64 }

func (a streamID) less(b streamID) bool { return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq) }

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

// stream is a stream's entries in ID order and the last ID it gave, which
// outlives the entry's deletion (an ID is never given twice).
type stream struct {
	entries []streamEntry
	last    streamID
}

type streamEntry struct {
	id     streamID
	fields []resp.Value // field, value, ...
}

func (s *stream) clone() *stream {
	return &stream{entries: append([]streamEntry(nil), s.entries...), last: s.last}
}

// value is the stream as a snapshot record holds it: [last ms, last seq,
// [id, [field, value, ...]], ...].
func (s *stream) value() resp.Value {
	out := []resp.Value{resp.Int(int64(s.last.ms)), resp.Int(int64(s.last.seq))}
	for _, e := range s.entries {
		out = append(out, resp.Array(resp.BulkString(e.id.String()), resp.Array(e.fields...)))
	}
	return resp.Array(out...)
}

// streamFromValue reads value's form back, refusing anything else.
func streamFromValue(v resp.Value) (*stream, bool) {
	f := v.Elems()
	if v.Kind() != resp.KindArray || len(f) < 2 || f[0].Kind() != resp.KindInt || f[1].Kind() != resp.KindInt {
		return nil, false
	}
	s := &stream{last: streamID{uint64(f[0].Int()), uint64(f[1].Int())}}
	for _, e := range f[2:] {
		p := e.Elems()
		if e.Kind() != resp.KindArray || len(p) != 2 || p[1].Kind() != resp.KindArray || len(p[1].Elems())%2 != 0 {
			return nil, false
		}
		id, ok := parseID(p[0].TextBytes(), 0)
		if !ok || (len(s.entries) > 0 && !s.entries[len(s.entries)-1].id.less(id)) || s.last.less(id) {
			return nil, false
		}
		s.entries = append(s.entries, streamEntry{id: id, fields: p[1].Elems()})
	}
	return s, true
}

// parseID reads "ms-seq", or "ms" with seq taken as missingSeq.
func parseID(b []byte, missingSeq uint64) (streamID, bool) {
	ms, seq, dash := strings.Cut(string(b), "-")
	m, err := strconv.ParseUint(ms, 10, 64)
	if err != nil {
		return streamID{}, false
	}
	if !dash {
		return streamID{m, missingSeq}, true
	}
	q, err := strconv.ParseUint(seq, 10, 64)
	return streamID{m, q}, err == nil
}

var errStreamID = resp.Err("ERR Invalid stream ID specified as stream command argument")

func isStream(e *Entry) bool { return e.stream != nil }

// trimSpec is a MAXLEN or MINID trim.
type trimSpec struct {
	set    bool
	maxLen int64
	minID  streamID
	byID   bool
	approx bool  // ~: whole nodes of streamNode entries only
	limit  int64 // ~: at most this many entries (default 100 nodes)
}

// streamNode is Redis's stream-node-max-entries default: ~ trims whole
// nodes of this many entries.
const streamNode = 100

// parseTrim reads MAXLEN|MINID [=|~] threshold [LIMIT count] at args[i],
// returning the position after it.
func parseTrim(args []resp.Value, i int) (trimSpec, int, resp.Value, bool) {
	t := trimSpec{set: true, byID: argUpper(args[i]) == "MINID", limit: 100 * streamNode}
	i++
	approx := false
	if i < len(args) {
		switch args[i].Text() {
		case "~":
			approx, t.approx = true, true
			i++
		case "=":
			i++
		}
	}
	if i >= len(args) {
		return t, i, errSyntax, false
	}
	if t.byID {
		id, ok := parseID(args[i].TextBytes(), 0)
		if !ok {
			return t, i, errStreamID, false
		}
		t.minID = id
	} else {
		n, ok := argInt(args[i])
		if !ok {
			return t, i, errNotInt, false
		}
		if n < 0 {
			return t, i, resp.Err("ERR The MAXLEN argument must be >= 0."), false
		}
		t.maxLen = n
	}
	i++
	if i+1 < len(args) && argUpper(args[i]) == "LIMIT" {
		n, ok := argInt(args[i+1])
		if !ok {
			return t, i, errNotInt, false
		}
		if n < 0 {
			return t, i, resp.Err("ERR The LIMIT argument must be >= 0."), false
		}
		if !approx {
			return t, i, resp.Err("ERR syntax error, LIMIT cannot be used without the special ~ option"), false
		}
		if n > 0 {
			t.limit = n
		}
		i += 2
	}
	return t, i, resp.Value{}, true
}

// trim removes what t says and returns how many entries went.
func (s *stream) trim(t trimSpec) int64 {
	cut := 0
	if t.byID {
		cut = sort.Search(len(s.entries), func(i int) bool { return !s.entries[i].id.less(t.minID) })
	} else if int64(len(s.entries)) > t.maxLen {
		cut = len(s.entries) - int(t.maxLen)
	}
	if t.approx {
		cut = int(min(int64(cut), t.limit))
		cut -= cut % streamNode
	}
	if cut == 0 {
		return 0
	}
	s.entries = append([]streamEntry(nil), s.entries[cut:]...)
	return int64(cut)
}

func cmdXAdd(c *Ctx, args []resp.Value) resp.Value {
	noMake := false
	var trim trimSpec
	i := 2
	for ; i < len(args); i++ {
		switch opt := argUpper(args[i]); opt {
		case "NOMKSTREAM":
			noMake = true
			continue
		case "MAXLEN", "MINID":
			t, next, errv, ok := parseTrim(args, i)
			if !ok {
				return errv
			}
			trim, i = t, next-1
			continue
		}
		break
	}
	if i >= len(args) || (len(args)-i-1)%2 != 0 || len(args)-i-1 == 0 {
		return WrongArity("XADD")
	}
	key, e, errv, ok := lookupKind(c, args[1], isStream)
	if !ok {
		return errv
	}
	idArg := args[i].Text()
	var last streamID
	if e != nil {
		last = e.stream.last
	}
	var id streamID
	switch {
	case idArg == "*":
		id = streamID{uint64(max(c.Now, 0)), 0}
		if !last.less(id) {
			if last.seq == math.MaxUint64 {
				return resp.Err("ERR The stream has exhausted the last possible ID, unable to add more items")
			}
			id = streamID{last.ms, last.seq + 1}
		}
	case strings.HasSuffix(idArg, "-*"):
		ms, err := strconv.ParseUint(strings.TrimSuffix(idArg, "-*"), 10, 64)
		if err != nil {
			return errStreamID
		}
		id = streamID{ms, 0}
		if ms == last.ms && e != nil {
			if last.seq == math.MaxUint64 {
				return resp.Err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
			}
			id.seq = last.seq + 1
		}
		if ms == 0 && id.seq == 0 {
			id.seq = 1
		}
		if !last.less(id) && (e != nil || id == (streamID{})) {
			return resp.Err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
		}
	default:
		parsed, ok := parseID(args[i].TextBytes(), 0)
		if !ok {
			return errStreamID
		}
		id = parsed
		if id == (streamID{}) {
			return resp.Err("ERR The ID specified in XADD must be greater than 0-0")
		}
		if e != nil && !last.less(id) {
			return resp.Err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
		}
	}
	if e == nil {
		if noMake {
			return resp.NullBulk()
		}
		e = &Entry{stream: &stream{}}
		c.State.put(key, e)
	} else {
		e = c.State.mutable(key, c.Now)
	}
	e.Mod = c.Index
	fields := make([]resp.Value, len(args)-i-1)
	for k, a := range args[i+1:] {
		fields[k] = resp.BulkString(a.Text())
	}
	e.stream.entries = append(e.stream.entries, streamEntry{id: id, fields: fields})
	e.stream.last = id
	if trim.set {
		e.stream.trim(trim)
	}
	return resp.BulkString(id.String())
}

func cmdXLen(c *Ctx, args []resp.Value) resp.Value {
	_, e, errv, ok := lookupKind(c, args[1], isStream)
	switch {
	case !ok:
		return errv
	case e == nil:
		return resp.Int(0)
	}
	return resp.Int(int64(len(e.stream.entries)))
}

// rangeBound reads an XRANGE bound: - and + are the ends; "(" makes it
// exclusive; a bare ms is its first (start) or last (end) sequence.
func rangeBound(v resp.Value, start bool) (streamID, bool, bool) {
	b := v.Text()
	switch b {
	case "-":
		return streamID{}, false, true
	case "+":
		return streamID{math.MaxUint64, math.MaxUint64}, false, true
	}
	excl := strings.HasPrefix(b, "(")
	b = strings.TrimPrefix(b, "(")
	missing := uint64(0)
	if !start {
		missing = math.MaxUint64
	}
	id, ok := parseID([]byte(b), missing)
	return id, excl, ok
}

func xrange(rev bool) func(c *Ctx, args []resp.Value) resp.Value {
	return func(c *Ctx, args []resp.Value) resp.Value {
		lo, hi := args[2], args[3]
		if rev {
			lo, hi = hi, lo
		}
		start, exclStart, ok1 := rangeBound(lo, true)
		end, exclEnd, ok2 := rangeBound(hi, false)
		if !ok1 || !ok2 {
			return errStreamID
		}
		count := int64(-1)
		if len(args) > 4 {
			if len(args) != 6 || argUpper(args[4]) != "COUNT" {
				return errSyntax
			}
			n, ok := argInt(args[5])
			if !ok {
				return errNotInt
			}
			count = max(n, 0)
		}
		if exclStart {
			if start == (streamID{math.MaxUint64, math.MaxUint64}) {
				return resp.Err("ERR invalid start ID for the interval")
			}
			if start.seq == math.MaxUint64 {
				start = streamID{start.ms + 1, 0}
			} else {
				start.seq++
			}
		}
		if exclEnd {
			if end == (streamID{}) {
				return resp.Err("ERR invalid end ID for the interval")
			}
			if end.seq == 0 {
				end = streamID{end.ms - 1, math.MaxUint64}
			} else {
				end.seq--
			}
		}
		if count == 0 {
			return resp.NullArray()
		}
		_, e, errv, ok := lookupKind(c, args[1], isStream)
		if !ok {
			return errv
		}
		out := []resp.Value{}
		if e == nil || end.less(start) {
			return resp.Array(out...)
		}
		es := e.stream.entries
		from := sort.Search(len(es), func(i int) bool { return !es[i].id.less(start) })
		to := sort.Search(len(es), func(i int) bool { return end.less(es[i].id) })
		pick := func(se streamEntry) {
			out = append(out, resp.Array(resp.BulkString(se.id.String()), resp.Array(se.fields...)))
		}
		if rev {
			for i := to - 1; i >= from && (count < 0 || int64(len(out)) < count); i-- {
				pick(es[i])
			}
		} else {
			for i := from; i < to && (count < 0 || int64(len(out)) < count); i++ {
				pick(es[i])
			}
		}
		return resp.Array(out...)
	}
}

func cmdXDel(c *Ctx, args []resp.Value) resp.Value {
	ids := make([]streamID, len(args)-2)
	for i, a := range args[2:] {
		id, ok := parseID(a.TextBytes(), 0)
		if !ok {
			return errStreamID
		}
		ids[i] = id
	}
	key, e, errv, ok := lookupKind(c, args[1], isStream)
	if !ok {
		return errv
	}
	if e == nil {
		return resp.Int(0)
	}
	e = c.State.mutable(key, c.Now)
	var n int64
	for _, id := range ids {
		es := e.stream.entries
		i := sort.Search(len(es), func(i int) bool { return !es[i].id.less(id) })
		if i < len(es) && es[i].id == id {
			e.stream.entries = append(es[:i:i], es[i+1:]...)
			n++
		}
	}
	if n > 0 {
		e.Mod = c.Index
	}
	return resp.Int(n)
}

func cmdXTrim(c *Ctx, args []resp.Value) resp.Value {
	switch argUpper(args[2]) {
	case "MAXLEN", "MINID":
	default:
		return errSyntax
	}
	t, next, errv, ok := parseTrim(args, 2)
	if !ok {
		return errv
	}
	if next != len(args) {
		return errSyntax
	}
	key, e, errv, ok := lookupKind(c, args[1], isStream)
	if !ok {
		return errv
	}
	if e == nil {
		return resp.Int(0)
	}
	e = c.State.mutable(key, c.Now)
	n := e.stream.trim(t)
	if n > 0 {
		e.Mod = c.Index
	}
	return resp.Int(n)
}
