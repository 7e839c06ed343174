package regmodel

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// Input is one operation on the register Key: a read; (Write) a
// SET Key Value GET that also returns the value it replaced; or (CAS) a
// compare-and-set of Expect to Value: WATCH Key, GET Key, and if that
// read Expect, MULTI, SET Key Value, EXEC (else UNWATCH).
type Input struct {
	Key    string
	Write  bool
	CAS    bool   // a compare-and-set; Write is then false
	Value  string // the value written (or set by a CAS); unused by a read
	Expect string // a CAS's expected value ("": the key does not exist)
}

// Output is what an operation observed: the register's value (a read),
// the value a write replaced, or the value a CAS's GET read. Unknown marks
// a write, or a CAS whose EXEC was sent, whose outcome the client could
// not learn; its Value and Swapped are ignored. Swapped marks a CAS whose
// EXEC ran its SET.
//
// A CAS whose GET read Expect and whose EXEC answered nil (a watched key
// changed) says the register no longer held Expect when the EXEC was
// applied: exact because WATCH is (a key's last-modified index, checked
// where the entry is applied) and because every write writes a value never
// written before, so a changed register cannot hold Expect again.
type Output struct {
	Value   string
	Unknown bool
	Swapped bool
}

// Model returns the register model. Operations' Input must be an Input and
// their Output an Output; porcupine panics on anything else. Each call
// returns a new value, so a caller may change its copy.
func Model() porcupine.Model {
	return porcupine.Model{
		Partition:         partition,
		Init:              func() any { return "" },
		Step:              step,
		DescribeOperation: describe,
		DescribeState:     func(state any) string { return fmt.Sprintf("%q", state) },
	}
}

// partition splits history by key, keys in order of first appearance (so
// the check, and its visualization, do not depend on map order).
func partition(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	var keys []string
	for _, op := range history {
		k := op.Input.(Input).Key
		if _, seen := byKey[k]; !seen {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], op)
	}
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

// step applies one operation to the register's value st. A read must see
// st and leaves it; a write must have replaced st, unless its outcome is
// unknown, and leaves its own value. (An unknown write that never took
// effect is the linearization that places it after every other operation,
// which its infinite Return allows.) A CAS is stepCAS.
func step(state, input, output any) (bool, any) {
	in, out, st := input.(Input), output.(Output), state.(string)
	switch {
	case in.CAS:
		return stepCAS(in, out, st)
	case !in.Write:
		return out.Value == st, st
	}
	return out.Unknown || out.Value == st, in.Value
}

// stepCAS applies a compare-and-set to st:
//   - swapped: st must be Expect, and becomes Value;
//   - its GET read something other than Expect (no EXEC sent): a read,
//     st must be what it read;
//   - its EXEC answered nil: st must not be Expect (see Output);
//   - unknown: it swaps if st is Expect and does nothing otherwise, as a
//     CAS applied then would; one never applied is placed last, like an
//     unknown write.
func stepCAS(in Input, out Output, st string) (bool, any) {
	switch {
	case out.Unknown:
		if st == in.Expect {
			return true, in.Value
		}
		return true, st
	case out.Swapped:
		return st == in.Expect, in.Value
	case out.Value != in.Expect:
		return out.Value == st, st
	}
	return st != in.Expect, st
}

func describe(input, output any) string {
	in, out := input.(Input), output.(Output)
	switch {
	case in.CAS:
		return describeCAS(in, out)
	case !in.Write:
		return fmt.Sprintf("get(%s) -> %q", in.Key, out.Value)
	case out.Unknown:
		return fmt.Sprintf("getset(%s, %q) -> ?", in.Key, in.Value)
	}
	return fmt.Sprintf("getset(%s, %q) -> %q", in.Key, in.Value, out.Value)
}

func describeCAS(in Input, out Output) string {
	call := fmt.Sprintf("cas(%s, %q -> %q)", in.Key, in.Expect, in.Value)
	switch {
	case out.Unknown:
		return call + " -> ?"
	case out.Swapped:
		return call + " -> swapped"
	case out.Value != in.Expect:
		return fmt.Sprintf("%s -> read %q", call, out.Value)
	}
	return call + " -> changed (EXEC nil)"
}
