package fsm_test

import (
	"strings"
	"testing"

	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

// UnknownCommand's text is Redis 7.0.15's, byte for byte (the wants were
// taken from a redis-server 7.0.15; cluster/door's TestRedisDiff_UnknownCommand
// compares against a live one).
func TestUnknownCommand_Redis7Text(t *testing.T) {
	a := strings.Repeat("a", 200)
	b := strings.Repeat("b", 100)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"foo", nil, "ERR unknown command 'foo', with args beginning with: "},
		{"foo", []string{"a", "b"}, "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{"FOO", []string{""}, "ERR unknown command 'FOO', with args beginning with: '' "},
		{strings.Repeat("x", 300), nil, "ERR unknown command '" + strings.Repeat("x", 128) + "', with args beginning with: "},
		// The argument list stops once it reaches 128 bytes, the last one cut to fit.
		{"foo", []string{a, "b"}, "ERR unknown command 'foo', with args beginning with: '" + a[:128] + "' "},
		{"foo", []string{a[:100], b, "c"}, "ERR unknown command 'foo', with args beginning with: '" + a[:100] + "' '" + b[:25] + "' "},
		// CR and LF become spaces; a NUL ends a text, as in C.
		{"foo", []string{"a\r\nb", "c\x00d", "e"}, "ERR unknown command 'foo', with args beginning with: 'a  b' 'c' 'e' "},
		{"f\x00oo", []string{"a"}, "ERR unknown command 'f', with args beginning with: 'a' "},
		{"ſet", []string{"k"}, "ERR unknown command 'ſet', with args beginning with: 'k' "},
	} {
		args := make([]resp.Value, len(tc.args))
		for i, s := range tc.args {
			args[i] = resp.BulkString(s)
		}
		got := fsm.UnknownCommand([]byte(tc.name), args...)
		if !got.IsError() || got.Text() != tc.want {
			t.Errorf("UnknownCommand(%.20q, %.40q):\n got %q\nwant %q", tc.name, tc.args, got.Text(), tc.want)
		}
	}
}
