package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

func TestBits_SetGetBit(t *testing.T) {
	offsetErr := resp.Err("ERR bit offset is not an integer or out of range")
	bitErr := resp.Err("ERR bit is not an integer or out of range")
	runModes(t, []step{
		{args: req("SETBIT", "k", 7, 1), want: num(0)},
		{args: req("GET", "k"), want: bulk("\x01")},
		{args: req("SETBIT", "k", 7, 1), want: num(1)},
		{args: req("SETBIT", "k", 7, 0), want: num(1)},
		{args: req("GET", "k"), want: bulk("\x00")},
		{args: req("SETBIT", "k", 17, 1), want: num(0)},
		{args: req("GET", "k"), want: bulk("\x00\x00\x40")},
		{args: req("SETBIT", "k", 30, 0), want: num(0)}, // grows, clearing
		{args: req("STRLEN", "k"), want: num(4)},
		{args: req("GETBIT", "k", 17), want: num(1)},
		{args: req("GETBIT", "k", 16), want: num(0)},
		{args: req("GETBIT", "k", 1000), want: num(0)},
		{args: req("GETBIT", "missing", 0), want: num(0)},

		// An integer is its text: "1" is 0x31.
		{args: req("SET", "n", 1, "EX", 30), want: plusOK},
		{args: req("GETBIT", "n", 2), want: num(1)},
		{args: req("GETBIT", "n", 4), want: num(0)},
		{args: req("SETBIT", "n", 6, 1), want: num(0)},
		{args: req("GET", "n"), want: bulk("3")},
		{args: req("TTL", "n"), want: num(30)},

		// Errors: offset, then value, then the kind.
		{args: req("SETBIT", "k", -1, 1), want: offsetErr},
		{args: req("SETBIT", "k", 4294967296, 1), want: offsetErr},
		{args: req("SETBIT", "k", "x", 1), want: offsetErr},
		{args: req("SETBIT", "k", 0, 2), want: bitErr},
		{args: req("SETBIT", "k", 0, -1), want: bitErr},
		{args: req("SETBIT", "k", 0, "x"), want: bitErr},
		{args: req("GETBIT", "k", 4294967296), want: offsetErr},
		{args: req("GETBIT", "k", 4294967295), want: num(0)},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("SETBIT", "l", 0, 1), want: wrongType},
		{args: req("SETBIT", "l", -1, 1), want: offsetErr},
		{args: req("GETBIT", "l", 0), want: wrongType},
		{args: req("GETBIT", "l", "x"), want: offsetErr},
	}, resp.RESP2, resp.RESP3)
}

func TestBits_BitCount(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "k", "foobar"), want: plusOK},
		{args: req("BITCOUNT", "k"), want: num(26)},
		{args: req("BITCOUNT", "k", 0, 0), want: num(4)},
		{args: req("BITCOUNT", "k", 1, 1), want: num(6)},
		{args: req("BITCOUNT", "k", 1, 1, "BYTE"), want: num(6)},
		{args: req("BITCOUNT", "k", 5, 30, "BIT"), want: num(17)},
		{args: req("BITCOUNT", "k", 0, -1), want: num(26)},
		{args: req("BITCOUNT", "k", -2, -1), want: num(7)},
		{args: req("BITCOUNT", "k", -1, -2), want: num(0)},
		{args: req("BITCOUNT", "k", -1, -2, "BOGUS"), want: num(0)}, // the empty range answers first
		{args: req("BITCOUNT", "k", 3, 1), want: num(0)},
		{args: req("BITCOUNT", "k", 0, 1000), want: num(26)},
		{args: req("BITCOUNT", "k", 0, 1000, "bit"), want: num(26)},
		{args: req("BITCOUNT", "k", 1, 1, "bit"), want: num(1)},
		{args: req("BITCOUNT", "k", 9, 14, "BIT"), want: num(5)},
		{args: req("BITCOUNT", "k", 0), want: syntaxErr},
		{args: req("BITCOUNT", "k", 0, 1, "BIT", "x"), want: syntaxErr},
		{args: req("BITCOUNT", "k", 0, 1, "bits"), want: syntaxErr},
		{args: req("BITCOUNT", "k", "x", 1), want: notInt},
		{args: req("BITCOUNT", "missing", 0), want: num(0)}, // a missing key answers first
		{args: req("SET", "n", 7), want: plusOK},
		{args: req("BITCOUNT", "n"), want: num(5)}, // "7": 0x37
		{args: req("SET", "e", ""), want: plusOK},
		{args: req("BITCOUNT", "e", 0, -1), want: num(0)},
		{args: req("SET", "big", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x0f"), want: plusOK},
		{args: req("BITCOUNT", "big"), want: num(140)},
		{args: req("BITCOUNT", "big", 3, 141, "BIT"), want: num(135)},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("BITCOUNT", "l", "x"), want: wrongType},
	}, resp.RESP2, resp.RESP3)
}

func TestBits_BitPos(t *testing.T) {
	runModes(t, []step{
		{args: req("SET", "k", "\xff\xf0\x00"), want: plusOK},
		{args: req("BITPOS", "k", 0), want: num(12)},
		{args: req("SET", "k", "\x00\xff\xf0"), want: plusOK},
		{args: req("BITPOS", "k", 1, 0), want: num(8)},
		{args: req("BITPOS", "k", 1, 2), want: num(16)},
		{args: req("BITPOS", "k", 1, 2, -1, "BYTE"), want: num(16)},
		{args: req("BITPOS", "k", 1, 7, 15, "BIT"), want: num(8)},
		{args: req("BITPOS", "k", 1, 7, -3, "bit"), want: num(8)},
		{args: req("BITPOS", "k", 0, 9, 15, "BIT"), want: num(-1)},
		{args: req("BITPOS", "k", 0, 9, 20, "BIT"), want: num(20)},
		{args: req("BITPOS", "k", 1, 3, 1), want: num(-1)},
		{args: req("BITPOS", "k", 1, -1, -2), want: num(-1)},
		{args: req("SET", "z", "\x00\x00\x00"), want: plusOK},
		{args: req("BITPOS", "z", 1), want: num(-1)},
		{args: req("BITPOS", "z", 0), want: num(0)},
		{args: req("SET", "f", "\xff\xff\xff"), want: plusOK},
		{args: req("BITPOS", "f", 0), want: num(24)},
		{args: req("BITPOS", "f", 0, 1), want: num(24)},
		{args: req("BITPOS", "f", 0, 0, -1), want: num(-1)},
		{args: req("BITPOS", "f", 0, 3, 21, "BIT"), want: num(-1)},
		{args: req("BITPOS", "f", 0, 3, "x", "BIT"), want: notInt},
		{args: req("BITPOS", "f", 1, 0, -1, "BOGUS"), want: syntaxErr},
		{args: req("BITPOS", "f", 1, 0, 1, "BIT", "x"), want: syntaxErr},
		{args: req("BITPOS", "missing", 1), want: num(-1)},
		{args: req("BITPOS", "missing", 0, 1, 2, "BOGUS"), want: num(0)}, // a missing key answers first
		{args: req("BITPOS", "missing", 2), want: resp.Err("ERR The bit argument must be 1 or 0.")},
		{args: req("BITPOS", "missing", "x"), want: notInt},
		{args: req("SET", "e", ""), want: plusOK},
		{args: req("BITPOS", "e", 0), want: num(-1)},
		{args: req("SET", "n", 1), want: plusOK}, // "1": 0x31
		{args: req("BITPOS", "n", 1), want: num(2)},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("BITPOS", "l", 1), want: wrongType},
	}, resp.RESP2, resp.RESP3)
}

func TestBits_BitOp(t *testing.T) {
	runModes(t, []step{
		{args: req("MSET", "a", "\xff\x0f", "b", "\x0f", "n", 1), want: plusOK},
		{args: req("BITOP", "AND", "d", "a", "b"), want: num(2)},
		{args: req("GET", "d"), want: bulk("\x0f\x00")},
		{args: req("BITOP", "or", "d", "a", "b"), want: num(2)},
		{args: req("GET", "d"), want: bulk("\xff\x0f")},
		{args: req("BITOP", "XOR", "d", "a", "b"), want: num(2)},
		{args: req("GET", "d"), want: bulk("\xf0\x0f")},
		{args: req("BITOP", "NOT", "d", "b"), want: num(1)},
		{args: req("GET", "d"), want: bulk("\xf0")},
		{args: req("BITOP", "AND", "d", "a", "missing"), want: num(2)},
		{args: req("GET", "d"), want: bulk("\x00\x00")},
		{args: req("BITOP", "OR", "d", "n", "n"), want: num(1)}, // an integer is its text
		{args: req("GET", "d"), want: bulk("1")},
		{args: req("SET", "d", "v", "EX", 10), want: plusOK},
		{args: req("BITOP", "OR", "d", "a"), want: num(2)},
		{args: req("TTL", "d"), want: num(-1)}, // the result has no deadline
		{args: req("BITOP", "OR", "d", "missing", "missing2"), want: num(0)},
		{args: req("EXISTS", "d"), want: num(0)}, // an empty result deletes dest
		{args: req("BITOP", "NOT", "d", "a", "b"), want: resp.Err("ERR BITOP NOT must be called with a single source key.")},
		{args: req("BITOP", "NAND", "d", "a"), want: syntaxErr},
		{args: req("RPUSH", "l", "x"), want: num(1)},
		{args: req("BITOP", "AND", "d", "a", "l"), want: wrongType},
		{args: req("BITOP", "AND", "l", "a"), want: num(2)}, // dest's kind does not matter
		{args: req("TYPE", "l"), want: resp.Simple("string")},
		{args: req("BITOP", "AND", "d"), want: arity("bitop")},
	}, resp.RESP2, resp.RESP3)
}

func TestBits_BitField(t *testing.T) {
	typeErr := resp.Err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
	runModes(t, []step{
		{args: req("BITFIELD", "k", "SET", "i8", 0, 100, "GET", "i8", 0), want: arr(0, 100)},
		{args: req("BITFIELD", "k", "INCRBY", "i8", 0, 100), want: arr(-56)}, // wraps
		{args: req("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", 0, -100), want: arr(-128)},
		{args: req("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", 0, -1, "GET", "i8", 0), want: arr(nil, -128)},
		{args: req("BITFIELD", "k", "SET", "u8", "#1", 255, "GET", "u8", 8, "GET", "u4", 8), want: arr(0, 255, 15)},
		{args: req("BITFIELD", "k", "overflow", "sat", "incrby", "u8", 8, 10, "set", "u2", 0, 7), want: arr(255, 2)},
		{args: req("BITFIELD", "k", "GET", "u8", 1000), want: arr(0)},
		{args: req("BITFIELD", "w", "SET", "i64", 0, minInt, "GET", "i64", 0, "INCRBY", "i64", 0, -1), want: arr(0, minInt, maxInt)},
		{args: req("BITFIELD_RO", "k", "GET", "u8", 8), want: arr(255)},
		{args: req("BITFIELD", "missing"), want: arr()},
		{args: req("EXISTS", "missing"), want: num(0)},
		{args: req("BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 5), want: arr(nil)},
		{args: req("GET", "new"), want: bulk("\x00")}, // a write makes the key even if it fails
		{args: req("BITFIELD", "k", "GET", "I8", 0), want: typeErr},
		{args: req("BITFIELD", "k", "GET", "u64", 0), want: typeErr},
		{args: req("BITFIELD", "k", "GET", "i65", 0), want: typeErr},
		{args: req("BITFIELD", "k", "GET", "i0", 0), want: typeErr},
		{args: req("BITFIELD", "k", "GET", "i8", -1), want: resp.Err("ERR bit offset is not an integer or out of range")},
		{args: req("BITFIELD", "k", "GET", "i8", "#-1"), want: resp.Err("ERR bit offset is not an integer or out of range")},
		{args: req("BITFIELD", "k", "SET", "i8", 0, "x"), want: notInt},
		{args: req("BITFIELD", "k", "SET", "i8", 0), want: syntaxErr},
		{args: req("BITFIELD", "k", "OVERFLOW", "MAYBE"), want: resp.Err("ERR Invalid OVERFLOW type specified")},
		{args: req("BITFIELD", "k", "BOGUS"), want: syntaxErr},
		{args: req("BITFIELD_RO", "k", "SET", "i8", 0, 1), want: resp.Err("ERR BITFIELD_RO only supports the GET subcommand")},
		{args: req("SET", "l", arr(1)), want: plusOK},
		{args: req("BITFIELD_RO", "l", "SET", "i8", 0, 1), want: resp.Err("ERR BITFIELD_RO only supports the GET subcommand")},
		{args: req("BITFIELD", "l", "GET", "i8", 0), want: wrongType},
	}, resp.RESP2, resp.RESP3)
}
