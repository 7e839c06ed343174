package resp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

// decode sends v through the wire and back, as a client would receive it.
func decode(t *testing.T, v Value) Value {
	t.Helper()
	got, err := NewReader(bytes.NewReader(AppendValue(nil, v)), Limits{}).ReadValue()
	if err != nil {
		t.Fatalf("read back %v: %v", v, err)
	}
	return got
}

func TestError_Value(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		wire string
	}{
		{ErrWrongType, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{ErrExecAbort, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{ErrTryAgain, "-TRYAGAIN\r\n"},
		{ErrUncertain, "-UNCERTAIN\r\n"},
		{TryAgain("leader is catching up"), "-TRYAGAIN leader is catching up\r\n"},
		{Uncertain("leadership changed"), "-UNCERTAIN leadership changed\r\n"},
		{ErrTimeoutNegative, "-ERR timeout is negative\r\n"},
		{ErrTimeoutInvalid, "-ERR timeout is not a float or out of range\r\n"},
	} {
		if got := string(AppendValue(nil, tc.err.Value())); got != tc.wire {
			t.Errorf("%#v encodes as %q; want %q", tc.err, got, tc.wire)
		}
		if got := tc.err.Value().Code(); got != tc.err.Code {
			t.Errorf("%v: Value().Code() = %q; want %q", tc.err, got, tc.err.Code)
		}
	}
}

func TestError_Is(t *testing.T) {
	for _, tc := range []struct {
		err    error
		target error
		want   bool
	}{
		{ErrWrongType, ErrWrongType, true},
		{fmt.Errorf("GET k: %w", ErrWrongType), ErrWrongType, true},
		{TryAgain("not yet"), ErrTryAgain, true},
		{fmt.Errorf("attempt 3: %w", TryAgain("not yet")), ErrTryAgain, true},
		{Uncertain("cut off"), ErrUncertain, true},
		{TryAgain("not yet"), ErrUncertain, false},
		{ErrWrongType, ErrExecAbort, false},
		{ErrWrongType, errors.New("WRONGTYPE"), false},
		{ErrTimeoutNegative, ErrTimeoutNegative, true},
		{ErrWrongType, ErrNoLeader, false},
	} {
		if got := errors.Is(tc.err, tc.target); got != tc.want {
			t.Errorf("errors.Is(%v, %v) = %v; want %v", tc.err, tc.target, got, tc.want)
		}
	}
}

// A client decodes an error reply into a *ReplyError; it matches the named
// error of its code, whatever the message.
func TestReplyError_Is(t *testing.T) {
	for _, tc := range []struct {
		reply  Value
		target error
		want   bool
	}{
		{ErrWrongType.Value(), ErrWrongType, true},
		{Err("WRONGTYPE another server's wording"), ErrWrongType, true},
		{ErrExecAbort.Value(), ErrExecAbort, true},
		{TryAgain("leader is catching up").Value(), ErrTryAgain, true},
		{Err(CodeTryAgain), ErrTryAgain, true},
		{Uncertain("leadership changed").Value(), ErrUncertain, true},
		{Uncertain("leadership changed").Value(), ErrTryAgain, false},
		{Err("ERR unknown command"), ErrWrongType, false},
		{Err("WRONGTYPEX x"), ErrWrongType, false},
		{Err("TRYAGAINnot"), ErrTryAgain, false},
		{Err(""), &Error{}, false},
	} {
		err := AsError(decode(t, tc.reply))
		var re *ReplyError
		if !errors.As(err, &re) {
			t.Fatalf("AsError(%v) = %#v; want a *ReplyError", tc.reply, err)
		}
		if got := errors.Is(fmt.Errorf("wrapped: %w", err), tc.target); got != tc.want {
			t.Errorf("errors.Is(AsError(%v), %v) = %v; want %v", tc.reply, tc.target, got, tc.want)
		}
	}
}

func TestRedirectError_IsNoLeader(t *testing.T) {
	down := AsError(decode(t, ErrNoLeader.Value()))
	if down == error(ErrNoLeader) {
		t.Fatal("decoded CLUSTERDOWN is ErrNoLeader itself; the test would prove nothing")
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{ErrNoLeader, true},
		{&RedirectError{}, true},
		{down, true},
		{fmt.Errorf("attempt 2: %w", down), true},
		{&RedirectError{Leader: "10.0.0.7:6379"}, false},
		{AsError(decode(t, (&RedirectError{Leader: "h:1"}).Value())), false},
		{AsError(Err("ERR no leader")), false},
	} {
		if got := errors.Is(tc.err, ErrNoLeader); got != tc.want {
			t.Errorf("errors.Is(%v, ErrNoLeader) = %v; want %v", tc.err, got, tc.want)
		}
	}
	moved := &RedirectError{Leader: "h:1"}
	if !errors.Is(AsError(moved.Value()), moved) {
		t.Error("a decoded MOVED does not match the redirect to the same leader")
	}
}

func TestParseTimeout(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want time.Duration
		err  error // compared with ==: the ERR errors share a code
	}{
		{BulkString("0"), 0, nil},
		{BulkString("1"), time.Second, nil},
		{BulkString("1.5"), 1500 * time.Millisecond, nil},
		{BulkString("0.001"), time.Millisecond, nil},
		{BulkString("-0"), 0, nil},
		{Simple("2"), 2 * time.Second, nil},
		{Int(3), 3 * time.Second, nil},
		{Double(0.25), 250 * time.Millisecond, nil},
		{BulkString("1e12"), math.MaxInt64, nil}, // longer than a Duration holds
		{BulkString("-1"), 0, ErrTimeoutNegative},
		{BulkString("-0.5"), 0, ErrTimeoutNegative},
		{Int(-1), 0, ErrTimeoutNegative},
		{BulkString("-inf"), 0, ErrTimeoutNegative},
		{BulkString("1.1e12"), 0, ErrTimeoutInvalid},
		{BulkString("inf"), 0, ErrTimeoutInvalid},
		{BulkString("nan"), 0, ErrTimeoutInvalid},
		{Double(math.NaN()), 0, ErrTimeoutInvalid},
		{BulkString("x"), 0, ErrTimeoutInvalid},
		{BulkString(""), 0, ErrTimeoutInvalid},
		{BulkString(" 1"), 0, ErrTimeoutInvalid},
		{NullBulk(), 0, ErrTimeoutInvalid},
		{Array(BulkString("1")), 0, ErrTimeoutInvalid},
	} {
		got, err := ParseTimeout(tc.v)
		if got != tc.want || err != tc.err {
			t.Errorf("ParseTimeout(%v) = %v, %v; want %v, %v", tc.v, got, err, tc.want, tc.err)
		}
		if err != nil && (!errors.Is(err, tc.err) || errors.Is(err, &Error{Code: "ERR", Msg: "another"})) {
			t.Errorf("ParseTimeout(%v) error %#v: errors.Is must match it and no other ERR", tc.v, err)
		}
	}
}
