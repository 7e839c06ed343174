package fsm

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/kvorum/kvorum/resp"
)

// Bit commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD, on strings as Redis
// reads them: bit 0 is the most significant bit of the first byte, and a
// string is zero-padded on the right as far as a command needs. An integer
// value is its decimal text. They are registered with the string family.
func bitCommands() []Command {
	return []Command{
		{Name: "SETBIT", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetBit},
		{Name: "GETBIT", Arity: 3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetBit},
		{Name: "BITCOUNT", Arity: -2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdBitCount},
		{Name: "BITPOS", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdBitPos},
		{Name: "BITOP", Arity: -4, Flags: Write, FirstKey: 2, LastKey: -1, Step: 1, Run: cmdBitOp},
		{Name: "BITFIELD", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdBitField},
		{Name: "BITFIELD_RO", Arity: -2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdBitField},
	}
}

var (
	errBitOffset = resp.Err("ERR bit offset is not an integer or out of range")
	errBitValue  = resp.Err("ERR bit is not an integer or out of range")
)

// bitOffset parses a bit offset as Redis does: a non-negative integer whose
// byte lies within maxString, so SETBIT never grows a string past it.
func bitOffset(v resp.Value) (int64, bool) {
	n, ok := argInt(v)
	if !ok || n < 0 || n>>3 >= maxString {
		return 0, false
	}
	return n, true
}

// bitAt returns bit i of b (0 past its end).
func bitAt(b []byte, i int64) int64 {
	if i>>3 >= int64(len(b)) {
		return 0
	}
	return int64(b[i>>3]>>(7-i&7)) & 1
}

// cmdSetBit serves SETBIT key offset 0|1: it sets or clears one bit,
// growing the string with zero bytes to reach it, and answers the bit's old
// value. A bit set to the value it has changes nothing (no new Mod, as
// Redis signals no change to WATCH).
func cmdSetBit(c *Ctx, args []resp.Value) resp.Value {
	off, ok := bitOffset(args[2])
	if !ok {
		return errBitOffset
	}
	on, ok := argInt(args[3])
	if !ok || on&^1 != 0 {
		return errBitValue
	}
	key, e, old, errv, ok := stringOf(c, args[1])
	if !ok {
		return errv
	}
	prev := bitAt(old, off)
	byteAt := int(off >> 3)
	if e != nil && byteAt < len(old) && prev == on {
		return resp.Int(prev)
	}
	buf := make([]byte, max(len(old), byteAt+1))
	copy(buf, old)
	mask := byte(1) << (7 - off&7)
	if on == 1 {
		buf[byteAt] |= mask
	} else {
		buf[byteAt] &^= mask
	}
	c.replaceValue(key, e, resp.Bulk(buf))
	return resp.Int(prev)
}

// cmdGetBit serves GETBIT key offset: the bit's value, 0 past the end of
// the string or for a missing key.
func cmdGetBit(c *Ctx, args []resp.Value) resp.Value {
	off, ok := bitOffset(args[2])
	if !ok {
		return errBitOffset
	}
	_, _, b, errv, ok := stringOf(c, args[1])
	if !ok {
		return errv
	}
	return resp.Int(bitAt(b, off))
}

// bitRange turns BITCOUNT's and BITPOS's start and end (bytes, or bits
// with isBit; negative ones count from the end) into the first and last
// bit of the range, clamped to the string as Redis clamps them; first >
// last for an empty range.
func bitRange(n, start, end int64, isBit bool) (first, last int64) {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 1, 0
	}
	if isBit {
		return start, end
	}
	return start << 3, end<<3 + 7
}

// bitUnit parses BITCOUNT's and BITPOS's last option: BIT or BYTE.
func bitUnit(v resp.Value) (isBit, ok bool) {
	switch argUpper(v) {
	case "BIT":
		return true, true
	case "BYTE":
		return false, true
	}
	return false, false
}

// cmdBitCount serves BITCOUNT key [start end [BYTE|BIT]]: the set bits in
// the range (the whole string by default). Checks come in Redis's order:
// the key first (a missing key counts 0 whatever the arguments), then the
// range, then the unit.
func cmdBitCount(c *Ctx, args []resp.Value) resp.Value {
	_, e, b, errv, ok := stringOf(c, args[1])
	if !ok {
		return errv
	}
	if e == nil {
		return resp.Int(0)
	}
	n := int64(len(b))
	first, last := int64(0), n<<3-1
	switch len(args) {
	case 2:
	case 4, 5:
		start, ok1 := argInt(args[2])
		if !ok1 {
			return errNotInt
		}
		end, ok2 := argInt(args[3])
		if !ok2 {
			return errNotInt
		}
		if start < 0 && end < 0 && start > end {
			return resp.Int(0)
		}
		isBit := false
		if len(args) == 5 {
			if isBit, ok = bitUnit(args[4]); !ok {
				return errSyntax
			}
		}
		first, last = bitRange(n, start, end, isBit)
	default:
		return errSyntax
	}
	if first > last {
		return resp.Int(0)
	}
	return resp.Int(countBits(b, first, last))
}

// countBits counts the set bits of b from bit first to bit last inclusive
// (both within b).
func countBits(b []byte, first, last int64) int64 {
	lo, hi := first>>3, last>>3
	var count int
	p := b[lo : hi+1]
	for len(p) >= 8 {
		count += bits.OnesCount64(binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	for _, x := range p {
		count += bits.OnesCount8(x)
	}
	// Take off the bits of the edge bytes outside the range.
	count -= bits.OnesCount8(b[lo] & ^(0xff >> (first & 7)))
	count -= bits.OnesCount8(b[hi] & (0xff >> (last&7 + 1)))
	return int64(count)
}

// cmdBitPos serves BITPOS key 0|1 [start [end [BYTE|BIT]]]: the first bit
// of the range with that value, or -1. A missing key is all zeros. Looking
// for a 0 without an end finds the first bit past the string if the range
// is all ones (the string is zero-padded), as Redis answers; with an end
// given, -1.
func cmdBitPos(c *Ctx, args []resp.Value) resp.Value {
	bit, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	if bit != 0 && bit != 1 {
		return resp.Err("ERR The bit argument must be 1 or 0.")
	}
	_, e, b, errv, ok := stringOf(c, args[1])
	if !ok {
		return errv
	}
	if e == nil {
		return resp.Int(-bit)
	}
	n := int64(len(b))
	first, last := int64(0), n<<3-1
	endGiven := false
	switch len(args) {
	case 3:
	case 4, 5, 6:
		start, ok := argInt(args[3])
		if !ok {
			return errNotInt
		}
		isBit := false
		if len(args) == 6 {
			if isBit, ok = bitUnit(args[5]); !ok {
				return errSyntax
			}
		}
		end := n - 1
		if isBit {
			end = n<<3 + 7
		}
		if len(args) >= 5 {
			if end, ok = argInt(args[4]); !ok {
				return errNotInt
			}
			endGiven = true
		}
		first, last = bitRange(n, start, end, isBit)
	default:
		return errSyntax
	}
	if first > last {
		return resp.Int(-1)
	}
	if pos := findBit(b, first, last, byte(bit)); pos >= 0 {
		return resp.Int(pos)
	}
	if bit == 0 && !endGiven {
		return resp.Int(last + 1)
	}
	return resp.Int(-1)
}

// findBit returns the first bit from first to last inclusive (both within
// b) whose value is bit, or -1.
func findBit(b []byte, first, last int64, bit byte) int64 {
	skip := byte(0) // a byte with no bit of the value sought
	if bit == 0 {
		skip = 0xff
	}
	for i := first; i <= last; {
		if i&7 == 0 && i+7 <= last && b[i>>3] == skip {
			i += 8
			continue
		}
		if byte(bitAt(b, i)) == bit {
			return i
		}
		i++
	}
	return -1
}

// cmdBitOp serves BITOP AND|OR|XOR|NOT dest src [src ...]: dest gets the
// sources combined byte by byte, the shorter ones (and missing keys)
// zero-padded, and no deadline; an empty result deletes dest. It answers
// the result's length.
func cmdBitOp(c *Ctx, args []resp.Value) resp.Value {
	op := argUpper(args[1])
	switch op {
	case "AND", "OR", "XOR", "NOT":
	default:
		return errSyntax
	}
	if op == "NOT" && len(args) != 4 {
		return resp.Err("ERR BITOP NOT must be called with a single source key.")
	}
	dest, ok := keyOf(args[2])
	if !ok {
		return errBadKey
	}
	srcs := make([][]byte, len(args)-3)
	n := 0
	for i, a := range args[3:] {
		_, _, b, errv, ok := stringOf(c, a)
		if !ok {
			return errv
		}
		srcs[i] = b
		n = max(n, len(b))
	}
	if n == 0 {
		c.State.del(dest, c.Now)
		return resp.Int(0)
	}
	at := func(b []byte, j int) byte {
		if j < len(b) {
			return b[j]
		}
		return 0
	}
	out := make([]byte, n)
	for j := range out {
		x := at(srcs[0], j)
		if op == "NOT" {
			x = ^x
		}
		for _, b := range srcs[1:] {
			switch op {
			case "AND":
				x &= at(b, j)
			case "OR":
				x |= at(b, j)
			case "XOR":
				x ^= at(b, j)
			}
		}
		out[j] = x
	}
	c.State.put(dest, &Entry{Value: resp.Bulk(out), Mod: c.Index})
	return resp.Int(int64(n))
}

// bitfieldOp is one GET, SET or INCRBY of BITFIELD.
type bitfieldOp struct {
	op       string // "GET", "SET" or "INCRBY"
	offset   int64
	value    int64  // SET's value, INCRBY's increment
	overflow string // "WRAP", "SAT" or "FAIL", as the last OVERFLOW before it said
	bits     uint
	signed   bool
}

var errBitfieldType = resp.Err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")

// bitfieldType parses a type such as i16 or u8: signed up to 64 bits,
// unsigned up to 63, the letter in lower case as Redis wants it.
func bitfieldType(v resp.Value) (signed bool, nbits uint, ok bool) {
	t := v.TextBytes()
	if len(t) == 0 || (t[0] != 'i' && t[0] != 'u') {
		return false, 0, false
	}
	signed = t[0] == 'i'
	n, ok := resp.ParseInt(cText(t[1:], len(t)))
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, false
	}
	return signed, uint(n), true
}

// bitfieldOffset parses a BITFIELD offset: a bit offset, or #n for the
// n-th field of nbits bits.
func bitfieldOffset(v resp.Value, nbits uint) (int64, bool) {
	t := v.TextBytes()
	if len(t) == 0 || t[0] != '#' {
		return bitOffset(v)
	}
	n, ok := resp.ParseInt(t[1:])
	if !ok {
		return 0, false
	}
	n *= int64(nbits) // wraps as Redis's does; a negative result is refused
	if n < 0 || n>>3 >= maxString {
		return 0, false
	}
	return n, true
}

// getField reads nbits bits of b from offset as an unsigned integer (bits
// past b's end are 0).
func getField(b []byte, offset int64, nbits uint) uint64 {
	var v uint64
	for j := int64(0); j < int64(nbits); j++ {
		v = v<<1 | uint64(bitAt(b, offset+j))
	}
	return v
}

// getSignedField reads a two's complement field of nbits bits.
func getSignedField(b []byte, offset int64, nbits uint) int64 {
	v := getField(b, offset, nbits)
	if nbits < 64 && v&(1<<(nbits-1)) != 0 {
		v |= ^uint64(0) << nbits
	}
	return int64(v)
}

// setField writes the low nbits bits of v into b at offset (b is long
// enough).
func setField(b []byte, offset int64, nbits uint, v uint64) {
	for j := uint(0); j < nbits; j++ {
		i := offset + int64(j)
		mask := byte(1) << (7 - i&7)
		if v&(1<<(nbits-1-j)) != 0 {
			b[i>>3] |= mask
		} else {
			b[i>>3] &^= mask
		}
	}
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow: whether value
// plus incr leaves the range of an nbits unsigned integer (1 over, -1
// under, 0 in range), and the result that overflow mode gives then.
func unsignedOverflow(value uint64, incr int64, nbits uint, mode string) (int, uint64) {
	maxv := uint64(1)<<nbits - 1
	maxincr := int64(maxv - value)
	minincr := int64(-value)
	wrap := (value + uint64(incr)) &^ (^uint64(0) << nbits)
	switch {
	case value > maxv || (incr > 0 && incr > maxincr):
		if mode == "SAT" {
			return 1, maxv
		}
		return 1, wrap
	case incr < 0 && incr < minincr:
		if mode == "SAT" {
			return -1, 0
		}
		return -1, wrap
	}
	return 0, 0
}

// signedOverflow is Redis's checkSignedBitfieldOverflow, for an nbits
// two's complement integer.
func signedOverflow(value, incr int64, nbits uint, mode string) (int, int64) {
	maxv := int64(math.MaxInt64)
	if nbits < 64 {
		maxv = int64(1)<<(nbits-1) - 1
	}
	minv := -maxv - 1
	maxincr := int64(uint64(maxv) - uint64(value))
	minincr := minv - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if nbits < 64 {
			mask := ^uint64(0) << nbits
			if c&(1<<(nbits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	switch {
	case value > maxv || (nbits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr):
		if mode == "SAT" {
			return 1, maxv
		}
		return 1, wrap()
	case value < minv || (nbits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr):
		if mode == "SAT" {
			return -1, minv
		}
		return -1, wrap()
	}
	return 0, 0
}

// cmdBitField serves BITFIELD key [GET type offset] [SET type offset
// value] [INCRBY type offset incr] [OVERFLOW WRAP|SAT|FAIL] ... and
// BITFIELD_RO key [GET type offset] ...: every operation is parsed and
// checked first, then they run in order on one copy of the string, grown
// with zero bytes to the farthest bit written; each answers its value (or
// null when OVERFLOW FAIL refuses it).
func cmdBitField(c *Ctx, args []resp.Value) resp.Value {
	var ops []bitfieldOp
	overflow := "WRAP"
	readonly := true
	var highest int64
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		var op string
		switch sub := argUpper(args[j]); {
		case sub == "GET" && rem >= 2, (sub == "SET" || sub == "INCRBY") && rem >= 3:
			op = sub
		case sub == "OVERFLOW" && rem >= 1:
			j++
			switch mode := argUpper(args[j]); mode {
			case "WRAP", "SAT", "FAIL":
				overflow = mode
			default:
				return resp.Err("ERR Invalid OVERFLOW type specified")
			}
			continue
		default:
			return errSyntax
		}
		signed, nbits, ok := bitfieldType(args[j+1])
		if !ok {
			return errBitfieldType
		}
		offset, ok := bitfieldOffset(args[j+2], nbits)
		if !ok {
			return errBitOffset
		}
		o := bitfieldOp{op: op, offset: offset, overflow: overflow, bits: nbits, signed: signed}
		if op != "GET" {
			readonly = false
			highest = max(highest, offset+int64(nbits)-1)
			if o.value, ok = argInt(args[j+3]); !ok {
				return errNotInt
			}
			j++
		}
		ops = append(ops, o)
		j += 2
	}
	if !readonly && argUpper(args[0]) == "BITFIELD_RO" {
		return resp.Err("ERR BITFIELD_RO only supports the GET subcommand")
	}
	key, e, b, errv, ok := stringOf(c, args[1])
	if !ok {
		return errv
	}
	if !readonly {
		buf := make([]byte, max(len(b), int(highest>>3)+1))
		copy(buf, b)
		b = buf
	}
	out := make([]resp.Value, 0, len(ops))
	for _, o := range ops {
		if o.op == "GET" {
			if o.signed {
				out = append(out, resp.Int(getSignedField(b, o.offset, o.bits)))
			} else {
				out = append(out, resp.Int(int64(getField(b, o.offset, o.bits))))
			}
			continue
		}
		var over int
		var newval, ret uint64
		if o.signed {
			old := getSignedField(b, o.offset, o.bits)
			var limit, nv int64
			if o.op == "INCRBY" {
				over, limit = signedOverflow(old, o.value, o.bits, o.overflow)
				nv = old + o.value
				if over != 0 {
					nv = limit
				}
				ret = uint64(nv)
			} else {
				nv = o.value
				if over, limit = signedOverflow(nv, 0, o.bits, o.overflow); over != 0 {
					nv = limit
				}
				ret = uint64(old)
			}
			newval = uint64(nv)
		} else {
			old := getField(b, o.offset, o.bits)
			var limit uint64
			if o.op == "INCRBY" {
				newval = old + uint64(o.value)
				if over, limit = unsignedOverflow(old, o.value, o.bits, o.overflow); over != 0 {
					newval = limit
				}
				ret = newval
			} else {
				newval = uint64(o.value)
				if over, limit = unsignedOverflow(newval, 0, o.bits, o.overflow); over != 0 {
					newval = limit
				}
				ret = old
			}
		}
		if over != 0 && o.overflow == "FAIL" {
			out = append(out, resp.NullBulk())
			continue
		}
		out = append(out, resp.Int(int64(ret)))
		setField(b, o.offset, o.bits, newval)
	}
	if !readonly {
		c.replaceValue(key, e, resp.Bulk(b))
	}
	return resp.Array(out...)
}
