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
		{args: req("SET", "k", "v", "EX", "10", "EX", "10"), want: syntaxErr},
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
