package fsm_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/kvorum/kvorum/resp"
)

const (
	maxInt = math.MaxInt64
	minInt = math.MinInt64
)

func TestFSM_SetOptions(t *testing.T) {
	list := arr("a", "b")
	runModes(t, []step{
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("SET", "k", "v2", "NX"), want: null},
		{args: req("GET", "k"), want: bulk("v")},
		{args: req("SET", "k", "v3", "xx"), want: plusOK},
		{args: req("GET", "k"), want: bulk("v3")},
		{args: req("SET", "nokey", "v", "XX"), want: null},
		{args: req("EXISTS", "nokey"), want: num(0)},
		{args: req("SET", "nk", "v", "nx"), want: plusOK},
		{args: req("GET", "nk"), want: bulk("v")},

		// GET returns the old value (nil if none) and sets, alone or with NX/XX.
		{args: req("SET", "k", "v4", "GET"), want: bulk("v3")},
		{args: req("GET", "k"), want: bulk("v4")},
		{args: req("SET", "fresh", "v", "GET"), want: null},
		{args: req("GET", "fresh"), want: bulk("v")},
		{args: req("SET", "k", "v5", "NX", "GET"), want: bulk("v4")},
		{args: req("GET", "k"), want: bulk("v4")},
		{args: req("SET", "new", "v", "NX", "GET"), want: null},
		{args: req("GET", "new"), want: bulk("v")},
		{args: req("SET", "absent", "v", "XX", "GET"), want: null},
		{args: req("EXISTS", "absent"), want: num(0)},
		{args: req("SET", "n", 12), want: plusOK},
		{args: req("SET", "n", "x", "GET"), want: bulk("12")},
		{args: req("GETSET", "n", "y"), want: bulk("x")},
		{args: req("GETSET", "gs", "y"), want: null},
		{args: req("GET", "gs"), want: bulk("y")},

		// A list or hash: GET refuses it and leaves it be; a plain SET replaces it.
		{args: req("MSET", "list", list, "hash", dict("f", "v")), want: plusOK},
		{args: req("SET", "list", "v", "GET"), want: wrongType},
		{args: req("GETSET", "hash", "v"), want: wrongType},
		{args: req("GETDEL", "list"), want: wrongType},
		{args: req("TYPE", "list"), want: resp.Simple("list")},
		{args: req("TYPE", "hash"), want: resp.Simple("hash")},
		{args: req("SET", "list", "v"), want: plusOK},
		{args: req("TYPE", "list"), want: resp.Simple("string")},

		{args: req("SETNX", "k", "other"), want: num(0)},
		{args: req("SETNX", "snx", "v"), want: num(1)},
		{args: req("GETDEL", "snx"), want: bulk("v")},
		{args: req("GETDEL", "snx"), want: null},
		{args: req("EXISTS", "snx"), want: num(0)},

		// Option errors, each leaving the key as it was.
		{args: req("SET", "k", "v", "EX", 0), want: setExpire},
		{args: req("SET", "k", "v", "EX", -1), want: setExpire},
		{args: req("SET", "k", "v", "PX", "0"), want: setExpire},
		{args: req("SET", "k", "v", "PX", "abc"), want: notInt},
		{args: req("SET", "k", "v", "EX", "1.5"), want: notInt},
		{args: req("SET", "k", "v", "EX", "10", "PX", "10"), want: syntaxErr},
		{args: req("SET", "k", "v", "PXAT", "10", "EXAT", "10"), want: syntaxErr},
		{args: req("SET", "k", "v", "EX", "abc", "FOO"), want: syntaxErr}, // the whole list parses first
		{args: req("SET", "k", "v", "PX", "0", "NX", "XX"), want: syntaxErr},
		{args: req("SET", "k", "v", "KEEPTTL", "PERSIST"), want: syntaxErr},
		{args: req("SET", "k", "v", "NX", "XX"), want: syntaxErr},
		{args: req("SET", "k", "v", "KEEPTTL", "EX", "5"), want: syntaxErr},
		{args: req("SET", "k", "v", "EX"), want: syntaxErr},
		{args: req("SET", "k", "v", "FOO"), want: syntaxErr},
		{args: req("SET", "k", "v", arr("NX")), want: syntaxErr},
		{args: req("SET", "k", "v", "EX", maxInt), want: setExpire},
		{args: req("SET", "k", "v", "EX", maxInt/1000), want: setExpire},
		{args: req("SET", "k", "v", "PX", maxInt), want: setExpire},
		{args: req("SET", "k", "v", "EXAT", maxInt), want: setExpire},
		{args: req("GET", "k"), want: bulk("v4")},
		{args: req("TTL", "k"), want: num(-1)},

		// Keys must be strings or integers.
		{args: req("SET", arr("k"), "v"), want: resp.Err("ERR invalid key: a key must be a string or an integer")},
		{args: req("SET", nil, "v"), want: resp.Err("ERR invalid key: a key must be a string or an integer")},
	}, resp.RESP2, resp.RESP3)
}

// TestFSM_SetNative: in native mode SET answers :1 however it is asked, and
// SET ... GET answers a list or hash as it is stored.
func TestFSM_SetNative(t *testing.T) {
	list := arr("a", arr(1, 2))
	runModes(t, []step{
		{args: req("SET", "k", list), want: num(1)},
		{args: req("SET", "k", "v", "GET"), want: list},
		{args: req("SET", "k", "w", "XX", "EX", 10), want: num(1)},
		{args: req("SET", "k", "x", "NX"), want: null},
		{args: req("SETNX", "k", "x"), want: num(0)},
		{args: req("GETSET", "k", list), want: bulk("w")},
		{args: req("GETDEL", "k"), want: list},
		{args: req("MSET", "a", 1, "b", 2, "c", 3), want: num(3)},
		{args: req("FLUSHALL"), want: num(1)},
		{args: req("DBSIZE"), want: num(0)},
	}, resp.Native)
}

func TestFSM_Expiry(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "k", "v", "EX", 10), want: plusOK},
		{args: req("TTL", "k"), want: num(10)},
		{args: req("PTTL", "k"), want: num(10000)},
		{later: 1500, args: req("TTL", "k"), want: num(9)}, // 8.5 s left rounds up, as Redis rounds
		{args: req("PTTL", "k"), want: num(8500)},
		{args: req("SET", "k", "v2", "KEEPTTL"), want: plusOK},
		{args: req("PTTL", "k"), want: num(8500)},
		{args: req("INCR", "ctr"), want: num(1)},
		{args: req("SET", "k", "v3", "XX", "GET", "KEEPTTL"), want: bulk("v2")},
		{args: req("PTTL", "k"), want: num(8500)},
		{args: req("SET", "k", "v4"), want: plusOK}, // a plain SET drops the deadline
		{args: req("TTL", "k"), want: num(-1)},
		{args: req("SET", "k", "v", "KEEPTTL"), want: plusOK},
		{args: req("TTL", "k"), want: num(-1)},
		{args: req("TTL", "missing"), want: num(-2)},
		{args: req("PTTL", "missing"), want: num(-2)},

		// The deadline is the last millisecond the key lives before.
		{args: req("SET", "p", "v", "PX", 100), want: plusOK},
		{later: 99, args: req("GET", "p"), want: bulk("v")},
		{args: req("PTTL", "p"), want: num(1)},
		{args: req("DBSIZE"), want: num(3)},
		{later: 1, args: req("GET", "p"), want: null},
		{args: req("EXISTS", "p"), want: num(0)},
		{args: req("TTL", "p"), want: num(-2)},
		{args: req("TYPE", "p"), want: resp.Simple("none")},
		{args: req("MGET", "p", "k"), want: arr(nil, "v")},
		{args: req("STRLEN", "p"), want: num(0)},
		{args: req("KEYS", "*"), want: arr("ctr", "k")},
		{args: req("DBSIZE"), want: num(2)},

		// Writes see an expired key as absent.
		{args: req("SET", "p", "new", "NX"), want: plusOK},
		{args: req("GET", "p"), want: bulk("new")},
		{args: req("TTL", "p"), want: num(-1)},
		{args: req("SET", "e", 41, "PX", 10), want: plusOK},
		{later: 10, args: req("INCR", "e"), want: num(1)},
		{args: req("SET", "e", "abc", "PX", 10), want: plusOK},
		{later: 10, args: req("APPEND", "e", "x"), want: num(1)},
		{args: req("SET", "e", "v", "PX", 10), want: plusOK},
		{later: 10, args: req("RENAME", "e", "f"), want: noSuchKey},
		{args: req("SET", "e", "v", "PX", 10), want: plusOK},
		{later: 10, args: req("DEL", "e"), want: num(0)},
		{args: req("SET", "e", "v", "PX", 10), want: plusOK},
		{later: 10, args: req("SET", "e", "w", "XX"), want: null},
		{args: req("SET", "e", "v", "PX", 10), want: plusOK},
		{later: 10, args: req("GETSET", "e", "w"), want: null},
		{args: req("SET", "e", "v", "PX", 10), want: plusOK},
		{later: 10, args: req("EXPIRE", "e", 100), want: num(0)},
		{args: req("PERSIST", "e"), want: num(0)},
	}, resp.RESP2)

	// Absolute deadlines and FLUSH's count.
	n := newNode(t, resp.Native)
	at := strconv.FormatInt(t0/1000+20, 10)
	n.run([]step{
		{args: req("SET", "a", "v", "EXAT", at), want: num(1)},
		{args: req("TTL", "a"), want: num(20)},
		{args: req("SET", "b", "v", "PXAT", t0+1234), want: num(1)},
		{args: req("PTTL", "b"), want: num(1234)},
		{args: req("SET", "c", "v", "PXAT", t0-1), want: num(1)}, // in the past: set and gone
		{args: req("EXISTS", "c"), want: num(0)},
		{args: req("SET", "d", "v"), want: num(1)},
		{later: 1234, args: req("FLUSH"), want: num(2)}, // a and d; b and c have expired
	})
}

func TestFSM_StringsReadCommands(t *testing.T) {
	runModes(t, []step{
		{args: req("MSET", "s", "hello", "n", 12345, "l", arr(1), "e", ""), want: plusOK},
		{args: req("STRLEN", "s"), want: num(5)},
		{args: req("STRLEN", "n"), want: num(5)},
		{args: req("STRLEN", "e"), want: num(0)},
		{args: req("STRLEN", "missing"), want: num(0)},
		{args: req("STRLEN", "l"), want: wrongType},
		{args: req("MGET", "s", "l", "n", "missing", "s"), want: arr("hello", nil, "12345", nil, "hello")},
		{args: req("GET", "e"), want: bulk("")},
	}, resp.RESP2, resp.RESP3)
}

func TestFSM_Incr(t *testing.T) {
	steps := []step{
		{args: req("INCR", "c"), want: num(1)},
		{args: req("INCRBY", "c", 10), want: num(11)},
		{args: req("INCRBY", "c", "-20"), want: num(-9)},
		{args: req("DECR", "c"), want: num(-10)},
		{args: req("DECRBY", "c", "3"), want: num(-13)},
		{args: req("DECRBY", "c", -13), want: num(0)},
		{args: req("SET", "s", "41"), want: plusOK},
		{args: req("INCR", "s"), want: num(42)},
		{args: req("GET", "s"), want: bulk("42")},

		// Limits: the reply is an error and the value stays.
		{args: req("SET", "big", strconv.FormatInt(maxInt, 10)), want: plusOK},
		{args: req("INCR", "big"), want: overflow},
		{args: req("INCRBY", "big", 1), want: overflow},
		{args: req("DECRBY", "big", -1), want: overflow},
		{args: req("GET", "big"), want: bulk(strconv.FormatInt(maxInt, 10))},
		{args: req("INCRBY", "big", minInt), want: num(-1)},
		{args: req("SET", "small", minInt), want: plusOK},
		{args: req("DECR", "small"), want: overflow},
		{args: req("INCRBY", "small", -1), want: overflow},
		{args: req("INCRBY", "small", maxInt), want: num(-1)},
		{args: req("DECRBY", "x", minInt), want: resp.Err("ERR decrement would overflow")},
		{args: req("INCRBY", "x", "9223372036854775808"), want: notInt},
		{args: req("EXISTS", "x"), want: num(0)},

		// What is not an integer, as Redis's string2ll decides.
		{args: req("INCRBY", "c", "abc"), want: notInt},
		{args: req("INCRBY", "c", "1.5"), want: notInt},
		{args: req("INCRBY", "c", arr(1)), want: notInt},
		{args: req("MSET", "a", "hello", "b", " 1", "c2", "+1", "d", "01", "e", "1.5", "f", "", "g", "1 "), want: plusOK},
		{args: req("INCR", "a"), want: notInt},
		{args: req("INCR", "b"), want: notInt},
		{args: req("INCR", "c2"), want: notInt},
		{args: req("INCR", "d"), want: notInt},
		{args: req("INCR", "e"), want: notInt},
		{args: req("INCR", "f"), want: notInt},
		{args: req("DECR", "g"), want: notInt},
		{args: req("GET", "a"), want: bulk("hello")},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("INCR", "l"), want: wrongType},
		{args: req("INCRBY", "l", 1), want: wrongType},

		// INCR keeps the deadline.
		{args: req("SET", "t", 5, "EX", 100), want: plusOK},
		{later: 1000, args: req("INCR", "t"), want: num(6)},
		{args: req("TTL", "t"), want: num(99)},
	}
	runModes(t, steps, resp.RESP2)

	// Native mode: the counter is stored and answered as an integer.
	runModes(t, []step{
		{args: req("INCRBY", "c", 5), want: num(5)},
		{args: req("GET", "c"), want: num(5)},
		{args: req("MGET", "c"), want: arr(5)},
	}, resp.Native)
}

func TestFSM_Append(t *testing.T) {
	runModes(t, []step{
		{args: req("APPEND", "a", "Hello"), want: num(5)},
		{args: req("APPEND", "a", " World"), want: num(11)},
		{args: req("GET", "a"), want: bulk("Hello World")},
		{args: req("APPEND", "a", "\r\n\x00"), want: num(14)},
		{args: req("GET", "a"), want: bulk("Hello World\r\n\x00")},
		{args: req("SET", "n", 12), want: num(1)},
		{args: req("APPEND", "n", 3), want: num(3)},
		{args: req("GET", "n"), want: bulk("123")}, // appended: now bytes, not an integer
		{args: req("INCR", "n"), want: num(124)},
		{args: req("SET", "l", arr("x")), want: num(1)},
		{args: req("APPEND", "l", "y"), want: wrongType},
		{args: req("APPEND", "a", arr("y")), want: syntaxErr},
		{args: req("SET", "t", "v", "PX", 5000), want: num(1)},
		{args: req("APPEND", "t", "w"), want: num(2)},
		{args: req("PTTL", "t"), want: num(5000)},
		{args: req("APPEND", "e", ""), want: num(0)},
		{args: req("EXISTS", "e"), want: num(1)},
	}, resp.Native)
}

// SETEX/PSETEX, INCRBYFLOAT and SCAN as Redis 7 answers them.
func TestStrings_Extras(t *testing.T) {
	runModes(t, []step{
		{args: req("SETEX", "a", 100, "v"), want: plusOK},
		{args: req("TTL", "a"), want: num(100)},
		{args: req("PSETEX", "b", 1500, "v"), want: plusOK},
		{args: req("PTTL", "b"), want: num(1500)},
		{args: req("SETEX", "c", 0, "v"), want: resp.Err("ERR invalid expire time in 'setex' command")},
		{args: req("INCRBYFLOAT", "f", "10.5"), want: bulk("10.5")},
		{args: req("INCRBYFLOAT", "f", "0.1"), want: bulk("10.6")},
		{args: req("INCRBYFLOAT", "f", "x"), want: resp.Err("ERR value is not a valid float")},
		{args: req("SCAN", 0, "COUNT", 2), want: arr("2", arr("a", "b"))},
		{args: req("SCAN", 2, "COUNT", 2), want: arr("0", arr("f"))},
		{args: req("SCAN", 0, "MATCH", "[ab]", "COUNT", 10), want: arr("0", arr("a", "b"))},
		{args: req("SCAN", 0, "TYPE", "list"), want: arr("0", arr())},
	}, resp.RESP2)
}

// SET's options as Redis parses them: the same unit may come again (the
// last wins); errors name the command that was sent.
func TestStrings_SetOptionOrder(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "k", "v", "EX", 10, "EX", 20), want: plusOK},
		{args: req("TTL", "k"), want: num(20)},
		{args: req("SET", "k", "v", "PX", 10, "EX", 20), want: syntaxErr},
		{args: req("SET", "k", "v", "NX", "NX"), want: null},
		{args: req("SET", "k", "v", "GET", "GET", "KEEPTTL"), want: bulk("v")},
		{args: req("TTL", "k"), want: num(20)},
		{args: req("SET", "k", "v", "KEEPTTL", "KEEPTTL"), want: plusOK},
		{args: req("SET", "k", "v", "PERSIST"), want: syntaxErr},
		{args: req("SETEX", "k", 0, "v"), want: resp.Err("ERR invalid expire time in 'setex' command")},
		{args: req("psetex", "k", -1, "v"), want: resp.Err("ERR invalid expire time in 'psetex' command")},
		{args: req("SETEX", "k", maxInt, "v"), want: resp.Err("ERR invalid expire time in 'setex' command")},
		{args: req("SETEX", "k", "x", "v"), want: notInt},
		// The deadline is checked before GET looks at the old value's kind.
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("SET", "l", "v", "GET", "EX", 0), want: setExpire},
		{args: req("SET", "l", "v", "GET", "EX", 5), want: wrongType},
	}, resp.RESP2, resp.RESP3)
}

func TestStrings_GetEx(t *testing.T) {
	getexExpire := resp.Err("ERR invalid expire time in 'getex' command")
	runModes(t, []step{
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("GETEX", "k"), want: bulk("v")},
		{args: req("TTL", "k"), want: num(-1)},
		{args: req("GETEX", "k", "EX", 100), want: bulk("v")},
		{args: req("TTL", "k"), want: num(100)},
		{args: req("GETEX", "k", "px", 5000), want: bulk("v")},
		{args: req("PTTL", "k"), want: num(5000)},
		{args: req("GETEX", "k", "EXAT", strconv.FormatInt(t0/1000+50, 10)), want: bulk("v")},
		{args: req("TTL", "k"), want: num(50)},
		{args: req("GETEX", "k", "PXAT", t0+1234), want: bulk("v")},
		{args: req("PTTL", "k"), want: num(1234)},
		{args: req("GETEX", "k", "PERSIST"), want: bulk("v")},
		{args: req("TTL", "k"), want: num(-1)},
		{args: req("GETEX", "k", "PERSIST"), want: bulk("v")},
		{args: req("GETEX", "k", "EX", 10, "EX", 20), want: bulk("v")},
		{args: req("TTL", "k"), want: num(20)},

		// A deadline in the past deletes the key after answering it.
		{args: req("GETEX", "k", "PXAT", t0-1), want: bulk("v")},
		{args: req("EXISTS", "k"), want: num(0)},
		{args: req("SET", "k", "v"), want: plusOK},
		{args: req("GETEX", "k", "EXAT", 1), want: bulk("v")},
		{args: req("GET", "k"), want: null},

		// Integers answer as text; a missing key answers null, even with a
		// bad deadline; options first, then the kind, then the deadline.
		{args: req("SET", "n", 42), want: plusOK},
		{args: req("GETEX", "n", "EX", 5), want: bulk("42")},
		{args: req("GETEX", "missing", "EX", "abc"), want: null},
		{args: req("GETEX", "n", "EX", "abc"), want: notInt},
		{args: req("GETEX", "n", "EX", 0), want: getexExpire},
		{args: req("GETEX", "n", "PX", -5), want: getexExpire},
		{args: req("GETEX", "n", "EX", maxInt), want: getexExpire},
		{args: req("GETEX", "n", "PX", maxInt), want: getexExpire},
		{args: req("GETEX", "n", "EX"), want: syntaxErr},
		{args: req("GETEX", "n", "NX"), want: syntaxErr},
		{args: req("GETEX", "n", "KEEPTTL"), want: syntaxErr},
		{args: req("GETEX", "n", "PERSIST", "EX", 5), want: syntaxErr},
		{args: req("GETEX", "n", "EX", 5, "PERSIST"), want: syntaxErr},
		{args: req("GETEX", "n", "EX", 5, "PX", 5), want: syntaxErr},
		{args: req("GETEX", "missing", "BOGUS"), want: syntaxErr},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("GETEX", "l", "EX", "abc"), want: wrongType},
		{args: req("GETEX", "l"), want: wrongType},
		{args: req("GETEX"), want: arity("getex")},
	}, resp.RESP2, resp.RESP3)

	// Native mode answers the value as stored, a list too.
	runModes(t, []step{
		{args: req("SET", "l", arr(1, 2)), want: num(1)},
		{args: req("GETEX", "l", "EX", 5), want: arr(1, 2)},
		{args: req("TTL", "l"), want: num(5)},
		{args: req("SET", "n", 7), want: num(1)},
		{args: req("GETEX", "n", "PERSIST"), want: num(7)},
	}, resp.Native)
}

func TestStrings_GetRange(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "s", "This is a string"), want: plusOK},
		{args: req("GETRANGE", "s", 0, 3), want: bulk("This")},
		{args: req("GETRANGE", "s", -3, -1), want: bulk("ing")},
		{args: req("GETRANGE", "s", 0, -1), want: bulk("This is a string")},
		{args: req("GETRANGE", "s", 10, 100), want: bulk("string")},
		{args: req("GETRANGE", "s", 5, 3), want: bulk("")},
		{args: req("GETRANGE", "s", -1, -5), want: bulk("")},
		{args: req("GETRANGE", "s", -100, 2), want: bulk("Thi")},
		{args: req("GETRANGE", "s", 0, -100), want: bulk("T")},
		{args: req("GETRANGE", "s", 100, 200), want: bulk("")},
		{args: req("GETRANGE", "s", minInt, maxInt), want: bulk("This is a string")},
		{args: req("SUBSTR", "s", 0, 3), want: bulk("This")},
		{args: req("SET", "n", 1234), want: plusOK},
		{args: req("GETRANGE", "n", 1, 2), want: bulk("23")},
		{args: req("SET", "e", ""), want: plusOK},
		{args: req("GETRANGE", "e", 0, -1), want: bulk("")},
		{args: req("GETRANGE", "missing", 0, -1), want: bulk("")},
		{args: req("GETRANGE", "missing", "x", -1), want: notInt},
		{args: req("GETRANGE", "s", 0, "1.5"), want: notInt},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("GETRANGE", "l", 0, -1), want: wrongType},
		{args: req("GETRANGE", "l", "x", -1), want: notInt},
	}, resp.RESP2, resp.RESP3)
}

func TestStrings_SetRange(t *testing.T) {
	tooBig := resp.Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	runModes(t, []step{
		{args: req("SETRANGE", "k", 0, "foo"), want: num(3)},
		{args: req("GET", "k"), want: bulk("foo")},
		{args: req("SETRANGE", "k", 1, "b"), want: num(3)},
		{args: req("GET", "k"), want: bulk("fbo")},
		{args: req("SETRANGE", "k", 5, "xy"), want: num(7)},
		{args: req("GET", "k"), want: bulk("fbo\x00\x00xy")},
		{args: req("SETRANGE", "k", 2, ""), want: num(7)},
		{args: req("SETRANGE", "k", 100, ""), want: num(7)},
		{args: req("SETRANGE", "missing", 0, ""), want: num(0)},
		{args: req("EXISTS", "missing"), want: num(0)},
		{args: req("SETRANGE", "pad", 3, "a"), want: num(4)},
		{args: req("GET", "pad"), want: bulk("\x00\x00\x00a")},

		// An integer is its text; the deadline stays.
		{args: req("SET", "n", 1234, "EX", 50), want: plusOK},
		{args: req("SETRANGE", "n", 1, "99"), want: num(4)},
		{args: req("GET", "n"), want: bulk("1994")},
		{args: req("TTL", "n"), want: num(50)},
		{args: req("INCR", "n"), want: num(1995)},

		// Errors: offset first, then the kind, then the size.
		{args: req("SETRANGE", "k", -1, "x"), want: resp.Err("ERR offset is out of range")},
		{args: req("SETRANGE", "k", "x", "x"), want: notInt},
		{args: req("SETRANGE", "k", 536870911, "xy"), want: tooBig},
		{args: req("SETRANGE", "k", 536870910, ""), want: num(7)},
		{args: req("SETRANGE", "new", maxInt, "x"), want: tooBig},
		{args: req("SETRANGE", "new", 536870908, "world"), want: tooBig},
		{args: req("EXISTS", "new"), want: num(0)},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("SETRANGE", "l", 0, "x"), want: wrongType},
		{args: req("SETRANGE", "l", -1, "x"), want: resp.Err("ERR offset is out of range")},
		{args: req("SETRANGE", "l", 0, ""), want: wrongType},
	}, resp.RESP2, resp.RESP3)
}

func TestStrings_MSetNX(t *testing.T) {
	runModes(t, []step{
		{args: req("MSETNX", "a", "1", "b", "2"), want: num(1)},
		{args: req("MGET", "a", "b"), want: arr("1", "2")},
		{args: req("MSETNX", "c", "3", "a", "x"), want: num(0)},
		{args: req("EXISTS", "c"), want: num(0)},
		{args: req("GET", "a"), want: bulk("1")},
		{args: req("MSETNX", "d", "x", "d", "y"), want: num(1)},
		{args: req("GET", "d"), want: bulk("y")},
		{args: req("MSETNX", "e", "1", "f"), want: arity("msetnx")},
		{args: req("MSETNX", "e"), want: arity("msetnx")},
		{args: req("SET", "t", "v", "PX", 10), want: plusOK},
		{later: 10, args: req("MSETNX", "t", "w"), want: num(1)}, // an expired key is no key
		{args: req("GET", "t"), want: bulk("w")},
	}, resp.RESP2, resp.RESP3)
}

func TestStrings_LCS(t *testing.T) {
	runModes(t, []step{
		{args: req("MSET", "a", "ohmytext", "b", "mynewtext", "n", 12345, "m", 2340), want: plusOK},
		{args: req("LCS", "a", "b"), want: bulk("mytext")},
		{args: req("LCS", "a", "b", "LEN"), want: num(6)},
		{args: req("LCS", "a", "b", "IDX"), want: dict("matches", arr(arr(arr(4, 7), arr(5, 8)), arr(arr(2, 3), arr(0, 1))), "len", 6)},
		{args: req("LCS", "a", "b", "IDX", "WITHMATCHLEN"),
			want: dict("matches", arr(arr(arr(4, 7), arr(5, 8), 4), arr(arr(2, 3), arr(0, 1), 2)), "len", 6)},
		{args: req("LCS", "a", "b", "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN"), want: dict("matches", arr(arr(arr(4, 7), arr(5, 8), 4)), "len", 6)},
		{args: req("LCS", "a", "b", "IDX", "MINMATCHLEN", -4), want: dict("matches", arr(arr(arr(4, 7), arr(5, 8)), arr(arr(2, 3), arr(0, 1))), "len", 6)},
		{args: req("LCS", "a", "missing"), want: bulk("")},
		{args: req("LCS", "missing", "a", "IDX"), want: dict("matches", arr(), "len", 0)},
		{args: req("LCS", "n", "m"), want: bulk("234")},
		{args: req("LCS", "a", "b", "LEN", "IDX"), want: resp.Err("ERR If you want both the length and indexes, please just use IDX.")},
		{args: req("LCS", "a", "b", "MINMATCHLEN"), want: syntaxErr},
		{args: req("LCS", "a", "b", "MINMATCHLEN", "x"), want: notInt},
		{args: req("LCS", "a", "b", "BOGUS"), want: syntaxErr},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("LCS", "a", "l", "BOGUS"), want: resp.Err("ERR The specified keys must contain string values")},
	}, resp.RESP2, resp.RESP3)
}
