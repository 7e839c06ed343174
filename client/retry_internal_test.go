package client

import (
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

func TestBackoff_Bounds(t *testing.T) {
	lo, hi := 8*time.Millisecond, 512*time.Millisecond
	for n := range 100 {
		d := backoff(n, lo, hi)
		ceil := min(hi, lo<<min(n, 40))
		if d < ceil/2 || d > ceil {
			t.Fatalf("backoff(%d) = %v; want in [%v, %v]", n, d, ceil/2, ceil)
		}
	}
}

func TestRetrySafe(t *testing.T) {
	for _, tc := range []struct {
		args []string
		safe bool
	}{
		{[]string{"GET", "k"}, true},
		{[]string{"SET", "k", "v"}, true},
		{[]string{"SET", "k", "nx"}, true}, // the value "nx" is not an option
		{[]string{"SET", "k", "v", "EX", "10"}, true},
		{[]string{"SET", "k", "v", "nx"}, false},
		{[]string{"SET", "k", "v", "GET"}, false},
		{[]string{"MSET", "a", "1"}, true},
		{[]string{"INCR", "k"}, false},
		{[]string{"DELETE", "k"}, false},
		{[]string{"DEL", "k"}, false},
		{[]string{"FLUSH"}, false},
		{[]string{"LPUSH", "q", "x"}, false},
		{[]string{"HSET", "h", "f", "v"}, false},
		{[]string{"NEWCOMMAND"}, false},
	} {
		vals := make([]resp.Value, len(tc.args))
		for i, a := range tc.args {
			vals[i] = resp.BulkString(a)
		}
		if got := retrySafe(tc.args[0], vals); got != tc.safe {
			t.Errorf("retrySafe(%v) = %v; want %v", tc.args, got, tc.safe)
		}
	}
}

func TestBlockTimeout(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{[]string{"GET", "k"}, -1},
		{[]string{"BLPOP", "q", "0"}, 0},
		{[]string{"BLPOP", "q", "1.5"}, 1500 * time.Millisecond},
		{[]string{"BLMOVE", "a", "b", "LEFT", "RIGHT", "2"}, 2 * time.Second},
		{[]string{"BZPOPMIN", "z", "31536001"}, 0}, // over a year: as good as forever
		{[]string{"BRPOP", "q", "1e12"}, 0},
		{[]string{"BRPOP", "q", "-1"}, -1}, // refused by the server (resp.ParseTimeout)
		{[]string{"BRPOP", "q", "x"}, -1},
		{[]string{"BRPOP", "q", "inf"}, -1},
		{[]string{"BRPOP", "q", "2e12"}, -1},
		{[]string{"BLPOP"}, -1},
	} {
		vals := make([]resp.Value, len(tc.args))
		for i, a := range tc.args {
			vals[i] = resp.BulkString(a)
		}
		if got := blockTimeout(tc.args[0], vals); got != tc.want {
			t.Errorf("blockTimeout(%v) = %v; want %v", tc.args, got, tc.want)
		}
	}
}
