package fsm

import (
	"math"
	"math/big"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// String commands: the tutorial's GET/SET/MGET/MSET and Redis's string family
// (the bit commands, SETBIT to BITPOS, are in bits.go). A "string" here is
// any value the tutorial can store: bytes, an integer, an array or a dict,
// nested (SPEC §2); the commands that work on a string's bytes (GETRANGE,
// SETRANGE, LCS, the bit commands) take an integer as its decimal text and
// refuse an array or dict with WRONGTYPE, as Redis refuses a list or hash.
func stringCommands() []Command {
	return append([]Command{
		{Name: "GET", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGet},
		{Name: "MGET", Arity: -2, Flags: Read, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdMGet},
		{Name: "STRLEN", Arity: 2, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdStrlen},
		{Name: "SET", Arity: -3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSet},
		{Name: "SETNX", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetNX},
		{Name: "GETSET", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetSet},
		{Name: "GETDEL", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetDel},
		{Name: "MSET", Arity: -3, Flags: Write, FirstKey: 1, LastKey: -1, Step: 2, Run: cmdMSet},
		{Name: "INCR", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdIncr},
		{Name: "DECR", Arity: 2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdDecr},
		{Name: "INCRBY", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdIncrBy},
		{Name: "DECRBY", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdDecrBy},
		{Name: "APPEND", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdAppend},
		{Name: "SETEX", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetEx},
		{Name: "PSETEX", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetEx},
		{Name: "INCRBYFLOAT", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdIncrByFloat},
		{Name: "GETEX", Arity: -2, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetEx},
		{Name: "GETRANGE", Arity: 4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetRange},
		{Name: "SUBSTR", Arity: 4, Flags: Read, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdGetRange},
		{Name: "SETRANGE", Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdSetRange},
		{Name: "LCS", Arity: -3, Flags: Read, FirstKey: 1, LastKey: 2, Step: 1, Run: cmdLCS},
		{Name: "MSETNX", Arity: -3, Flags: Write, FirstKey: 1, LastKey: -1, Step: 2, Run: cmdMSetNX},
	}, bitCommands()...)
}

// maxString is the longest string a command may make, Redis's default
// proto-max-bulk-len (512 MiB): SETRANGE, APPEND and SETBIT refuse to grow
// a string past it before they allocate anything.
const maxString = 512 << 20

var errTooBig = resp.Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")

// isString reports whether an entry holds a string for Redis's string
// commands: any scalar value (an integer is its decimal text).
func isString(e *Entry) bool { return e.plain() && e.Value.IsScalar() }

// stringOf returns the live entry of a key argument and its bytes, which
// the caller must not modify: a nil entry if the key is missing, WRONGTYPE
// if it holds a list, hash, set or sorted set.
func stringOf(c *Ctx, keyArg resp.Value) (string, *Entry, []byte, resp.Value, bool) {
	key, e, errv, ok := lookupKind(c, keyArg, isString)
	if !ok || e == nil {
		return key, nil, nil, errv, ok
	}
	return key, e, e.Value.TextBytes(), resp.Value{}, true
}

// reply shapes a stored value for a string command's answer: native mode
// answers any kind as stored (integers as ':', arrays, dicts; SPEC §2);
// Redis modes answer scalars as bulk strings, as Redis stores every string
// as bytes, and report false for an array or dict, which Redis's string
// commands refuse (GET answers WRONGTYPE, MGET nil).
func (c *Ctx) reply(v resp.Value) (resp.Value, bool) {
	switch {
	case c.Mode == resp.Native || v.IsNull() || v.Kind() == resp.KindBulk:
		return v, true
	case !v.IsScalar():
		return resp.Value{}, false
	}
	return resp.BulkString(v.Text()), true
}

func cmdGet(c *Ctx, args []resp.Value) resp.Value {
	_, v, _ := lookupReply(c, args[1])
	return v
}

// lookupReply finds the live value of a key argument shaped for the
// connection, as GET answers it: null if missing, WRONGTYPE for an
// aggregate in Redis modes. found reports a value that can be returned.
func lookupReply(c *Ctx, keyArg resp.Value) (key string, reply resp.Value, found bool) {
	key, ok := keyOf(keyArg)
	if !ok {
		return "", errBadKey, false
	}
	e := c.State.get(key, c.Now)
	if e == nil {
		return key, resp.NullBulk(), false
	}
	v, ok := c.reply(e.Val())
	if !ok {
		return key, errWrongType, false
	}
	return key, v, true
}

func cmdMGet(c *Ctx, args []resp.Value) resp.Value {
	out := make([]resp.Value, len(args)-1)
	for i, a := range args[1:] {
		out[i] = resp.NullBulk()
		if key, ok := keyOf(a); ok {
			if e := c.State.get(key, c.Now); e != nil {
				if v, ok := c.reply(e.Val()); ok {
					out[i] = v
				}
			}
		}
	}
	return resp.Array(out...)
}

func cmdStrlen(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	e := c.State.get(key, c.Now)
	if e == nil {
		return resp.Int(0)
	}
	if !e.Val().IsScalar() {
		return errWrongType
	}
	return resp.Int(int64(len(e.Val().Text())))
}

// strOpts are the options of SET and GETEX, as Redis's
// parseExtendedStringArgumentsOrReply reads them: NX, XX, GET and KEEPTTL
// for SET, PERSIST for GETEX, and one of EX, PX, EXAT and PXAT (the same
// one may come again: the last wins).
type strOpts struct {
	nx, xx, get, keepTTL, persist bool
	unit                          string     // "EX", "PX", "EXAT", "PXAT", or "" for none
	expire                        resp.Value // the unit's argument
}

// parseStrOpts reads SET's options (set) or GETEX's, and reports false at
// the first one Redis refuses with a syntax error. Values are not checked
// here: Redis checks them after the whole list parses (strOpts.deadline).
func parseStrOpts(args []resp.Value, set bool) (strOpts, bool) {
	var o strOpts
	for i := 0; i < len(args); i++ {
		more := i+1 < len(args)
		switch opt := argUpper(args[i]); {
		case opt == "NX" && set && !o.xx:
			o.nx = true
		case opt == "XX" && set && !o.nx:
			o.xx = true
		case opt == "GET" && set:
			o.get = true
		case opt == "KEEPTTL" && set && o.unit == "":
			o.keepTTL = true
		case opt == "PERSIST" && !set && o.unit == "":
			o.persist = true
		case (opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && !o.keepTTL && !o.persist &&
			(o.unit == "" || o.unit == opt) && more:
			o.unit = opt
			i++
			o.expire = args[i]
		default:
			return o, false
		}
	}
	return o, true
}

// deadline turns the expire option into an absolute Unix ms deadline (0 if
// none), with Redis's errors: not an integer, or not positive or
// overflowing ("invalid expire time in 'name' command", name being the
// command's lower-case name).
func (o *strOpts) deadline(c *Ctx, name string) (int64, resp.Value, bool) {
	if o.unit == "" {
		return 0, resp.Value{}, true
	}
	n, ok := argInt(o.expire)
	if !ok {
		return 0, errNotInt, false
	}
	seconds := o.unit == "EX" || o.unit == "EXAT"
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		return 0, expireTimeErr(name), false
	}
	if seconds {
		n *= 1000
	}
	if o.unit == "EX" || o.unit == "PX" {
		if n > math.MaxInt64-c.Now {
			return 0, expireTimeErr(name), false
		}
		n += c.Now
	}
	return n, resp.Value{}, true
}

// expireTimeErr is Redis's error for a deadline out of range, naming the
// command as Redis does (its lower-case name).
func expireTimeErr(name string) resp.Value {
	return resp.Err("ERR invalid expire time in '" + strings.ToLower(name) + "' command")
}

func cmdSet(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	o, ok := parseStrOpts(args[3:], true)
	if !ok {
		return errSyntax
	}
	expire, errv, ok := o.deadline(c, args[0].Text())
	if !ok {
		return errv
	}
	old := c.State.get(key, c.Now)
	var prev resp.Value
	if o.get {
		prev = resp.NullBulk()
		if old != nil {
			if prev, ok = c.reply(old.Val()); !ok {
				return errWrongType
			}
		}
	}
	if (o.nx && old != nil) || (o.xx && old == nil) {
		if o.get {
			return prev
		}
		return resp.NullBulk()
	}
	e := &Entry{Value: args[2].Clone(), Expire: expire, Mod: c.Index}
	if o.keepTTL && old != nil {
		e.Expire = old.Expire
	}
	c.State.put(key, e)
	if o.get {
		return prev
	}
	return c.OK()
}

func cmdSetNX(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	if c.State.get(key, c.Now) != nil {
		return resp.Int(0)
	}
	c.State.put(key, &Entry{Value: args[2].Clone(), Mod: c.Index})
	return resp.Int(1)
}

func cmdGetSet(c *Ctx, args []resp.Value) resp.Value {
	return cmdSet(c, []resp.Value{args[0], args[1], args[2], resp.BulkString("GET")})
}

func cmdGetDel(c *Ctx, args []resp.Value) resp.Value {
	key, v, found := lookupReply(c, args[1])
	if found {
		c.State.del(key, c.Now)
	}
	return v
}

func cmdMSet(c *Ctx, args []resp.Value) resp.Value {
	if len(args)%2 != 1 {
		return WrongArity("mset")
	}
	for i := 1; i < len(args); i += 2 {
		if _, ok := keyOf(args[i]); !ok {
			return errBadKey
		}
	}
	for i := 1; i < len(args); i += 2 {
		key, _ := keyOf(args[i])
		c.State.put(key, &Entry{Value: args[i+1].Clone(), Mod: c.Index})
	}
	if c.Mode == resp.Native {
		return resp.Int(int64(len(args) / 2))
	}
	return resp.OK()
}

func cmdIncr(c *Ctx, args []resp.Value) resp.Value { return incrBy(c, args[1], 1) }
func cmdDecr(c *Ctx, args []resp.Value) resp.Value { return incrBy(c, args[1], -1) }

func cmdIncrBy(c *Ctx, args []resp.Value) resp.Value {
	n, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	return incrBy(c, args[1], n)
}

func cmdDecrBy(c *Ctx, args []resp.Value) resp.Value {
	n, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	if n == math.MinInt64 { // -n would overflow; Redis's own message
		return resp.Err("ERR decrement would overflow")
	}
	return incrBy(c, args[1], -n)
}

// incrBy adds delta to the integer at key, keeping its deadline. The result
// is stored as an integer, so GET in native mode answers ':'.
func incrBy(c *Ctx, keyArg resp.Value, delta int64) resp.Value {
	key, ok := keyOf(keyArg)
	if !ok {
		return errBadKey
	}
	var cur int64
	e := c.State.get(key, c.Now)
	if e != nil {
		if !e.Val().IsScalar() {
			return errWrongType
		}
		if cur, ok = argInt(e.Val()); !ok {
			return errNotInt
		}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return resp.Err("ERR increment or decrement would overflow")
	}
	cur += delta
	c.replaceValue(key, e, resp.Int(cur))
	return resp.Int(cur)
}

func cmdAppend(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	if !args[2].IsScalar() {
		return errSyntax
	}
	var buf []byte
	var expire int64
	add := args[2].TextBytes()
	if e := c.State.get(key, c.Now); e != nil {
		if !isString(e) {
			return errWrongType
		}
		old := e.Value.TextBytes()
		if len(add) > maxString-len(old) {
			return errTooBig
		}
		buf = make([]byte, 0, len(old)+len(add))
		buf = append(buf, old...)
		expire = e.Expire
	}
	buf = append(buf, add...)
	c.State.put(key, &Entry{Value: resp.Bulk(buf), Expire: expire, Mod: c.Index})
	return resp.Int(int64(len(buf)))
}

// cmdSetEx serves SETEX key seconds value and PSETEX key ms value: SET with
// EX or PX, whose errors name the command itself.
func cmdSetEx(c *Ctx, args []resp.Value) resp.Value {
	unit := "EX"
	if argUpper(args[0]) == "PSETEX" {
		unit = "PX"
	}
	return cmdSet(c, []resp.Value{args[0], args[1], args[3], resp.BulkString(unit), args[2]})
}

// cmdIncrByFloat adds a float to the value at key, keeping its deadline,
// and answers (and stores) the result as text, as Redis does (addFloat).
func cmdIncrByFloat(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	if _, ok := argScore(args[2]); !ok {
		return errNotFloat
	}
	cur := "0"
	e := c.State.get(key, c.Now)
	if e != nil {
		v := e.Val()
		if !v.IsScalar() {
			return errWrongType
		}
		if _, ok := argScore(v); !ok {
			return errNotFloat
		}
		cur = v.Text()
	}
	sum, ok := addFloat(cur, args[2].Text())
	if !ok {
		return errFloatOverflow
	}
	out := resp.BulkString(sum)
	c.replaceValue(key, e, out)
	return out
}

var errFloatOverflow = resp.Err("ERR increment would produce NaN or Infinity")

// longDouble is the precision of C's long double on x86-64 (the x87
// extended format: a 64-bit mantissa), in which Redis adds floats.
const longDouble = 64

// addFloat adds two decimal texts (already checked with argScore) as
// INCRBYFLOAT and HINCRBYFLOAT do in Redis: parsed and added in long double
// precision, printed "%.17Lf" with trailing zeros dropped, so 0.1 + 0.2 is
// "0.3", not float64's 0.30000000000000004. It reports false if the sum
// is infinite or beyond long double's range.
func addFloat(a, b string) (string, bool) {
	x, _, err1 := big.ParseFloat(a, 0, longDouble, big.ToNearestEven)
	y, _, err2 := big.ParseFloat(b, 0, longDouble, big.ToNearestEven)
	if err1 != nil || err2 != nil || x.IsInf() || y.IsInf() {
		return "", false // an infinite operand, which ParseDouble allows
	}
	sum := x.Add(x, y)
	if sum.MantExp(nil) > 16384 { // past long double's largest finite value
		return "", false
	}
	s := sum.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s, true
}

// cmdGetEx serves GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]:
// GET that also sets or removes the key's deadline. A deadline in the
// past (EXAT, PXAT) deletes the key after answering its value. Checks
// come in Redis's order: options, the key's kind, the deadline's value.
func cmdGetEx(c *Ctx, args []resp.Value) resp.Value {
	o, ok := parseStrOpts(args[2:], false)
	if !ok {
		return errSyntax
	}
	key, v, found := lookupReply(c, args[1])
	if !found {
		return v
	}
	expire, errv, ok := o.deadline(c, args[0].Text())
	if !ok {
		return errv
	}
	e := c.State.get(key, c.Now)
	switch {
	case (o.unit == "EXAT" || o.unit == "PXAT") && expire <= c.Now:
		c.State.del(key, c.Now)
	case o.unit != "":
		c.State.put(key, e.with(expire, c.Index))
	case o.persist && e.Expire != 0:
		c.State.put(key, e.with(0, c.Index))
	}
	return v
}

// cmdGetRange serves GETRANGE key start end (and its old name SUBSTR): the
// bytes from start to end inclusive, negative offsets counting from the
// end, clamped as Redis clamps them; an empty string if none.
func cmdGetRange(c *Ctx, args []resp.Value) resp.Value {
	start, ok1 := argInt(args[2])
	end, ok2 := argInt(args[3])
	if !ok1 || !ok2 {
		return errNotInt
	}
	_, e, b, errv, ok := stringOf(c, args[1])
	if !ok {
		return errv
	}
	if e == nil {
		return resp.BulkString("")
	}
	n := int64(len(b))
	if start < 0 && end < 0 && start > end {
		return resp.BulkString("")
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return resp.BulkString("")
	}
	return resp.BulkString(string(b[start : end+1]))
}

// cmdSetRange serves SETRANGE key offset value: it overwrites the string
// from offset on, padding with zero bytes, and answers the new length. A
// result past maxString is refused before anything is allocated.
func cmdSetRange(c *Ctx, args []resp.Value) resp.Value {
	offset, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	if offset < 0 {
		return resp.Err("ERR offset is out of range")
	}
	if !args[3].IsScalar() {
		return errSyntax
	}
	value := args[3].TextBytes()
	key, e, old, errv, ok := stringOf(c, args[1])
	if !ok {
		return errv
	}
	if len(value) == 0 {
		return resp.Int(int64(len(old)))
	}
	if offset > int64(maxString-len(value)) {
		return errTooBig
	}
	buf := make([]byte, max(len(old), int(offset)+len(value)))
	copy(buf, old)
	copy(buf[offset:], value)
	c.replaceValue(key, e, resp.Bulk(buf))
	return resp.Int(int64(len(buf)))
}

// cmdMSetNX serves MSETNX k v [k v ...]: all the pairs are set, or none if
// any key exists (1 or 0).
func cmdMSetNX(c *Ctx, args []resp.Value) resp.Value {
	if len(args)%2 != 1 {
		return WrongArity("msetnx")
	}
	for i := 1; i < len(args); i += 2 {
		if _, ok := keyOf(args[i]); !ok {
			return errBadKey
		}
	}
	for i := 1; i < len(args); i += 2 {
		key, _ := keyOf(args[i])
		if c.State.get(key, c.Now) != nil {
			return resp.Int(0)
		}
	}
	for i := 1; i < len(args); i += 2 {
		key, _ := keyOf(args[i])
		c.State.put(key, &Entry{Value: args[i+1].Clone(), Mod: c.Index})
	}
	return resp.Int(1)
}

// cmdLCS serves LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]:
// the longest common subsequence of two strings (a missing key is empty),
// its length, or the matching ranges, found as Redis finds them (the
// dynamic-programming table, walked back from the ends), so that the same
// ranges come out in the same order. The table's size is refused past
// maxString, as Redis refuses it past proto-max-bulk-len.
func cmdLCS(c *Ctx, args []resp.Value) resp.Value {
	_, _, a, _, oka := stringOf(c, args[1])
	_, _, b, _, okb := stringOf(c, args[2])
	if !oka || !okb {
		return resp.Err("ERR The specified keys must contain string values")
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for j := 3; j < len(args); j++ {
		switch opt := argUpper(args[j]); {
		case opt == "IDX":
			getIdx = true
		case opt == "LEN":
			getLen = true
		case opt == "WITHMATCHLEN":
			withLen = true
		case opt == "MINMATCHLEN" && j+1 < len(args):
			n, ok := argInt(args[j+1])
			if !ok {
				return errNotInt
			}
			minLen = max(n, 0)
			j++
		default:
			return errSyntax
		}
	}
	if getLen && getIdx {
		return resp.Err("ERR If you want both the length and indexes, please just use IDX.")
	}
	alen, blen := len(a), len(b)
	if int64(alen+1)*int64(blen+1)*4 > maxString {
		return resp.Err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
	}
	w := blen + 1
	lcs := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			switch {
			case a[i-1] == b[j-1]:
				lcs[i*w+j] = lcs[(i-1)*w+j-1] + 1
			default:
				lcs[i*w+j] = max(lcs[(i-1)*w+j], lcs[i*w+j-1])
			}
		}
	}
	total := lcs[alen*w+blen]
	if getLen {
		return resp.Int(int64(total))
	}
	result := make([]byte, total)
	var matches []resp.Value
	idx := total
	// A range being tracked: aStart == alen means none.
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
	for i, j := alen, blen; i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[(i-1)*w+j] > lcs[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			n := int64(aEnd - aStart + 1)
			if getIdx && (minLen == 0 || n >= minLen) {
				m := []resp.Value{
					resp.Array(resp.Int(int64(aStart)), resp.Int(int64(aEnd))),
					resp.Array(resp.Int(int64(bStart)), resp.Int(int64(bEnd))),
				}
				if withLen {
					m = append(m, resp.Int(n))
				}
				matches = append(matches, resp.Array(m...))
			}
			aStart = alen
		}
	}
	if getIdx {
		return resp.Dict(resp.BulkString("matches"), resp.Array(matches...), resp.BulkString("len"), resp.Int(int64(total)))
	}
	return resp.Bulk(result)
}

// replaceValue stores v as key's new string value, keeping old's deadline
// (old nil: a new key without one), as INCR, APPEND, SETRANGE and SETBIT
// do.
func (c *Ctx) replaceValue(key string, old *Entry, v resp.Value) {
	e := &Entry{Value: v, Mod: c.Index}
	if old != nil {
		e.Expire = old.Expire
	}
	c.State.put(key, e)
}
