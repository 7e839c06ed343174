package fsm

import (
	"math"
	"math/big"
	"strings"

	"github.com/kvorum/kvorum/resp"
)

// String commands: the tutorial's GET/SET/MGET/MSET and Redis's string family.
// A "string" here is any value the tutorial can store: bytes, an integer, an
// array or a dict, nested (SPEC §2).
func stringCommands() []Command {
	return []Command{
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
	}
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

// setOptions are SET's EX/PX/EXAT/PXAT/NX/XX/GET/KEEPTTL.
type setOptions struct {
	expire  int64 // absolute Unix ms, 0 none
	nx, xx  bool
	get     bool
	keepTTL bool
}

func parseSetOptions(c *Ctx, args []resp.Value) (setOptions, resp.Value, bool) {
	var o setOptions
	for i := 0; i < len(args); i++ {
		opt := argUpper(args[i])
		switch opt {
		case "NX":
			o.nx = true
		case "XX":
			o.xx = true
		case "GET":
			o.get = true
		case "KEEPTTL":
			o.keepTTL = true
		case "EX", "PX", "EXAT", "PXAT":
			if i+1 >= len(args) || o.expire != 0 {
				return o, errSyntax, false
			}
			i++
			n, ok := argInt(args[i])
			if !ok {
				return o, errNotInt, false
			}
			if n <= 0 {
				return o, errExpire, false
			}
			unit := int64(1)
			if opt == "EX" || opt == "EXAT" {
				if n > math.MaxInt64/1000 {
					return o, errExpire, false
				}
				unit = 1000
			}
			o.expire = n * unit
			if opt == "EX" || opt == "PX" {
				if o.expire > math.MaxInt64-c.Now {
					return o, errExpire, false
				}
				o.expire += c.Now
			}
		default:
			return o, errSyntax, false
		}
	}
	if (o.nx && o.xx) || (o.keepTTL && o.expire != 0) {
		return o, errSyntax, false
	}
	return o, resp.Value{}, true
}

func cmdSet(c *Ctx, args []resp.Value) resp.Value {
	key, ok := keyOf(args[1])
	if !ok {
		return errBadKey
	}
	o, errv, ok := parseSetOptions(c, args[3:])
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
	e := &Entry{Value: args[2].Clone(), Expire: o.expire, Mod: c.Index}
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
	ne := &Entry{Value: resp.Int(cur), Mod: c.Index}
	if e != nil {
		ne.Expire = e.Expire
	}
	c.State.put(key, ne)
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
	if e := c.State.get(key, c.Now); e != nil {
		if !e.Val().IsScalar() {
			return errWrongType
		}
		buf = append(buf, e.Val().Text()...)
		expire = e.Expire
	}
	buf = append(buf, args[2].Text()...)
	c.State.put(key, &Entry{Value: resp.Bulk(buf), Expire: expire, Mod: c.Index})
	return resp.Int(int64(len(buf)))
}

// cmdSetEx serves SETEX key seconds value and PSETEX key ms value: SET with
// EX or PX.
func cmdSetEx(c *Ctx, args []resp.Value) resp.Value {
	n, ok := argInt(args[2])
	if !ok {
		return errNotInt
	}
	if n <= 0 {
		return resp.Err("ERR invalid expire time in '" + strings.ToLower(args[0].Text()) + "' command")
	}
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
	ne := &Entry{Value: out, Mod: c.Index}
	if e != nil {
		ne.Expire = e.Expire
	}
	c.State.put(key, ne)
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
