package resp

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestAppendReply_Modes(t *testing.T) {
	nestedDict := Array(Dict(BulkString("k"), Dict(Bool(true), Double(2))))
	tests := []struct {
		name                       string
		v                          Value
		native, resp2, resp3, exac string
	}{
		{"null", Null(), "$-1\r\n", "$-1\r\n", "_\r\n", "_\r\n"},
		{"null bulk", NullBulk(), "$-1\r\n", "$-1\r\n", "_\r\n", "$-1\r\n"},
		{"null array", NullArray(), "*-1\r\n", "*-1\r\n", "_\r\n", "*-1\r\n"},
		{"simple", Simple("OK"), "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n"},
		{"error", Err("ERR x"), "-ERR x\r\n", "-ERR x\r\n", "-ERR x\r\n", "-ERR x\r\n"},
		{"int", Int(-5), ":-5\r\n", ":-5\r\n", ":-5\r\n", ":-5\r\n"},
		{"bulk", BulkString("a\r\nb"), "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"},
		{"empty bulk", Bulk(nil), "$0\r\n\r\n", "$0\r\n\r\n", "$0\r\n\r\n", "$0\r\n\r\n"},
		{"true", Bool(true), ":1\r\n", ":1\r\n", "#t\r\n", "#t\r\n"},
		{"false", Bool(false), ":0\r\n", ":0\r\n", "#f\r\n", "#f\r\n"},
		{"double", Double(1.5), "$3\r\n1.5\r\n", "$3\r\n1.5\r\n", ",1.5\r\n", ",1.5\r\n"},
		{"-inf", Double(math.Inf(-1)), "$4\r\n-inf\r\n", "$4\r\n-inf\r\n", ",-inf\r\n", ",-inf\r\n"},
		{"nan", Double(math.NaN()), "$3\r\nnan\r\n", "$3\r\nnan\r\n", ",nan\r\n", ",nan\r\n"},
		{"1e20", Double(1e20), "$21\r\n100000000000000000000\r\n", "$5\r\n1e+20\r\n", ",1e+20\r\n", ",100000000000000000000\r\n"},
		// To Redis clients, Redis 7.0's "%.17g".
		{"0.1", Double(0.1), "$3\r\n0.1\r\n", "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n", ",0.1\r\n"},
		{"1e300", Double(1e300), "$6\r\n1e+300\r\n", "$23\r\n1.0000000000000001e+300\r\n", ",1.0000000000000001e+300\r\n", ",1e+300\r\n"},
		{"-1.5e-7", Double(-1.5e-7), "$8\r\n-1.5e-07\r\n", "$23\r\n-1.4999999999999999e-07\r\n", ",-1.4999999999999999e-07\r\n", ",-1.5e-07\r\n"},
		{"0.000001", Double(1e-6), "$8\r\n0.000001\r\n", "$22\r\n9.9999999999999995e-07\r\n", ",9.9999999999999995e-07\r\n", ",0.000001\r\n"},
		{"array", Array(Int(1), Null()), "*2\r\n:1\r\n$-1\r\n", "*2\r\n:1\r\n$-1\r\n", "*2\r\n:1\r\n_\r\n", "*2\r\n:1\r\n_\r\n"},
		{"empty array", Array(), "*0\r\n", "*0\r\n", "*0\r\n", "*0\r\n"},
		{"dict", Dict(Simple("a"), Int(1)), "%1\r\n+a\r\n:1\r\n", "*2\r\n+a\r\n:1\r\n", "%1\r\n+a\r\n:1\r\n", "%1\r\n+a\r\n:1\r\n"},
		{"empty dict", Dict(), "%0\r\n", "*0\r\n", "%0\r\n", "%0\r\n"},
		{"nested dict", nestedDict,
			"*1\r\n%1\r\n$1\r\nk\r\n%1\r\n:1\r\n$1\r\n2\r\n",
			"*1\r\n*2\r\n$1\r\nk\r\n*2\r\n:1\r\n$1\r\n2\r\n",
			"*1\r\n%1\r\n$1\r\nk\r\n%1\r\n#t\r\n,2\r\n",
			"*1\r\n%1\r\n$1\r\nk\r\n%1\r\n#t\r\n,2\r\n"},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			mode Mode
			want string
		}{{Native, tt.native}, {RESP2, tt.resp2}, {RESP3, tt.resp3}, {Exact, tt.exac}} {
			got := string(AppendReply([]byte("#"), tt.v, c.mode))
			if got != "#"+c.want {
				t.Errorf("%s in %v: %q, want %q", tt.name, c.mode, got[1:], c.want)
				continue
			}
			readOne(t, c.want, Limits{}) // every mode's output is a valid frame
		}
		if got := string(AppendValue(nil, tt.v)); got != tt.exac {
			t.Errorf("AppendValue(%s) = %q, want %q", tt.name, got, tt.exac)
		}
		if got := readOne(t, tt.exac, Limits{}); !Equal(got, tt.v) {
			t.Errorf("%s: exact encoding reads back as %v", tt.name, got)
		}
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(AppendCommand([]byte("x"), "SET", "k", ""))
	if want := "x*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"; got != want {
		t.Errorf("AppendCommand = %q, want %q", got, want)
	}
	reqs, err := readRequests(got[1:], Limits{})
	if err == nil || len(reqs) != 1 || len(reqs[0]) != 3 {
		t.Errorf("reading it back: %v, %v", reqs, err)
	}
}

// countingWriter records each Write call.
type countingWriter struct {
	writes []string
	err    error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), w.err
}

func TestWriter_FlushOnce(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw, RESP2)
	if err := w.Flush(); err != nil || len(cw.writes) != 0 {
		t.Fatalf("empty Flush wrote %q, %v", cw.writes, err)
	}
	w.Write(OK())
	w.Write(Dict(Simple("f"), Bool(true)))
	w.Write(Null())
	if w.Buffered() != len("+OK\r\n*2\r\n+f\r\n:1\r\n$-1\r\n") {
		t.Errorf("Buffered = %d", w.Buffered())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(cw.writes) != 1 || cw.writes[0] != "+OK\r\n*2\r\n+f\r\n:1\r\n$-1\r\n" {
		t.Errorf("writes %q, want one write in resp2", cw.writes)
	}
	cw.err = errors.New("broken pipe")
	w.Write(Int(1))
	if err := w.Flush(); err != cw.err || w.Buffered() != 0 {
		t.Errorf("Flush error %v with %d bytes left buffered", err, w.Buffered())
	}
}

func TestWriter_ExactRoundTrip(t *testing.T) {
	_, deep := nested(128, true)
	_, deepArr := nested(128, false)
	vals := []Value{
		deep, deepArr,
		Array(Null(), NullBulk(), NullArray(), Bool(false), Double(-1e-300), Double(math.MaxFloat64), Int(math.MinInt64)),
		Dict(Double(0.1), Array(), Bool(true), Dict(), Null(), BulkString(strings.Repeat("\r\n", 3000))),
		Simple("a\rb"), Err("ERR x\ty"),
	}
	var buf []byte
	for _, v := range vals {
		buf = AppendValue(buf, v)
	}
	got, err := readAll(string(buf), Limits{})
	if len(got) != len(vals) {
		t.Fatalf("read back %d values, %v; want %d", len(got), err, len(vals))
	}
	for i := range vals {
		if !Equal(got[i], vals[i]) {
			t.Errorf("value %d: %v read back as %v", i, vals[i], got[i])
		}
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]Mode{"native": Native, "resp2": RESP2, "2": RESP2, "resp3": RESP3, "3": RESP3} {
		if m, err := ParseMode(s); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMode("resp4"); err == nil {
		t.Error("ParseMode(resp4) succeeded")
	}
	if Native.String() != "native" || RESP2.String() != "resp2" || RESP3.String() != "resp3" || Exact.String() != "exact" {
		t.Error("Mode.String")
	}
}

// The direct appenders write what AppendValue writes for the same values.
func TestWriter_DirectAppenders(t *testing.T) {
	for _, n := range []int64{0, -7, 42, math.MaxInt64, math.MinInt64} {
		if got, want := string(AppendInt(nil, n)), string(AppendValue(nil, Int(n))); got != want {
			t.Errorf("AppendInt(%d) = %q, want %q", n, got, want)
		}
		want := string(AppendValue(nil, BulkString(strconv.FormatInt(n, 10))))
		if got := string(AppendBulkInt(nil, n)); got != want {
			t.Errorf("AppendBulkInt(%d) = %q, want %q", n, got, want)
		}
	}
	elems := []Value{BulkString("a"), Int(1)}
	got := AppendArrayHeader(nil, 2)
	for _, e := range elems {
		got = AppendValue(got, e)
	}
	if want := AppendValue(nil, Array(elems...)); string(got) != string(want) {
		t.Errorf("AppendArrayHeader then elements = %q, want %q", got, want)
	}
}
