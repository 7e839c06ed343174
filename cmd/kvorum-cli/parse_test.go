package main

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

func TestParseLine(t *testing.T) {
	bs := resp.BulkString
	for _, tc := range []struct {
		line string
		want []resp.Value
	}{
		{`GET k1`, []resp.Value{bs("GET"), bs("k1")}},
		{`set "a b" 'c\'d'`, []resp.Value{bs("set"), bs("a b"), bs("c'd")}},
		{`MSET k1 v1 k2 ['v2-0', 1, 'v2-2'] k3 v3`, []resp.Value{bs("MSET"), bs("k1"), bs("v1"), bs("k2"),
			resp.Array(bs("v2-0"), resp.Int(1), bs("v2-2")), bs("k3"), bs("v3")}},
		{`SET kx {'vx': {'vy': 0, 'vz': [1, 2, 3]}}`, []resp.Value{bs("SET"), bs("kx"),
			resp.Dict(bs("vx"), resp.Dict(bs("vy"), resp.Int(0), bs("vz"), resp.Array(resp.Int(1), resp.Int(2), resp.Int(3))))}},
		{`SET k {"a": [None, 1.5, -2,], "b]": "x y"}`, []resp.Value{bs("SET"), bs("k"),
			resp.Dict(bs("a"), resp.Array(resp.NullBulk(), bs("1.5"), resp.Int(-2)), bs("b]"), bs("x y"))}},
		{`SET k "[not a list]"`, []resp.Value{bs("SET"), bs("k"), bs("[not a list]")}},
		{`SET k a[1]`, []resp.Value{bs("SET"), bs("k"), bs("a[1]")}},
		{`  `, nil},
	} {
		got, err := parseLine(tc.line)
		if err != nil {
			t.Errorf("parseLine(%q): %v", tc.line, err)
			continue
		}
		if !resp.Equal(resp.Array(got...), resp.Array(tc.want...)) {
			t.Errorf("parseLine(%q) = %v; want %v", tc.line, got, tc.want)
		}
	}
	for _, bad := range []string{`SET k [1, 2`, `SET k [1 2]`, `SET k {[1]: 2}`, `SET k [x]`, `SET k [1]x`, `SET "a`} {
		if got, err := parseLine(bad); err == nil {
			t.Errorf("parseLine(%q) = %v; want an error", bad, got)
		}
	}
}
