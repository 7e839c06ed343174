package resp

import (
	"bufio"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

// small are limits tiny enough to test at and one past each bound quickly.
var small = Limits{MaxBulk: 8, MaxElements: 4, MaxDepth: 3, MaxInline: 16}

// readAll parses every value of input and returns them with the error that
// ended the stream (io.EOF at a clean end).
func readAll(input string, lim Limits) ([]Value, error) {
	r := NewReader(strings.NewReader(input), lim)
	var vs []Value
	for {
		v, err := r.ReadValue()
		if err != nil {
			return vs, err
		}
		vs = append(vs, v)
	}
}

// readOne parses input as exactly one value.
func readOne(t *testing.T, input string, lim Limits) Value {
	t.Helper()
	vs, err := readAll(input, lim)
	if err != io.EOF || len(vs) != 1 {
		t.Fatalf("parsing %q: got %v, %v; want one value then EOF", clip([]byte(input)), vs, err)
	}
	return vs[0]
}

// wantProtocolError fails unless err is a *ProtocolError whose message
// contains msg.
func wantProtocolError(t *testing.T, input string, err error, msg string) {
	t.Helper()
	var pe *ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, msg) {
		t.Errorf("parsing %q: error %v, want a protocol error containing %q", clip([]byte(input)), err, msg)
	}
}

// readRequests parses every request of input with ReadRequest.
func readRequests(input string, lim Limits) ([][]Value, error) {
	r := NewReader(strings.NewReader(input), lim)
	var reqs [][]Value
	for {
		args, err := r.ReadRequest()
		if err != nil {
			return reqs, err
		}
		reqs = append(reqs, args)
	}
}

// nested returns depth arrays (or dicts, each with key "k") around :1,
// encoded and as a Value.
func nested(depth int, dict bool) (string, Value) {
	wire, v := ":1\r\n", Int(1)
	for range depth {
		if dict {
			wire, v = "%1\r\n+k\r\n"+wire, Dict(Simple("k"), v)
		} else {
			wire, v = "*1\r\n"+wire, Array(v)
		}
	}
	return wire, v
}

func TestReader_Kinds(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{"+OK\r\n", Simple("OK")},
		{"+\r\n", Simple("")},
		{"+a\rb\r\n", Simple("a\rb")},
		{"-ERR unknown command\r\n", Err("ERR unknown command")},
		{":0\r\n", Int(0)},
		{":-9223372036854775808\r\n", Int(math.MinInt64)},
		{":9223372036854775807\r\n", Int(math.MaxInt64)},
		{"$5\r\nhello\r\n", BulkString("hello")},
		{"$0\r\n\r\n", BulkString("")},
		{"$-1\r\n", NullBulk()},
		{"$6\r\na\r\n\x00\rb\r\n", BulkString("a\r\n\x00\rb")},
		{"*-1\r\n", NullArray()},
		{"*0\r\n", Array()},
		{"*3\r\n:1\r\n$1\r\nx\r\n*1\r\n_\r\n", Array(Int(1), BulkString("x"), Array(Null()))},
		{"%0\r\n", Dict()},
		{"%2\r\n+a\r\n:1\r\n:2\r\n%1\r\n#t\r\n,2.5\r\n", Dict(Simple("a"), Int(1), Int(2), Dict(Bool(true), Double(2.5)))},
		{"%1\r\n$-1\r\n_\r\n", Dict(NullBulk(), Null())},
		{"_\r\n", Null()},
		{"#t\r\n", Bool(true)},
		{"#f\r\n", Bool(false)},
		{",1.5\r\n", Double(1.5)},
		{",-0\r\n", Double(math.Copysign(0, -1))},
		{",inf\r\n", Double(math.Inf(1))},
		{",-inf\r\n", Double(math.Inf(-1))},
		{",1e10\r\n", Double(1e10)},
		{",nan\r\n", Double(math.NaN())},
	}
	for _, tt := range tests {
		if got := readOne(t, tt.in, Limits{}); !Equal(got, tt.want) {
			t.Errorf("parsing %q = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestReader_BinaryBulk(t *testing.T) {
	payload := make([]byte, 0, 10000)
	for i := range cap(payload) {
		payload = append(payload, byte(i*7))
	}
	payload = append(payload, "\r\n$3\r\n*1\r\n"...)
	for _, n := range []int{1, 2, 100, slabMaxString, slabMaxString + 1, len(payload)} {
		want := Array(Bulk(payload[:n]), BulkString("\r\n"))
		got := readOne(t, string(AppendValue(nil, want)), Limits{})
		if !Equal(got, want) {
			t.Errorf("bulk of %d binary bytes did not round-trip", n)
		}
	}
}

func TestReader_Nesting(t *testing.T) {
	for _, dict := range []bool{false, true} {
		wire, want := nested(128, dict)
		if got := readOne(t, wire, Limits{}); !Equal(got, want) {
			t.Errorf("depth 128 (dict %v) parsed as %v", dict, got)
		}
		if got := readOne(t, string(AppendValue(nil, want)), Limits{}); !Equal(got, want) {
			t.Errorf("depth 128 (dict %v) did not round-trip", dict)
		}
		wire, _ = nested(129, dict)
		_, err := readAll(wire, Limits{})
		wantProtocolError(t, "depth 129", err, "nesting deeper than 128")
	}
	// Alternating arrays and dicts count alike.
	mixed := strings.Repeat("*1\r\n%1\r\n:0\r\n", 64) + "_\r\n"
	readOne(t, mixed, Limits{})
	_, err := readAll("*1\r\n"+mixed, Limits{})
	wantProtocolError(t, "mixed depth 129", err, "nesting deeper")
}

func TestReader_Limits(t *testing.T) {
	tests := []struct {
		name     string
		at, past string // at the bound is accepted, one past is refused
		msg      string
	}{
		{"bulk", "$8\r\n12345678\r\n", "$9\r\n123456789\r\n", "bulk length 9 exceeds the limit of 8"},
		{"array", "*4\r\n" + strings.Repeat(":1\r\n", 4), "*5\r\n" + strings.Repeat(":1\r\n", 5), "array length 5 exceeds the limit of 4"},
		{"dict", "%2\r\n" + strings.Repeat(":1\r\n", 4), "%3\r\n" + strings.Repeat(":1\r\n", 6), "dict length 3 exceeds"},
		{"depth", "*1\r\n%1\r\n:1\r\n*0\r\n", "*1\r\n%1\r\n:1\r\n*1\r\n*0\r\n", "nesting deeper than 3"},
		{"simple line", "+" + strings.Repeat("s", 15) + "\r\n", "+" + strings.Repeat("s", 16) + "\r\n", "line too long"},
		{"error line", "-" + strings.Repeat("e", 15) + "\r\n", "-" + strings.Repeat("e", 16) + "\r\n", "line too long"},
	}
	for _, tt := range tests {
		readOne(t, tt.at, small)
		_, err := readAll(tt.past, small)
		wantProtocolError(t, tt.name+" one past the limit", err, tt.msg)
	}

	// Inline requests: 16 bytes of line, however it ends, then 17.
	for _, eol := range []string{"\r\n", "\n"} {
		at := "ECHO aaaa bbbb c"
		reqs, err := readRequests(at+eol, small)
		if err != io.EOF || len(reqs) != 1 || len(reqs[0]) != 4 {
			t.Errorf("inline line at the limit: %v, %v", reqs, err)
		}
		_, err = readRequests(at+"c"+eol, small)
		wantProtocolError(t, "inline one past the limit", err, "too big inline request")
	}
}

func TestReader_LongLines(t *testing.T) {
	// Lines longer than the bufio buffer but within the limit.
	long := strings.Repeat("x", 40000)
	if v := readOne(t, "+"+long+"\r\n", Limits{}); v.Text() != long {
		t.Error("40000-byte simple string not read back")
	}
	_, err := readAll("+"+strings.Repeat("x", 70000)+"\r\n", Limits{})
	wantProtocolError(t, "70000-byte simple string", err, "line too long")
	reqs, err := readRequests("ECHO "+long+"\r\nPING\r\n", Limits{})
	if err != io.EOF || len(reqs) != 2 || reqs[0][1].Text() != long {
		t.Errorf("long inline request: %d requests, %v", len(reqs), err)
	}
	_, err = readRequests(strings.Repeat("y", 70000), Limits{})
	wantProtocolError(t, "70000-byte inline line", err, "too big inline request")

	// The smallest bufio buffer still reads a line up to the limit.
	r := NewReader(bufio.NewReaderSize(strings.NewReader("+"+strings.Repeat("z", 99)+"\r\n:1\r\n"), 16), Limits{MaxInline: 100})
	if v, err := r.ReadValue(); err != nil || v.Len() != 99 {
		t.Errorf("99-byte line through a 16-byte buffer: %v, %v", v, err)
	}
	if v, err := r.ReadValue(); err != nil || v.Int() != 1 {
		t.Errorf("value after the long line: %v, %v", v, err)
	}
}

func TestReader_EndOfStream(t *testing.T) {
	if _, err := readAll("", Limits{}); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	for _, in := range []string{"+OK", "*2\r\n:1\r\n", "$3\r\nab", "$3\r\nabc", "$3\r\nabc\r", "%1\r\n+k\r\n", "*1\r\n*1\r\n", ":1\r"} {
		if _, err := readAll(in, Limits{}); err != io.ErrUnexpectedEOF {
			t.Errorf("parsing %q: %v, want io.ErrUnexpectedEOF", in, err)
		}
	}
}

func TestReader_ProtocolErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"+OK\n", `expected '\r\n' at end of line`},
		{"$3\r\nabcd\r\n", `expected '\r\n' after bulk data`},
		{"$3\nabc\r\n", `expected '\r\n' at end of line`},
		{"\r\n", "empty line where a value was expected"},
		{"!x\r\n", `invalid type byte '!'`},
		{"$-2\r\n", `invalid bulk length "-2"`},
		{"$01\r\n", `invalid bulk length "01"`},
		{"*x\r\n", `invalid array length "x"`},
		{"%-1\r\n", `invalid dict length "-1"`},
		{":1.5\r\n", `invalid integer "1.5"`},
		{"#x\r\n", `invalid boolean "x"`},
		{",NaN\r\n", `invalid double "NaN"`},
		{"_0\r\n", "invalid null frame"},
		{"%1\r\n*0\r\n:1\r\n", "dict key must be a scalar, got array"},
		{"%1\r\n%0\r\n:1\r\n", "dict key must be a scalar, got dict"},
		{":" + strings.Repeat("9", 40) + "\r\n", `invalid integer "99999999999999999999999999999999..."`},
	}
	for _, tt := range tests {
		_, err := readAll(tt.in, Limits{})
		wantProtocolError(t, tt.in, err, tt.msg)
	}
}

// TestReader_HugeLengthsAllocateNothing: a declared length costs nothing
// before its bytes arrive.
func TestReader_HugeLengthsAllocateNothing(t *testing.T) {
	tests := []struct {
		in      string
		refused bool // a protocol error rather than an unexpected end
	}{
		{"*1000000000\r\n", true},
		{"$500000000\r\n", false},
		{"$536870912\r\n", false},
		{"$536870913\r\n", true},
		{"*1048576\r\n", false},
		{"%524288\r\n", false},
		{"*1\r\n$500000000\r\nabc", false},
		{strings.Repeat("*1048576\r\n", 128), false},
		{strings.Repeat("%524288\r\n+k\r\n", 128), false},
	}
	for _, tt := range tests {
		var err error
		n := allocatedBy(func() { _, err = readAll(tt.in, Limits{}) })
		if tt.refused {
			wantProtocolError(t, tt.in, err, "exceeds the limit")
		} else if err != io.ErrUnexpectedEOF {
			t.Errorf("parsing %q: %v, want io.ErrUnexpectedEOF", clip([]byte(tt.in)), err)
		}
		if n > 2<<20 {
			t.Errorf("parsing %q allocated %d bytes, want < 2 MiB", clip([]byte(tt.in)), n)
		}
	}
}

// allocatedBy returns how many bytes f allocated on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReader_ValuesOutliveLaterReads(t *testing.T) {
	const n = 5000 // several slabs of strings and elements
	var in strings.Builder
	for i := range n {
		in.Write(AppendCommand(nil, "SET", "key", strings.Repeat("v", i%50)))
	}
	r := NewReader(strings.NewReader(in.String()), Limits{})
	var got [][]Value
	for range n {
		args, err := r.ReadRequest()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, args)
	}
	for i, args := range got {
		if len(args) != 3 || args[0].Text() != "SET" || args[1].Text() != "key" || args[2].Text() != strings.Repeat("v", i%50) {
			t.Fatalf("request %d changed after later reads: %v", i, args)
		}
	}
}

func TestReader_ReadRequest(t *testing.T) {
	in := "*3\r\n$3\r\nSET\r\n:1\r\n%1\r\n+a\r\n*1\r\n:2\r\n" + // arguments of any kind
		"+PING x\r\n" + // a simple string is split
		"$10\r\nECHO \"a b\"\r\n" + // so is a bulk string
		"*0\r\n*-1\r\n$-1\r\n\n\r\n \t \r\n" + // empty requests are skipped
		"GET 'it\\'s'\r\n" // inline
	reqs, err := readRequests(in, Limits{})
	if err != io.EOF {
		t.Fatalf("error %v", err)
	}
	want := []Value{
		Array(BulkString("SET"), Int(1), Dict(Simple("a"), Array(Int(2)))),
		Array(BulkString("PING"), BulkString("x")),
		Array(BulkString("ECHO"), BulkString("a b")),
		Array(BulkString("GET"), BulkString("it's")),
	}
	if len(reqs) != len(want) {
		t.Fatalf("got %d requests %v, want %d", len(reqs), reqs, len(want))
	}
	for i := range want {
		if got := Array(reqs[i]...); !equalArgs(got, want[i]) {
			t.Errorf("request %d = %v, want %v", i, got, want[i])
		}
	}
	for _, in := range []string{"-ERR x\r\n", ":1\r\n", "%0\r\n", "_\r\n", "#t\r\n", ",1\r\n"} {
		_, err := readRequests(in, Limits{})
		wantProtocolError(t, in, err, "expected a command array")
	}
}

// equalArgs compares requests, taking simple and bulk strings alike (the
// first argument of an array request keeps its wire kind).
func equalArgs(a, b Value) bool {
	if len(a.elem) != len(b.elem) {
		return false
	}
	for i := range a.elem {
		x, y := a.elem[i], b.elem[i]
		if x.kind == KindSimple || x.kind == KindBulk {
			if (y.kind != KindSimple && y.kind != KindBulk) || x.Text() != y.Text() {
				return false
			}
		} else if !Equal(x, y) {
			return false
		}
	}
	return true
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: ErrUnbalancedQuotes
	}{
		{"", []string{}},
		{"  \t ", []string{}},
		{"SET k v", []string{"SET", "k", "v"}},
		{"  SET\tk   v  ", []string{"SET", "k", "v"}},
		{`SET "a b" c`, []string{"SET", "a b", "c"}},
		{`"" ''`, []string{"", ""}},
		{`"\n\r\t\b\a\\\"\q"`, []string{"\n\r\t\b\a\\\"q"}},
		{`"\x41\x7a\x00\xff"`, []string{"Az\x00\xff"}},
		{`"\x4" "\xZZ"`, []string{"x4", "xZZ"}},
		{`'a "b" \n \' c'`, []string{`a "b" \n ' c`}},
		{`'\x41'`, []string{`\x41`}},
		{`a"b c"`, []string{"ab c"}},        // a quote may open inside an argument
		{`a'b c' d`, []string{"ab c", "d"}}, // as sdssplitargs does
		{"a\vb", []string{"a\vb"}},          // only space, \t, \r, \n separate inside
		{"\va b", []string{"a", "b"}},       // but any space is skipped between
		{`"a"	b`, []string{"a", "b"}},
		{`"abc`, nil},
		{`'abc`, nil},
		{`"abc\"`, nil},
		{`"abc\`, nil},
		{`"a"b`, nil},
		{`'a'b`, nil},
		{`a"b`, nil},
		{`SET "a b`, nil},
	}
	for _, tt := range tests {
		args, err := SplitArgs([]byte(tt.in))
		if tt.want == nil {
			if err != ErrUnbalancedQuotes {
				t.Errorf("SplitArgs(%q) = %v, %v; want ErrUnbalancedQuotes", tt.in, args, err)
			}
			continue
		}
		if err != nil || len(args) != len(tt.want) {
			t.Errorf("SplitArgs(%q) = %v, %v; want %q", tt.in, args, err, tt.want)
			continue
		}
		for i, a := range args {
			if a.Kind() != KindBulk || a.Text() != tt.want[i] {
				t.Errorf("SplitArgs(%q)[%d] = %v, want %q", tt.in, i, a, tt.want[i])
			}
		}
	}
}

func TestReader_InlineBlankLines(t *testing.T) {
	reqs, err := readRequests("\n\r\n\nPING\n\n ECHO  x \r\n\r\n", Limits{})
	if err != io.EOF || len(reqs) != 2 || reqs[0][0].Text() != "PING" || reqs[1][1].Text() != "x" {
		t.Errorf("got %v, %v; want [PING] [ECHO x]", reqs, err)
	}
	_, err = readRequests("SET \"a\r\n", Limits{})
	if !errors.Is(err, ErrUnbalancedQuotes) {
		t.Errorf("unbalanced inline request: %v", err)
	}
	if _, err := readRequests("PING", Limits{}); err != io.ErrUnexpectedEOF {
		t.Errorf("inline request cut short: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestReader_ResetAndBuffered(t *testing.T) {
	r := NewReader(strings.NewReader("+a\r\n+b\r\n"), Limits{})
	if v, _ := r.ReadValue(); v.Text() != "a" || r.Buffered() != 4 {
		t.Fatalf("first value %v, %d bytes buffered", v, r.Buffered())
	}
	r.Reset(strings.NewReader(":7\r\n"))
	if v, err := r.ReadValue(); err != nil || v.Int() != 7 || r.Buffered() != 0 {
		t.Errorf("after Reset: %v, %v, %d buffered", v, err, r.Buffered())
	}
}

// TestReader_SetAllocs: parsing "SET key value" allocates at most twice.
func TestReader_SetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := NewReader(newLoopReader(setRequest), Limits{})
	var args []Value
	allocs := testing.AllocsPerRun(10000, func() {
		var err error
		if args, err = r.ReadRequest(); err != nil {
			t.Fatal(err)
		}
	})
	if len(args) != 3 || args[2].Text() != "value" {
		t.Fatalf("parsed %v", args)
	}
	t.Logf("%.3f allocations per SET request", allocs)
	if allocs > 2 {
		t.Errorf("parsing a SET request allocates %.2f times, want at most 2", allocs)
	}
}

// ReadInt reads integers without building values and leaves any other
// value for ReadValue; a malformed integer or a stream cut inside one is
// an error, a clean end io.EOF.
func TestReader_ReadInt(t *testing.T) {
	r := NewReader(strings.NewReader(":7\r\n:-12\r\n*1\r\n$1\r\nx\r\n:9\r\n"), Limits{})
	for _, want := range []int64{7, -12} {
		if n, ok, err := r.ReadInt(); n != want || !ok || err != nil {
			t.Fatalf("ReadInt = %d, %v, %v; want %d", n, ok, err, want)
		}
	}
	if n, ok, err := r.ReadInt(); ok || err != nil {
		t.Fatalf("ReadInt before an array = %d, %v, %v; want nothing read", n, ok, err)
	}
	if v, err := r.ReadValue(); err != nil || v.String() != `["x"]` {
		t.Fatalf("the array after ReadInt's refusal = %v, %v", v, err)
	}
	if n, ok, err := r.ReadInt(); n != 9 || !ok || err != nil {
		t.Fatalf("ReadInt = %d, %v, %v; want 9", n, ok, err)
	}
	if _, _, err := r.ReadInt(); err != io.EOF {
		t.Fatalf("ReadInt at the end = %v; want io.EOF", err)
	}
	for in, want := range map[string]string{":x1\r\n": "invalid integer", ":12": "unexpected EOF", ":1\n": "expected"} {
		_, _, err := NewReader(strings.NewReader(in), Limits{}).ReadInt()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadInt of %q = %v; want an error containing %q", in, err, want)
		}
	}
}
