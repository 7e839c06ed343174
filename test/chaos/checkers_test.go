package chaos

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/kvorum/kvorum/internal/regmodel"
)

// The checkers can fail: each is fed a history with a planted violation.

func TestCheckQueue_FindsViolations(t *testing.T) {
	rec := &queueRecord{
		Pushes: map[string]*pushRec{
			"fine": {Acked: true}, "lost": {Acked: true}, "dup": {Acked: true},
			"dup-unknown": {Acked: true, Unknown: 1}, "refused": {}, "gone": {Acked: true},
		},
		Delivered:     map[string]int{"fine": 1, "dup": 2, "dup-unknown": 1, "refused": 1, "gone": 1},
		AckUnknown:    map[string]bool{},
		AckUnresolved: map[string]bool{},
		AckMissing:    []string{"gone"},
		Pending:       []string{"dup-unknown", "never-pushed"},
	}
	v := checkQueue(rec)
	want := map[string][]string{"lost": {"lost"}, "duplicated": {"dup"}, "unexpected": {"never-pushed", "refused"},
		"ack missing": {"gone"}, "dup unknown": {"dup-unknown"}}
	got := map[string][]string{"lost": v.Lost, "duplicated": v.Duplicated, "unexpected": v.Unexpected,
		"ack missing": v.AckMissing, "dup unknown": v.DupUnknown}
	for k, w := range want {
		if strings.Join(got[k], ",") != strings.Join(w, ",") {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
	if v.ok() {
		t.Error("verdict ok, want violations")
	}
}

func TestCheckQueue_CleanRun(t *testing.T) {
	rec := &queueRecord{
		Pushes:        map[string]*pushRec{"a": {Acked: true}, "b": {Acked: true}, "c": {Unknown: 1}, "d": {Unknown: 1}},
		Delivered:     map[string]int{"a": 1},
		AckUnknown:    map[string]bool{},
		AckUnresolved: map[string]bool{},
		Processing:    []string{"b", "c"}, // b: its BLMOVE's reply was lost; c: an unknown push applied; d: not applied
	}
	if v := checkQueue(rec); !v.ok() {
		t.Errorf("clean history judged %v", v)
	}
}

func TestCheckCounter(t *testing.T) {
	for _, tc := range []struct {
		r    counterRecord
		fail bool
	}{
		{counterRecord{Acked: 3, Unknown: 1, Replies: []int64{1, 2, 4}, Final: 4}, false},
		{counterRecord{Acked: 3, Unknown: 1, Replies: []int64{1, 2, 3}, Final: 3}, false},
		{counterRecord{Acked: 3, Replies: []int64{1, 2, 3}, Final: 2}, true},          // an acknowledged INCR lost
		{counterRecord{Acked: 2, Unknown: 1, Replies: []int64{1, 2}, Final: 4}, true}, // applied twice
		{counterRecord{Acked: 2, Replies: []int64{1, 1}, Final: 2}, true},             // two INCRs saw one value
		{counterRecord{Acked: 3, Replies: []int64{1, 2, 3}, Final: 4}, true},          // none unknown, yet applied once more
	} {
		if got := checkCounter("c", tc.r) != ""; got != tc.fail {
			t.Errorf("%+v: violation %v, want %v (%q)", tc.r, got, tc.fail, checkCounter("c", tc.r))
		}
	}
}

// A stale read (the old value after a write completed) is illegal, and
// the check writes the visualization.
func TestRegisters_StaleReadIsIllegal(t *testing.T) {
	op := func(client int, in regmodel.Input, out regmodel.Output, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
	}
	r := &registers{history: []porcupine.Operation{
		op(0, regmodel.Input{Key: "k", Write: true, Value: "a"}, regmodel.Output{}, 0, 10),
		op(1, regmodel.Input{Key: "k", Write: true, Value: "b"}, regmodel.Output{Value: "a"}, 20, 30),
		op(2, regmodel.Input{Key: "k"}, regmodel.Output{Value: "a"}, 40, 50), // stale
		op(0, regmodel.Input{Key: "k", Write: true, Value: "c"}, regmodel.Output{Unknown: true}, 60, math.MaxInt64),
	}}
	verdict, vis, _ := r.check(10e9, nil, t.TempDir())
	if verdict != "ILLEGAL" {
		t.Fatalf("verdict %q, want ILLEGAL", verdict)
	}
	if st, err := os.Stat(vis); err != nil || st.Size() == 0 {
		t.Errorf("visualization %s: %v", vis, err)
	}
	r.history[2].Output = regmodel.Output{Value: "b"}
	if verdict, _, _ := r.check(10e9, nil, t.TempDir()); verdict != "linearizable" {
		t.Errorf("without the stale read: %q, want linearizable", verdict)
	}
}

func TestPlan_SameSeedSameSchedule(t *testing.T) {
	a, b, c := plan(42, 60e9), plan(42, 60e9), plan(43, 60e9)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("plans of %d and %d steps", len(a), len(b))
	}
	same := len(a) == len(c)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: %+v vs %+v", i, a[i], b[i])
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("seeds 42 and 43 gave the same plan")
	}
}

// A compare-and-set lost after it swapped is illegal, and the
// visualization describes CAS operations.
func TestRegisters_LostSwapIsIllegal(t *testing.T) {
	op := func(client int, in regmodel.Input, out regmodel.Output, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
	}
	r := &registers{history: []porcupine.Operation{
		op(0, regmodel.Input{Key: "k", Write: true, Value: "a"}, regmodel.Output{}, 0, 10),
		op(1, regmodel.Input{Key: "k", CAS: true, Expect: "a", Value: "b"}, regmodel.Output{Value: "a", Swapped: true}, 20, 30),
		op(2, regmodel.Input{Key: "k", CAS: true, Expect: "b", Value: "c"}, regmodel.Output{Value: "a"}, 40, 50), // lost
		op(0, regmodel.Input{Key: "k", CAS: true, Expect: "a", Value: "d"}, regmodel.Output{Value: "a", Unknown: true}, 60, math.MaxInt64),
	}}
	verdict, vis, _ := r.check(10e9, nil, t.TempDir())
	if verdict != "ILLEGAL" {
		t.Fatalf("verdict %q, want ILLEGAL", verdict)
	}
	if b, err := os.ReadFile(vis); err != nil || !strings.Contains(string(b), "cas(k") {
		t.Errorf("visualization %s: %v, or no CAS described", vis, err)
	}
	r.history[2].Output = regmodel.Output{Value: "b", Swapped: true}
	if verdict, _, _ := r.check(10e9, nil, t.TempDir()); verdict != "linearizable" {
		t.Errorf("with the swap seen and swapped again: %q, want linearizable", verdict)
	}
}

// A long plan uses every fault kind, and only slow steps carry a delay,
// of 50-200 ms.
func TestPlan_EveryKind(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range plan(7, 10*time.Minute) {
		seen[s.Kind] = true
		if (s.Kind == faultSlow) != (s.Delay != 0) || s.Delay != 0 && (s.Delay < 50*time.Millisecond || s.Delay >= 200*time.Millisecond) {
			t.Errorf("%s step with delay %v", s.Kind, s.Delay)
		}
	}
	for _, k := range faultKinds {
		if !seen[k] {
			t.Errorf("no %s step in a 10-minute plan", k)
		}
	}
}

// The redis-py script's lines become a register history on the run's
// clock: an answered operation as seen, a SET of unknown outcome as one
// that may apply any time after its call, a failed one only counted; a
// line that is not JSON is a problem. A stale read among them is illegal.
func TestRedisPy_LinesToHistory(t *testing.T) {
	p := newRedisPy(nil)
	p.offset = -1000
	p.read(strings.NewReader(`{"start": true, "redis_py": "4.3.4"}
{"worker": 0, "kind": "set", "key": "py:0.0:0", "value": "py0-0", "output": "", "outcome": "ok", "call": 1010, "return": 1020}
{"worker": 1, "kind": "set", "key": "py:0.0:0", "value": "py1-0", "output": "py0-0", "outcome": "ok", "call": 1030, "return": 1040}
{"worker": 0, "kind": "get", "key": "py:0.0:0", "value": "", "output": "py0-0", "outcome": "ok", "call": 1050, "return": 1060}
{"worker": 1, "kind": "set", "key": "py:0.0:0", "value": "py1-1", "output": "", "outcome": "unknown", "call": 1070, "return": 1080, "error": "ConnectionError after send"}
{"worker": 1, "kind": "get", "key": "py:0.0:0", "value": "", "output": "", "outcome": "failed", "call": 1090, "return": 1095, "error": "ClusterDownError: no leader"}
not json
{"end": true, "ops": 5}
`))
	if !p.ended || p.version != "4.3.4" || len(p.problems) != 1 || len(p.errs) != 2 {
		t.Fatalf("ended %v, version %q, problems %q, errs %q", p.ended, p.version, p.problems, p.errs)
	}
	if c := p.reg.counts; c != (opCounts{OK: 3, Failed: 1, Unknown: 1}) {
		t.Errorf("counts %+v", c)
	}
	h := p.reg.history
	if len(h) != 4 || h[0].Call != 10 || h[0].Return != 20 || h[3].Return != math.MaxInt64 || !h[3].Output.(regmodel.Output).Unknown {
		t.Fatalf("history %+v", h)
	}
	verdict, vis, _ := p.reg.check(10e9, nil, t.TempDir())
	if verdict != "ILLEGAL" || !strings.Contains(vis, "linearizability-redispy-") {
		t.Fatalf("verdict %q (visualization %q), want ILLEGAL: the GET read py0-0 after py1-0 replaced it", verdict, vis)
	}
	h[2].Output = regmodel.Output{Value: "py1-0"}
	if verdict, _, _ := p.reg.check(10e9, nil, t.TempDir()); verdict != "linearizable" {
		t.Errorf("with a fresh read: %q, want linearizable", verdict)
	}
}
