package resp

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind says which RESP type a Value is.
type Kind uint8

// The kinds of Value. The zero Value is a Null.
const (
	KindNull   Kind = iota // RESP3 '_' (and the zero Value)
	KindSimple             // '+' simple string
	KindError              // '-' error
	KindInt                // ':' signed 64-bit integer
	KindBulk               // '$' binary-safe string; may be null ($-1)
	KindArray              // '*' array of any values; may be null (*-1)
	KindDict               // '%' map of key/value pairs
	KindBool               // '#' RESP3 boolean
	KindDouble             // ',' RESP3 double
)

var kindNames = [...]string{"null", "simple", "error", "integer", "bulk", "array", "dict", "boolean", "double"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one RESP value of any kind, nested to any depth.
//
// A Value is immutable by convention: the byte and element slices it holds
// may be shared with the Reader's buffers or with other Values, so callers
// must not modify what Bytes, Elems or Pair return. Clone makes a Value that
// owns all of its memory.
type Value struct {
	kind Kind
	null bool    // a null bulk ($-1) or null array (*-1)
	num  uint64  // KindInt and KindBool as int64 bits, KindDouble as float64 bits
	str  []byte  // KindSimple, KindError, KindBulk
	elem []Value // KindArray: the elements; KindDict: key0, val0, key1, val1, ...
}

// Constructors. They never copy their arguments: the Value refers to the
// slices it is given.

// Null returns the RESP3 null '_' (sent as $-1 to native and resp2 clients).
func Null() Value { return Value{} }

// NullBulk returns the null bulk string $-1.
func NullBulk() Value { return Value{kind: KindBulk, null: true} }

// NullArray returns the null array *-1.
func NullArray() Value { return Value{kind: KindArray, null: true} }

// Simple returns a simple string. s must not contain '\r' or '\n'.
func Simple(s string) Value { return Value{kind: KindSimple, str: []byte(s)} }

// OK is the +OK reply.
func OK() Value { return Value{kind: KindSimple, str: okBytes} }

var okBytes = []byte("OK")

// Err returns an error value. By convention msg starts with an upper-case
// code such as ERR or WRONGTYPE. Line breaks in msg are replaced by spaces so
// the frame stays valid.
func Err(msg string) Value {
	if strings.ContainsAny(msg, "\r\n") {
		msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	}
	return Value{kind: KindError, str: []byte(msg)}
}

// Errorf returns an error value formatted as fmt.Sprintf does.
func Errorf(format string, args ...any) Value { return Err(fmt.Sprintf(format, args...)) }

// Int returns an integer.
func Int(n int64) Value { return Value{kind: KindInt, num: uint64(n)} }

// Bool returns a RESP3 boolean (sent as :1 or :0 to native and resp2 clients).
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, num: 1}
	}
	return Value{kind: KindBool}
}

// Double returns a RESP3 double (sent as a bulk string to native and resp2 clients).
func Double(f float64) Value { return Value{kind: KindDouble, num: math.Float64bits(f)} }

// Bulk returns a bulk string referring to b. A nil b is an empty string, not null.
func Bulk(b []byte) Value {
	if b == nil {
		b = []byte{}
	}
	return Value{kind: KindBulk, str: b}
}

// BulkString returns a bulk string holding s.
func BulkString(s string) Value { return Value{kind: KindBulk, str: []byte(s)} }

// Array returns an array of the given elements (an empty array if none).
func Array(elems ...Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{kind: KindArray, elem: elems}
}

// Dict returns a dict from alternating keys and values: k0, v0, k1, v1, ...
// It panics if given an odd number of values, a programming error.
func Dict(pairs ...Value) Value {
	if len(pairs)%2 != 0 {
		panic("resp.Dict: odd number of key/value elements")
	}
	if pairs == nil {
		pairs = []Value{}
	}
	return Value{kind: KindDict, elem: pairs}
}

// Accessors.

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is any null: '_', $-1 or *-1.
func (v Value) IsNull() bool { return v.kind == KindNull || v.null }

// IsError reports whether v is an error value.
func (v Value) IsError() bool { return v.kind == KindError }

// Bytes returns the text of a simple string, error or bulk string, and nil
// for other kinds. The caller must not modify the returned slice.
func (v Value) Bytes() []byte { return v.str }

// Text returns the value as text: strings as they are, integers and doubles
// in decimal, booleans as 1 or 0, null as "". Arrays and dicts give "".
func (v Value) Text() string {
	switch v.kind {
	case KindSimple, KindError, KindBulk:
		return string(v.str)
	case KindInt, KindBool:
		return strconv.FormatInt(int64(v.num), 10)
	case KindDouble:
		return FormatDouble(v.Float())
	}
	return ""
}

// TextBytes is Text as bytes, without a copy for a simple, error or bulk
// string: the caller must not modify the result.
func (v Value) TextBytes() []byte {
	switch v.kind {
	case KindSimple, KindError, KindBulk:
		return v.str
	}
	return []byte(v.Text())
}

// Int returns the integer of a KindInt or KindBool value, and 0 otherwise.
func (v Value) Int() int64 { return int64(v.num) }

// Float returns the number of a KindDouble value, and 0 otherwise.
func (v Value) Float() float64 {
	if v.kind != KindDouble {
		return 0
	}
	return math.Float64frombits(v.num)
}

// Bool returns the boolean of a KindBool value (or a non-zero integer).
func (v Value) Bool() bool { return v.num != 0 }

// Elems returns the elements of an array, or the flattened key/value
// elements of a dict. The caller must not modify the returned slice.
func (v Value) Elems() []Value { return v.elem }

// Len returns the number of elements of an array, pairs of a dict, or bytes
// of a string.
func (v Value) Len() int {
	switch v.kind {
	case KindArray:
		return len(v.elem)
	case KindDict:
		return len(v.elem) / 2
	}
	return len(v.str)
}

// Pair returns the i-th key and value of a dict.
func (v Value) Pair(i int) (key, val Value) { return v.elem[2*i], v.elem[2*i+1] }

// IsScalar reports whether v is neither an array nor a dict.
func (v Value) IsScalar() bool { return v.kind != KindArray && v.kind != KindDict }

// Equal reports whether a and b are the same kind with the same contents,
// recursively. Dicts compare pair by pair in order.
func Equal(a, b Value) bool {
	if a.kind != b.kind || a.null != b.null || a.num != b.num || len(a.elem) != len(b.elem) {
		return false
	}
	if !bytes.Equal(a.str, b.str) {
		return false
	}
	for i := range a.elem {
		if !Equal(a.elem[i], b.elem[i]) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of v that shares no memory with it, so it may
// outlive the buffer v was parsed from. All strings of the copy live in one
// allocation and all elements in another.
func (v Value) Clone() Value {
	nbytes, nelems := v.footprint()
	c := cloner{bytes: make([]byte, 0, nbytes), elems: make([]Value, 0, nelems)}
	return c.clone(v)
}

// footprint counts the bytes and nested elements v refers to.
func (v Value) footprint() (nbytes, nelems int) {
	nbytes = len(v.str)
	nelems = len(v.elem)
	for _, e := range v.elem {
		b, n := e.footprint()
		nbytes += b
		nelems += n
	}
	return nbytes, nelems
}

type cloner struct {
	bytes []byte
	elems []Value
}

func (c *cloner) clone(v Value) Value {
	if v.str != nil {
		start := len(c.bytes)
		c.bytes = append(c.bytes, v.str...)
		v.str = c.bytes[start:len(c.bytes):len(c.bytes)]
	}
	if v.elem != nil {
		start := len(c.elems)
		c.elems = append(c.elems, v.elem...)
		out := c.elems[start:len(c.elems):len(c.elems)]
		for i := range out {
			out[i] = c.clone(out[i])
		}
		v.elem = out
	}
	return v
}

// String renders v for logs and test failures, e.g. ["v2-0", 1, {"vy": 0}].
func (v Value) String() string {
	var sb strings.Builder
	v.format(&sb)
	return sb.String()
}

func (v Value) format(sb *strings.Builder) {
	switch {
	case v.IsNull():
		sb.WriteString("nil")
	case v.kind == KindError:
		sb.WriteString("(error) ")
		sb.Write(v.str)
	case v.kind == KindSimple || v.kind == KindBulk:
		sb.WriteString(strconv.Quote(string(v.str)))
	case v.kind == KindBool:
		sb.WriteString(strconv.FormatBool(v.Bool()))
	case v.kind == KindArray:
		sb.WriteByte('[')
		for i, e := range v.elem {
			if i > 0 {
				sb.WriteString(", ")
			}
			e.format(sb)
		}
		sb.WriteByte(']')
	case v.kind == KindDict:
		sb.WriteByte('{')
		for i := 0; i < len(v.elem); i += 2 {
			if i > 0 {
				sb.WriteString(", ")
			}
			v.elem[i].format(sb)
			sb.WriteString(": ")
			v.elem[i+1].format(sb)
		}
		sb.WriteByte('}')
	default:
		sb.WriteString(v.Text())
	}
}

// FormatDouble formats f as Redis does: shortest round-trip decimal, and
// "inf", "-inf" or "nan" for the special values.
func FormatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
