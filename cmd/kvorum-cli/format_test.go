package main

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

func TestFormatTTY(t *testing.T) {
	bs := resp.BulkString
	for _, tc := range []struct {
		v    resp.Value
		want string
	}{
		{resp.Int(3), "(integer) 3\n"},
		{resp.NullBulk(), "(nil)\n"},
		{resp.OK(), "OK\n"},
		{resp.Err("ERR x"), "(error) ERR x\n"},
		{bs("a\"b\n\x01"), `"a\"b\n\x01"` + "\n"},
		{resp.Array(), "(empty array)\n"},
		{resp.Array(bs("v2-0"), resp.Int(1), bs("v2-2")), "1) \"v2-0\"\n2) (integer) 1\n3) \"v2-2\"\n"},
		{resp.Array(bs("a"), resp.Array(bs("b"), bs("c")), resp.NullBulk()),
			"1) \"a\"\n2) 1) \"b\"\n   2) \"c\"\n3) (nil)\n"},
		{resp.Dict(bs("vx"), resp.Dict(bs("vy"), resp.Int(0), bs("vz"), resp.Array(resp.Int(1), resp.Int(2), resp.Int(3)))),
			"1# \"vx\" => 1# \"vy\" => (integer) 0\n" +
				"   2# \"vz\" => 1) (integer) 1\n" +
				"      2) (integer) 2\n" +
				"      3) (integer) 3\n"},
	} {
		if got := formatTTY(tc.v); got != tc.want {
			t.Errorf("formatTTY(%v) =\n%s\nwant\n%s", tc.v, got, tc.want)
		}
	}
	// Ten or more entries: numbers are right-aligned and nesting indents by
	// their width.
	elems := make([]resp.Value, 10)
	for i := range elems {
		elems[i] = resp.Int(int64(i))
	}
	elems[9] = resp.Array(bs("x"), bs("y"))
	got := formatTTY(resp.Array(elems...))
	want := " 1) (integer) 0\n 2) (integer) 1\n 3) (integer) 2\n 4) (integer) 3\n 5) (integer) 4\n" +
		" 6) (integer) 5\n 7) (integer) 6\n 8) (integer) 7\n 9) (integer) 8\n10) 1) \"x\"\n    2) \"y\"\n"
	if got != want {
		t.Errorf("formatTTY(10 elements) =\n%s\nwant\n%s", got, want)
	}
}

func TestFormatRaw(t *testing.T) {
	v := resp.Array(resp.BulkString("a"), resp.Int(1), resp.NullBulk(), resp.Dict(resp.BulkString("k"), resp.BulkString("v")))
	if got, want := formatRaw(v), "a\n1\n\nk v\n"; got != want {
		t.Errorf("formatRaw = %q; want %q", got, want)
	}
}
