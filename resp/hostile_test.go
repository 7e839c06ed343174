package resp

import (
	"net"
	"strings"
	"testing"
)

// hostile are malformed or hostile inputs for a server with hostileLimits.
// Each must be answered "-ERR Protocol error: <msg...>" (after the replies
// in before, to the valid requests that precede it), and the connection
// then closed. Inputs cut short (eof) are followed by the client closing
// its write side.
var hostile = []struct {
	name   string
	in     string
	eof    bool
	msg    string
	before string
}{
	// A bad type byte inside an array.
	{name: "bang", in: "*1\r\n!foo\r\n", msg: `invalid type byte '!'`},
	{name: "question mark second", in: "*2\r\n$1\r\na\r\n?\r\n", msg: `invalid type byte '?'`},
	{name: "NUL type byte", in: "*1\r\n\x00\r\n", msg: `invalid type byte '\x00'`},
	{name: "space type byte", in: "*1\r\n 1\r\n", msg: `invalid type byte ' '`},
	{name: "empty element line", in: "*1\r\n\r\n", msg: "empty line where a value was expected"},
	{name: "verbatim string", in: "*1\r\n=7\r\ntxt:abc\r\n", msg: `invalid type byte '='`},
	{name: "big number", in: "*1\r\n(12345678901234567890\r\n", msg: `invalid type byte '('`},
	{name: "set", in: "*1\r\n~1\r\n:1\r\n", msg: `invalid type byte '~'`},
	{name: "push", in: "*1\r\n>1\r\n:1\r\n", msg: `invalid type byte '>'`},
	{name: "attribute", in: "*1\r\n|1\r\n+a\r\n+b\r\n", msg: `invalid type byte '|'`},
	{name: "high byte", in: "*1\r\n\xff\r\n", msg: `invalid type byte '\xff'`},

	// Values that are not requests.
	{name: "error request", in: "-ERR x\r\n", msg: "expected a command array"},
	{name: "integer request", in: ":1\r\n", msg: "expected a command array"},
	{name: "dict request", in: "%1\r\n+a\r\n+b\r\n", msg: "expected a command array"},
	{name: "null request", in: "_\r\n", msg: "expected a command array"},
	{name: "boolean request", in: "#t\r\n", msg: "expected a command array"},
	{name: "double request", in: ",1.5\r\n", msg: "expected a command array"},

	// Array lengths.
	{name: "array length -2", in: "*-2\r\n", msg: `invalid array length "-2"`},
	{name: "array length abc", in: "*abc\r\n", msg: `invalid array length "abc"`},
	{name: "array length empty", in: "*\r\n", msg: `invalid array length ""`},
	{name: "array length 1a", in: "*1a\r\n", msg: `invalid array length "1a"`},
	{name: "array length space", in: "* 1\r\n", msg: `invalid array length " 1"`},
	{name: "array length plus", in: "*+1\r\n", msg: `invalid array length "+1"`},
	{name: "array length leading zero", in: "*01\r\n:1\r\n", msg: `invalid array length "01"`},
	{name: "array length -0", in: "*-0\r\n", msg: `invalid array length "-0"`},
	{name: "array one past the limit", in: "*65\r\n", msg: "array length 65 exceeds the limit of 64 elements"},
	{name: "array of a billion", in: "*1000000000\r\n", msg: "exceeds the limit"},
	{name: "array length overflows", in: "*99999999999999999999999\r\n", msg: "invalid array length"},
	{name: "array length 2^63", in: "*9223372036854775808\r\n", msg: "invalid array length"},
	{name: "NUL after array length", in: "*1\x00\r\n", msg: `invalid array length "1\x00"`},
	{name: "NUL before array length", in: "*\x001\r\n", msg: "invalid array length"},

	// Bulk lengths.
	{name: "bulk length -2", in: "*1\r\n$-2\r\n", msg: `invalid bulk length "-2"`},
	{name: "bulk length abc", in: "*1\r\n$abc\r\n", msg: `invalid bulk length "abc"`},
	{name: "bulk length empty", in: "*1\r\n$\r\n", msg: `invalid bulk length ""`},
	{name: "bulk one past the limit", in: "*1\r\n$1025\r\n", msg: "bulk length 1025 exceeds the limit of 1024"},
	{name: "bulk of 500 MB", in: "*1\r\n$500000000\r\n", msg: "exceeds the limit"},
	{name: "NUL in bulk length", in: "*1\r\n$3\x00\r\nfoo\r\n", msg: "invalid bulk length"},
	{name: "bulk length 2^64", in: "*1\r\n$18446744073709551616\r\n", msg: "invalid bulk length"},
	{name: "bulk length below int64", in: "*1\r\n$-9223372036854775809\r\n", msg: "invalid bulk length"},
	{name: "bulk length 1.5", in: "*1\r\n$1.5\r\n", msg: "invalid bulk length"},
	{name: "bulk length hex", in: "*1\r\n$0x10\r\n", msg: "invalid bulk length"},

	// Missing or broken CRLF.
	{name: "bulk longer than declared", in: "*1\r\n$3\r\nfoobar\r\n", msg: `expected '\r\n' after bulk data`},
	{name: "bare LF after bulk", in: "*1\r\n$3\r\nfoo\nPING\r\n", msg: `expected '\r\n' after bulk data`},
	{name: "bare LF after array length", in: "*1\n$3\r\nfoo\r\n", msg: `expected '\r\n' at end of line`},
	{name: "bare LF after bulk length", in: "*1\r\n$3\nfoo\r\n", msg: `expected '\r\n' at end of line`},
	{name: "bare LF after integer", in: "*2\r\n$4\r\nECHO\r\n:12\n", msg: `expected '\r\n' at end of line`},
	{name: "CR without LF in length", in: "*1\r$3\r\nfoo\r\n", msg: "invalid array length"},
	{name: "CR then X after bulk", in: "*1\r\n$3\r\nfoo\rX\r\n", msg: `expected '\r\n' after bulk data`},
	{name: "CR without LF at the end", in: "*1\r\n$3\r\nfoo\r", eof: true, msg: "unexpected end of stream"},

	// Truncated frames, then the client closes its write side.
	{name: "array header only", in: "*1\r\n", eof: true, msg: "unexpected end of stream"},
	{name: "one of two elements", in: "*2\r\n$3\r\nfoo\r\n", eof: true, msg: "unexpected end of stream"},
	{name: "half a bulk", in: "*1\r\n$3\r\nfo", eof: true, msg: "unexpected end of stream"},
	{name: "bulk length without CRLF", in: "*1\r\n$3", eof: true, msg: "unexpected end of stream"},
	{name: "bulk without CRLF", in: "*1\r\n$3\r\nfoo", eof: true, msg: "unexpected end of stream"},
	{name: "SET cut short", in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1", eof: true, msg: "unexpected end of stream"},
	{name: "nested headers only", in: "*1\r\n*1\r\n*1\r\n", eof: true, msg: "unexpected end of stream"},
	{name: "top-level bulk cut short", in: "$5\r\nab", eof: true, msg: "unexpected end of stream"},
	{name: "simple string without CRLF", in: "+PI", eof: true, msg: "unexpected end of stream"},
	{name: "inline without newline", in: "PING", eof: true, msg: "unexpected end of stream"},
	{name: "big bulk cut short", in: "*1\r\n$1000\r\n" + strings.Repeat("z", 999), eof: true, msg: "unexpected end of stream"},

	// Nesting.
	{name: "arrays 129 deep", in: strings.Repeat("*1\r\n", 129) + ":1\r\n", msg: "nesting deeper than 128"},
	{name: "dicts 129 deep", in: "*1\r\n" + strings.Repeat("%1\r\n+k\r\n", 128) + ":1\r\n", msg: "nesting deeper than 128"},
	{name: "mixed 129 deep", in: "*1\r\n" + strings.Repeat("*1\r\n%1\r\n:0\r\n", 64) + "_\r\n", msg: "nesting deeper than 128"},
	{name: "empty array 129 deep", in: strings.Repeat("*1\r\n", 128) + "*0\r\n", msg: "nesting deeper than 128"},

	// Dicts.
	{name: "dict key array", in: "*1\r\n%1\r\n*1\r\n+a\r\n+v\r\n", msg: "dict key must be a scalar, got array"},
	{name: "dict key dict", in: "*1\r\n%1\r\n%0\r\n+v\r\n", msg: "dict key must be a scalar, got dict"},
	{name: "null dict", in: "*1\r\n%-1\r\n", msg: `invalid dict length "-1"`},
	{name: "dict one past the limit", in: "*1\r\n%33\r\n", msg: "dict length 33 exceeds the limit of 64 elements"},
	{name: "dict with odd element count", in: "*1\r\n%1\r\n+k\r\n", eof: true, msg: "unexpected end of stream"},
	{name: "dict length abc", in: "*1\r\n%x\r\n", msg: `invalid dict length "x"`},

	// Scalars.
	{name: "integer abc", in: "*1\r\n:abc\r\n", msg: `invalid integer "abc"`},
	{name: "huge integer", in: "*1\r\n:99999999999999999999\r\n", msg: `invalid integer "99999999999999999999"`},
	{name: "integer past int64", in: "*1\r\n:9223372036854775808\r\n", msg: "invalid integer"},
	{name: "integer empty", in: "*1\r\n:\r\n", msg: `invalid integer ""`},
	{name: "integer 1.0", in: "*1\r\n:1.0\r\n", msg: `invalid integer "1.0"`},
	{name: "NUL in integer", in: "*1\r\n:1\x002\r\n", msg: "invalid integer"},
	{name: "boolean x", in: "*1\r\n#x\r\n", msg: `invalid boolean "x"`},
	{name: "boolean tt", in: "*1\r\n#tt\r\n", msg: `invalid boolean "tt"`},
	{name: "double abc", in: "*1\r\n,abc\r\n", msg: `invalid double "abc"`},
	{name: "double NaN", in: "*1\r\n,NaN\r\n", msg: `invalid double "NaN"`}, // RESP3 spells it nan
	{name: "double overflows", in: "*1\r\n,1e400\r\n", msg: `invalid double "1e400"`},
	{name: "null with a body", in: "*1\r\n_x\r\n", msg: "invalid null frame"},

	// Lines and inline requests.
	{name: "inline one past the limit", in: strings.Repeat("a", 257) + "\r\n", msg: "too big inline request"},
	{name: "inline 20000 bytes, no newline", in: strings.Repeat("a", 20000), msg: "too big inline request"},
	{name: "inline unbalanced double quote", in: "SET \"a b\r\n", msg: "unbalanced quotes"},
	{name: "inline unbalanced single quote", in: "SET 'a b\r\n", msg: "unbalanced quotes"},
	{name: "inline text after closing quote", in: "SET \"a\"b c\r\n", msg: "unbalanced quotes"},
	{name: "simple-string request unbalanced", in: "+SET \"a\r\n", msg: "unbalanced quotes"},
	{name: "simple-string request too long", in: "+" + strings.Repeat("a", 300) + "\r\n", msg: "line too long"},
	{name: "inline 65 arguments", in: strings.Repeat("a ", 65) + "\r\n", msg: "inline request has 65 arguments, over the limit of 64"},
	{name: "bulk-string request 65 arguments", in: "$130\r\n" + strings.Repeat("a ", 65) + "\r\n", msg: "over the limit of 64"},
	{name: "simple string element too long", in: "*1\r\n+" + strings.Repeat("a", 300) + "\r\n", msg: "line too long"},

	// Valid requests first: answered, then the error.
	{name: "PING then garbage", in: "PING\r\n*x\r\n", before: "+PONG\r\n", msg: `invalid array length "x"`},
	{name: "SET then truncated", in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n", eof: true, before: ":1\r\n", msg: "unexpected end of stream"},
}

var hostileLimits = Limits{MaxBulk: 1024, MaxElements: 64, MaxInline: 256} // default depth: 128

func TestServer_HostileInput(t *testing.T) {
	if len(hostile) < 60 {
		t.Fatalf("only %d hostile inputs", len(hostile))
	}
	srv, addr := startServer(t, nil, Config{Limits: hostileLimits}, newMapHandler())
	bystander := dial(t, addr) // a well-behaved client all along
	bystander.do("PING\r\n", "+PONG\r\n")
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tt.in)
			if tt.eof {
				if err := c.nc.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			got := c.rest()
			reply, ok := strings.CutPrefix(got, tt.before+"-ERR Protocol error: ")
			if !ok || !strings.HasSuffix(reply, "\r\n") || strings.Count(reply, "\r\n") != 1 || !strings.Contains(reply, tt.msg) {
				t.Errorf("got %q; want %q, then -ERR Protocol error: ...%s..., then the end", got, tt.before, tt.msg)
			}
		})
		bystander.do("ECHO still-here\r\n", "$10\r\nstill-here\r\n")
	}
	dial(t, addr).do("PING\r\n", "+PONG\r\n")
	waitFor(t, "every hostile connection to be closed", func() bool { return srv.NumConns() <= 2 })
}
