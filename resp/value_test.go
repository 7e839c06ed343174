package resp

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestValue_Kinds(t *testing.T) {
	tests := []struct {
		name   string
		v      Value
		kind   Kind
		null   bool
		scalar bool
		text   string
		len    int
		str    string // String()
	}{
		{"null", Null(), KindNull, true, true, "", 0, "nil"},
		{"null bulk", NullBulk(), KindBulk, true, true, "", 0, "nil"},
		{"null array", NullArray(), KindArray, true, false, "", 0, "nil"},
		{"simple", Simple("OK"), KindSimple, false, true, "OK", 2, `"OK"`},
		{"ok", OK(), KindSimple, false, true, "OK", 2, `"OK"`},
		{"error", Err("ERR bad"), KindError, false, true, "ERR bad", 7, "(error) ERR bad"},
		{"errorf", Errorf("ERR %d", 7), KindError, false, true, "ERR 7", 5, "(error) ERR 7"},
		{"int", Int(-42), KindInt, false, true, "-42", 0, "-42"},
		{"bulk", Bulk([]byte("a\r\nb")), KindBulk, false, true, "a\r\nb", 4, `"a\r\nb"`},
		{"bulk nil is empty", Bulk(nil), KindBulk, false, true, "", 0, `""`},
		{"bulk string", BulkString("héllo"), KindBulk, false, true, "héllo", 6, `"héllo"`},
		{"true", Bool(true), KindBool, false, true, "1", 0, "true"},
		{"false", Bool(false), KindBool, false, true, "0", 0, "false"},
		{"double", Double(1.5), KindDouble, false, true, "1.5", 0, "1.5"},
		{"inf", Double(math.Inf(-1)), KindDouble, false, true, "-inf", 0, "-inf"},
		{"array", Array(Int(1), BulkString("a")), KindArray, false, false, "", 2, `[1, "a"]`},
		{"empty array", Array(), KindArray, false, false, "", 0, "[]"},
		{"dict", Dict(BulkString("k"), Array(Int(1)), Int(2), Null()), KindDict, false, false, "", 2, `{"k": [1], 2: nil}`},
		{"empty dict", Dict(), KindDict, false, false, "", 0, "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			if v.Kind() != tt.kind || v.IsNull() != tt.null || v.IsScalar() != tt.scalar ||
				v.Text() != tt.text || v.Len() != tt.len || v.String() != tt.str {
				t.Errorf("got kind %v null %v scalar %v text %q len %d string %s; want %v %v %v %q %d %s",
					v.Kind(), v.IsNull(), v.IsScalar(), v.Text(), v.Len(), v.String(),
					tt.kind, tt.null, tt.scalar, tt.text, tt.len, tt.str)
			}
			if v.IsError() != (tt.kind == KindError) {
				t.Errorf("IsError = %v", v.IsError())
			}
			if !Equal(v, v.Clone()) {
				t.Errorf("Clone = %v, not Equal", v.Clone())
			}
		})
	}
}

func TestValue_Accessors(t *testing.T) {
	if Int(-7).Int() != -7 || !Int(3).Bool() || Int(0).Bool() {
		t.Error("Int accessors")
	}
	if !Bool(true).Bool() || Bool(true).Int() != 1 || Bool(false).Bool() {
		t.Error("Bool accessors")
	}
	if Double(2.25).Float() != 2.25 || Int(2).Float() != 0 {
		t.Error("Float accessor")
	}
	if string(BulkString("x").Bytes()) != "x" || Int(1).Bytes() != nil {
		t.Error("Bytes accessor")
	}
	d := Dict(Simple("a"), Int(1), Simple("b"), Int(2))
	if k, v := d.Pair(1); k.Text() != "b" || v.Int() != 2 {
		t.Errorf("Pair(1) = %v, %v", k, v)
	}
	if len(d.Elems()) != 4 {
		t.Errorf("Elems = %v", d.Elems())
	}
	if NullBulk().Text() != "" || Null().Text() != "" {
		t.Error("null Text")
	}
}

func TestErr_ReplacesLineBreaks(t *testing.T) {
	v := Err("ERR a\r\nb\nc")
	if v.Text() != "ERR a  b c" {
		t.Errorf("Err text = %q", v.Text())
	}
	if got := string(AppendValue(nil, v)); got != "-ERR a  b c\r\n" {
		t.Errorf("encoded %q", got)
	}
}

func TestDict_OddPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Dict with 3 elements did not panic")
		}
	}()
	Dict(Int(1), Int(2), Int(3))
}

func TestEqual(t *testing.T) {
	same := [][2]Value{
		{Bulk(nil), BulkString("")},
		{Array(), Value{kind: KindArray}},
		{Array(Dict(Int(1), Array())), Array(Dict(Int(1), Array()))},
	}
	for _, p := range same {
		if !Equal(p[0], p[1]) {
			t.Errorf("Equal(%v, %v) = false", p[0], p[1])
		}
	}
	differ := [][2]Value{
		{Simple("a"), BulkString("a")},
		{Null(), NullBulk()},
		{NullBulk(), BulkString("")},
		{NullArray(), Array()},
		{Int(1), Bool(true)},
		{Double(0), Double(math.Copysign(0, -1))},
		{Array(Int(1)), Array(Int(2))},
		{Array(Int(1)), Array(Int(1), Int(1))},
		{Dict(Int(1), Int(2)), Array(Int(1), Int(2))},
		{Dict(Int(1), Int(2), Int(3), Int(4)), Dict(Int(3), Int(4), Int(1), Int(2))},
	}
	for _, p := range differ {
		if Equal(p[0], p[1]) {
			t.Errorf("Equal(%v, %v) = true", p[0], p[1])
		}
	}
}

func TestValue_CloneSharesNothing(t *testing.T) {
	buf := []byte("abcdef")
	inner := []Value{Bulk(buf[:3]), Simple("x")}
	v := Array(Bulk(buf[3:]), Dict(Bulk(buf[:1]), Array(inner...)))
	c := v.Clone()
	want := v.String()
	copy(buf, "XXXXXX")
	inner[1] = Int(9)
	if c.String() != want {
		t.Errorf("clone changed with its source: %v, want %v", c, want)
	}
}

func TestKind_String(t *testing.T) {
	for k, want := range map[Kind]string{KindNull: "null", KindDict: "dict", KindDouble: "double", Kind(99): "kind(99)"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}

func TestParseInt(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1": 1, "-1": -1, "1234567890": 1234567890,
		"9223372036854775807": math.MaxInt64, "-9223372036854775808": math.MinInt64,
	}
	for s, want := range good {
		if n, ok := ParseInt([]byte(s)); !ok || n != want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d", s, n, ok, want)
		}
	}
	// Refused as Redis's string2ll refuses them.
	for _, s := range []string{"", "-", "+1", " 1", "1 ", "01", "-0", "00", "1a", "1.0", "0x10",
		"9223372036854775808", "-9223372036854775809", "18446744073709551616", "99999999999999999999999", "1\x00"} {
		if n, ok := ParseInt([]byte(s)); ok {
			t.Errorf("ParseInt(%q) = %d, want refused", s, n)
		}
	}
}

func TestParseDouble(t *testing.T) {
	good := map[string]float64{
		"0": 0, "1.5": 1.5, "-2.5e3": -2500, "inf": math.Inf(1), "+inf": math.Inf(1), "-inf": math.Inf(-1),
		"INF": math.Inf(1), "-Inf": math.Inf(-1), "1e308": 1e308,
	}
	for s, want := range good {
		if f, err := ParseDouble([]byte(s)); err != nil || f != want {
			t.Errorf("ParseDouble(%q) = %v, %v; want %v", s, f, err, want)
		}
	}
	for _, s := range []string{"", "nan", "NaN", "abc", " 1", "1 ", "1e400", "1.5x"} {
		if f, err := ParseDouble([]byte(s)); err == nil {
			t.Errorf("ParseDouble(%q) = %v, want an error", s, f)
		}
	}
}

func TestFormatDouble(t *testing.T) {
	for f, want := range map[float64]string{1.5: "1.5", 3: "3", -0.25: "-0.25", 1e21: "1000000000000000000000",
		math.Inf(1): "inf", math.Inf(-1): "-inf", math.NaN(): "nan"} {
		if got := FormatDouble(f); got != want {
			t.Errorf("FormatDouble(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestRedirectError_RoundTrip(t *testing.T) {
	for _, e := range []*RedirectError{{Leader: "10.0.0.7:6379"}, {Leader: "[::1]:7000"}, ErrNoLeader} {
		wire := AppendValue(nil, e.Value())
		v, err := NewReader(bytes.NewReader(wire), Limits{}).ReadValue()
		if err != nil {
			t.Fatalf("%s: %v", wire, err)
		}
		got, ok := ParseRedirect(v)
		if !ok || *got != *e {
			t.Errorf("ParseRedirect(%q) = %+v, %v; want %+v", wire, got, ok, e)
		}
		var re *RedirectError
		if err := AsError(v); !errors.As(err, &re) || re.Leader != e.Leader || err.Error() != e.Error() {
			t.Errorf("AsError(%q) = %v", wire, err)
		}
	}
	if got := string(AppendValue(nil, (&RedirectError{Leader: "h:1"}).Value())); got != "-MOVED 0 h:1\r\n" {
		t.Errorf("MOVED encodes as %q", got)
	}
	if got := string(AppendValue(nil, ErrNoLeader.Value())); got != "-CLUSTERDOWN no leader\r\n" {
		t.Errorf("CLUSTERDOWN encodes as %q", got)
	}
	for _, v := range []Value{Err("ERR nope"), Err("MOVED"), Err("MOVED x h:1"), Err("MOVED 0 h:1 extra"), Simple("MOVED 0 h:1"), Int(1)} {
		if r, ok := ParseRedirect(v); ok {
			t.Errorf("ParseRedirect(%v) = %+v, want not a redirect", v, r)
		}
	}
}

func TestAsError(t *testing.T) {
	if AsError(Simple("OK")) != nil {
		t.Error("AsError(+OK) != nil")
	}
	var re *ReplyError
	if err := AsError(Err("WRONGTYPE x")); !errors.As(err, &re) || re.Error() != "WRONGTYPE x" {
		t.Errorf("AsError(-WRONGTYPE) = %v", err)
	}
	pe := &ProtocolError{Msg: "bad"}
	if !IsProtocolError(pe) || IsProtocolError(errors.New("x")) || pe.Value().Text() != "ERR Protocol error: bad" {
		t.Error("ProtocolError helpers")
	}
}

func TestValue_Code(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{Err("ERR unknown command 'x'"), "ERR"},
		{Err(CodeUncertain + " write cut off"), CodeUncertain},
		{Err(CodeTryAgain), CodeTryAgain},
		{(&RedirectError{Leader: "h:1"}).Value(), "MOVED"},
		{Err(""), ""},
		{Simple("ERR x"), ""},
		{BulkString("ERR"), ""},
	}
	for _, tt := range tests {
		if got := tt.v.Code(); got != tt.want {
			t.Errorf("%v.Code() = %q, want %q", tt.v, got, tt.want)
		}
	}
}
