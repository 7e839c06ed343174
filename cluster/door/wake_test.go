package door_test

import (
	"testing"
	"time"

	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// Writes other than pushes that put a list or sorted set under a key wake
// the clients blocked on it: RENAME, and the commands of a MULTI/EXEC.
func TestBlocking_RenameAndExecWake(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	cases := []struct {
		name  string
		setup []string
		block []string
		wake  [][]string // sent in order on one connection
		want  string
	}{
		{"RENAME list", []string{"RPUSH", "src1", "a", "b"}, []string{"BLPOP", "dst1", "10"},
			[][]string{{"RENAME", "src1", "dst1"}}, `["dst1", "a"]`},
		{"RENAME list to BLMOVE", []string{"RPUSH", "src2", "a", "b"}, []string{"BLMOVE", "dst2", "out", "RIGHT", "LEFT", "10"},
			[][]string{{"RENAME", "src2", "dst2"}}, `"b"`},
		{"RENAME sorted set", []string{"ZADD", "zsrc", "1", "m"}, []string{"BZPOPMIN", "zdst", "10"},
			[][]string{{"RENAME", "zsrc", "zdst"}}, `["zdst", "m", "1"]`},
		{"EXEC RENAME", []string{"RPUSH", "src3", "a"}, []string{"BRPOP", "dst3", "10"},
			[][]string{{"MULTI"}, {"SET", "x", "1"}, {"RENAME", "src3", "dst3"}, {"EXEC"}}, `["dst3", "a"]`},
		{"EXEC RPUSH", []string{"SET", "y", "1"}, []string{"BLPOP", "dst4", "10"},
			[][]string{{"MULTI"}, {"PING"}, {"RPUSH", "dst4", "j"}, {"EXEC"}}, `["dst4", "j"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			other := resptest.Dial(t, addr)
			defer other.Close()
			other.Do(t, "HELLO", "2")
			if v := other.Do(t, tc.setup...); v.IsError() {
				t.Fatalf("%q = %v", tc.setup, v)
			}
			blocked := resptest.Dial(t, addr)
			defer blocked.Close()
			blocked.Do(t, "HELLO", "2")
			blocked.SetDeadline(time.Now().Add(20 * time.Second))
			blocked.Write(resp.AppendCommand(nil, tc.block...))
			got := make(chan resp.Value, 1)
			go func() {
				v, err := blocked.ReadValue()
				if err != nil {
					v = resp.Err("read: " + err.Error())
				}
				got <- v
			}()
			resptest.WaitBlocked(t, addr, "1")
			for _, args := range tc.wake {
				if v := other.Do(t, args...); v.IsError() {
					t.Fatalf("%q = %v", args, v)
				}
			}
			select {
			case v := <-got:
				if v.String() != tc.want {
					t.Fatalf("%q woken by %q = %v, want %s", tc.block, tc.wake, v, tc.want)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("%q was not woken by %q", tc.block, tc.wake)
			}
		})
	}
}
