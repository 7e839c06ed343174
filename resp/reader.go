package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits bound what a Reader accepts. A zero field takes its default.
type Limits struct {
	MaxBulk     int64 // longest bulk string, bytes (default 512 MiB)
	MaxElements int   // most elements in an array, or key+value elements in a dict (default 1,048,576)
	MaxDepth    int   // deepest nesting of arrays and dicts (default 128)
	MaxInline   int   // longest inline request or simple-string line, bytes (default 64 KiB)
}

// DefaultLimits returns SPEC §1's limits.
func DefaultLimits() Limits {
	return Limits{MaxBulk: 512 << 20, MaxElements: 1 << 20, MaxDepth: 128, MaxInline: 64 << 10}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBulk <= 0 {
		l.MaxBulk = d.MaxBulk
	}
	if l.MaxElements <= 0 {
		l.MaxElements = d.MaxElements
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxInline <= 0 {
		l.MaxInline = d.MaxInline
	}
	return l
}

const (
	slabSize      = 16 << 10 // bytes per string slab
	slabMaxString = 4 << 10  // longer strings get their own allocation
	vslabSize     = 256      // Values per element slab
	vslabMaxElems = 64       // larger aggregates get their own allocation
	bigChunk      = 64 << 10 // growth step for large bulks, so a declared length allocates nothing before its bytes arrive
)

// Reader parses RESP values and requests from a stream.
//
// Values it returns refer to memory the Reader allocated for them (small
// strings and element lists are carved out of shared slabs, so parsing a
// small request costs amortised less than one allocation); that memory is
// never reused, so Values stay valid after later reads. A Reader is not safe
// for concurrent use.
type Reader struct {
	br    *bufio.Reader
	lim   Limits
	slab  []byte
	vslab []Value
	long  []byte // scratch for lines longer than the bufio buffer
}

// NewReader returns a Reader on src (used as is if it is a *bufio.Reader).
func NewReader(src io.Reader, lim Limits) *Reader {
	br, ok := src.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(src, 16<<10)
	}
	return &Reader{br: br, lim: lim.withDefaults()}
}

// Reset makes r read from src, keeping its buffers.
func (r *Reader) Reset(src io.Reader) { r.br.Reset(src) }

// Buffered returns how many bytes are already read from the source but not
// yet parsed: a server uses it to gather every pipelined request at hand.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// ReadValue parses one value of any kind. It returns io.EOF at a clean end
// of stream, io.ErrUnexpectedEOF inside a frame, and a *ProtocolError for a
// malformed or over-limit frame.
func (r *Reader) ReadValue() (Value, error) { return r.readValue(0) }

// ReadInt reads the next value if it is an integer (ok), without building
// a Value; if the next value is of another kind it reads nothing. The log's
// batch items open with a few integers (fsm.AppendBatchItem), read on
// every replica for every write. Errors are ReadValue's.
func (r *Reader) ReadInt() (n int64, ok bool, err error) {
	b, err := r.br.Peek(1)
	if err != nil {
		return 0, false, err
	}
	if b[0] != ':' {
		return 0, false, nil
	}
	line, err := r.readLine(true)
	switch {
	case errors.Is(err, errLineTooLong):
		return 0, false, protoErr("line too long")
	case err == io.EOF:
		return 0, false, io.ErrUnexpectedEOF
	case err != nil:
		return 0, false, err
	}
	if n, ok = parseInt(line[1:]); !ok {
		return 0, false, protoErr(fmt.Sprintf("invalid integer %q", clip(line[1:])))
	}
	return n, true, nil
}

// ReadRequest parses one client request and returns its arguments, the
// first being the command name. A request is an array of any values, a
// simple or bulk string, or an inline line (split on whitespace, with
// redis-cli's quoting); empty requests (blank lines, *0, *-1) are skipped.
func (r *Reader) ReadRequest() ([]Value, error) {
	for {
		b, err := r.br.Peek(1)
		if err != nil {
			return nil, err
		}
		switch b[0] {
		case '*', '+', '$':
			v, err := r.readValue(0)
			if err != nil {
				return nil, err
			}
			var args []Value
			if v.kind == KindArray {
				args = v.elem
			} else if args, err = r.splitArgs(v.str); err != nil {
				return nil, err
			}
			if len(args) > 0 {
				return args, nil
			}
		case '-', ':', '%', '_', '#', ',':
			return nil, protoErr("expected a command array, got type byte " + quoteByte(b[0]))
		default:
			line, err := r.readLine(false)
			if err != nil {
				if errors.Is(err, errLineTooLong) {
					return nil, protoErr("too big inline request")
				}
				return nil, err
			}
			args, err := r.splitArgs(line)
			if err != nil {
				return nil, err
			}
			if len(args) > 0 {
				return args, nil
			}
		}
	}
}

// splitArgs splits a string request into its arguments under the same
// element limit an array request has, so a request reads back the same
// whichever way it came, and a long bulk of one-letter words cannot become
// millions of arguments.
func (r *Reader) splitArgs(s []byte) ([]Value, error) {
	args, err := SplitArgs(s)
	if err != nil {
		return nil, err
	}
	if len(args) > r.lim.MaxElements {
		return nil, protoErr(fmt.Sprintf("inline request has %d arguments, over the limit of %d", len(args), r.lim.MaxElements))
	}
	return args, nil
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its terminator. Typed frames
// (strict) must end in "\r\n"; inline requests may end in a bare "\n". The
// slice is valid only until the next read.
func (r *Reader) readLine(strict bool) ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull && len(r.long) <= r.lim.MaxInline+1 {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err != nil {
		if len(line) > r.lim.MaxInline+1 {
			// Too long however it ends (even "\r" then "\n" next).
			return nil, errLineTooLong
		}
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := len(line) - 1
	if n > 0 && line[n-1] == '\r' {
		n--
	} else if strict {
		return nil, protoErr(`expected '\r\n' at end of line, got a bare '\n'`)
	}
	if n > r.lim.MaxInline { // the line without its terminator, however it ends
		return nil, errLineTooLong
	}
	return line[:n], nil
}

func (r *Reader) readValue(depth int) (Value, error) {
	var v Value
	err := r.readInto(&v, depth)
	return v, err
}

// readInto parses one value into *v, in place, so that an aggregate's
// elements are not copied on their way up.
func (r *Reader) readInto(v *Value, depth int) error {
	line, err := r.readLine(true)
	if err != nil {
		if errors.Is(err, errLineTooLong) {
			return protoErr("line too long")
		}
		if depth > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if len(line) == 0 {
		return protoErr("empty line where a value was expected")
	}
	body := line[1:]
	switch line[0] {
	case '$':
		n, ok := parseInt(body)
		switch {
		case !ok || n < -1:
			return protoErr(fmt.Sprintf("invalid bulk length %q", clip(body)))
		case n == -1:
			*v = NullBulk()
			return nil
		case n > r.lim.MaxBulk:
			return protoErr(fmt.Sprintf("bulk length %d exceeds the limit of %d", n, r.lim.MaxBulk))
		}
		return r.readBulk(v, int(n))
	case '*', '%':
		return r.readAggregate(v, line[0], body, depth+1)
	case '+':
		*v = Value{kind: KindSimple, str: r.copyBytes(body)}
	case '-':
		*v = Value{kind: KindError, str: r.copyBytes(body)}
	case ':':
		n, ok := parseInt(body)
		if !ok {
			return protoErr(fmt.Sprintf("invalid integer %q", clip(body)))
		}
		*v = Int(n)
	case '_':
		if len(body) != 0 {
			return protoErr("invalid null frame")
		}
		*v = Null()
	case '#':
		if len(body) != 1 || (body[0] != 't' && body[0] != 'f') {
			return protoErr(fmt.Sprintf("invalid boolean %q", clip(body)))
		}
		*v = Bool(body[0] == 't')
	case ',':
		if string(body) == "nan" { // RESP3 allows it; ParseDouble, for arguments, does not
			*v = Double(math.NaN())
			return nil
		}
		f, err := ParseDouble(body)
		if err != nil {
			return protoErr(fmt.Sprintf("invalid double %q", clip(body)))
		}
		*v = Double(f)
	default:
		return protoErr("invalid type byte " + quoteByte(line[0]))
	}
	return nil
}

var errBulkCRLF = protoErr(`expected '\r\n' after bulk data`)

func (r *Reader) readBulk(v *Value, n int) error {
	var buf []byte
	if n <= slabMaxString {
		// The common case: the bytes and their CRLF fit in the buffer.
		if b, err := r.br.Peek(n + 2); err == nil {
			if b[n] != '\r' || b[n+1] != '\n' {
				return errBulkCRLF
			}
			buf = r.allocBytes(n)
			copy(buf, b)
			r.br.Discard(n + 2)
			*v = Value{kind: KindBulk, str: buf}
			return nil
		} else if err != bufio.ErrBufferFull {
			return unexpected(err)
		}
		buf = r.allocBytes(n)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return unexpected(err)
		}
	} else {
		// Grow as the bytes arrive: a hostile "$500000000\r\n" followed by
		// nothing costs one chunk, not the declared length.
		buf = make([]byte, 0, min(n, bigChunk))
		for len(buf) < n {
			if len(buf) == cap(buf) {
				buf = append(buf, make([]byte, min(n-len(buf), len(buf)))...)[:len(buf)]
			}
			m, err := r.br.Read(buf[len(buf):min(n, cap(buf))])
			buf = buf[:len(buf)+m]
			if err != nil && len(buf) < n {
				return unexpected(err)
			}
		}
	}
	crlf, err := r.br.Peek(2)
	if err != nil {
		return unexpected(err)
	}
	if crlf[0] != '\r' || crlf[1] != '\n' {
		return errBulkCRLF
	}
	r.br.Discard(2)
	*v = Value{kind: KindBulk, str: buf}
	return nil
}

func (r *Reader) readAggregate(v *Value, typ byte, body []byte, depth int) error {
	name, kind, per := "array", KindArray, int64(1)
	if typ == '%' {
		name, kind, per = "dict", KindDict, 2
	}
	n, ok := parseInt(body)
	switch {
	case !ok || n < -1 || (n == -1 && kind == KindDict):
		return protoErr(fmt.Sprintf("invalid %s length %q", name, clip(body)))
	case n == -1:
		*v = NullArray()
		return nil
	case n > int64(r.lim.MaxElements)/per:
		return protoErr(fmt.Sprintf("%s length %d exceeds the limit of %d elements", name, n, r.lim.MaxElements))
	case depth > r.lim.MaxDepth:
		return protoErr(fmt.Sprintf("nesting deeper than %d", r.lim.MaxDepth))
	}
	count := int(n * per)
	// Up to vslabMaxElems slots come from the slab; a larger aggregate grows
	// by append as its elements arrive, so a declared length costs nothing
	// (at every nesting level) before its elements do.
	elems := r.allocValues(min(count, vslabMaxElems))[:0]
	for i := 0; i < count; i++ {
		elems = append(elems, Value{})
		e := &elems[i]
		if err := r.readInto(e, depth); err != nil {
			return unexpected(err)
		}
		if kind == KindDict && i%2 == 0 && !e.IsScalar() {
			return protoErr("dict key must be a scalar, got " + e.kind.String())
		}
	}
	*v = Value{kind: kind, elem: elems}
	return nil
}

// allocBytes returns n bytes carved from the string slab.
func (r *Reader) allocBytes(n int) []byte {
	if n > cap(r.slab)-len(r.slab) {
		r.slab = make([]byte, 0, slabSize)
	}
	start := len(r.slab)
	r.slab = r.slab[:start+n]
	return r.slab[start : start+n : start+n]
}

func (r *Reader) copyBytes(b []byte) []byte {
	if len(b) > slabMaxString {
		return append([]byte(nil), b...)
	}
	dst := r.allocBytes(len(b))
	copy(dst, b)
	return dst
}

// allocValues returns n Values carved from the element slab.
func (r *Reader) allocValues(n int) []Value {
	if n > cap(r.vslab)-len(r.vslab) {
		r.vslab = make([]Value, 0, vslabSize)
	}
	start := len(r.vslab)
	r.vslab = r.vslab[:start+n]
	return r.vslab[start : start+n : start+n]
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// quoteByte quotes b for an error message: 'x', '\x00', '\xff'.
func quoteByte(b byte) string {
	if b < utf8.RuneSelf {
		return strconv.QuoteRuneToASCII(rune(b))
	}
	return `'\x` + strconv.FormatUint(uint64(b), 16) + `'`
}

// clip shortens hostile input quoted in an error message.
func clip(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}

// parseInt parses a strict decimal int64 as Redis's string2ll does: "0", or
// an optional '-' and digits without a leading zero; nothing else (no '+',
// no spaces, no "-0"), no overflow.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] == '0' {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// ParseInt parses a strict decimal int64 as Redis does for integer arguments.
func ParseInt(b []byte) (int64, bool) { return parseInt(b) }

// ParseDouble parses a double as Redis does: decimal or exponent notation,
// and inf, +inf, -inf (any case). NaN and trailing garbage are refused.
func ParseDouble(b []byte) (float64, error) {
	s := string(b)
	switch s {
	case "inf", "+inf", "INF", "+INF", "Inf", "+Inf":
		return math.Inf(1), nil
	case "-inf", "-INF", "-Inf":
		return math.Inf(-1), nil
	}
	if len(s) == 0 || s[0] == ' ' || s[len(s)-1] == ' ' {
		return 0, errors.New("not a float")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, errors.New("not a float")
	}
	return f, nil
}

// maxTimeout is the longest timeout, in seconds, a blocking command takes.
const maxTimeout = 1e12

// ParseTimeout parses a blocking command's timeout argument: seconds as a
// double (a bulk or simple string, or a number as Text gives it), 0
// meaning forever. It returns ErrTimeoutNegative for a negative timeout and
// ErrTimeoutInvalid for one that is not a number or is over 1e12 seconds
// (Redis's replies). A timeout too long for a time.Duration (about 292 years)
// is the longest Duration. Server and client both parse timeouts here.
func ParseTimeout(v Value) (time.Duration, error) {
	var secs float64
	switch v.kind {
	case KindBulk, KindSimple:
		f, err := ParseDouble(v.str)
		if err != nil {
			return 0, ErrTimeoutInvalid
		}
		secs = f
	case KindInt, KindBool:
		secs = float64(v.Int())
	case KindDouble:
		secs = v.Float()
	default:
		return 0, ErrTimeoutInvalid
	}
	switch {
	case math.IsNaN(secs) || secs > maxTimeout:
		return 0, ErrTimeoutInvalid
	case secs < 0:
		return 0, ErrTimeoutNegative
	}
	if ns := secs * float64(time.Second); ns < math.MaxInt64 {
		return time.Duration(ns), nil
	}
	return math.MaxInt64, nil
}
