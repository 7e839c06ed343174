package regmodel

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// Input is one operation on the register Key: a read, or (Write) a
// SET Key Value GET that also returns the value it replaced.
type Input struct {
	Key   string
	Write bool
	Value string // the value written; unused by a read
}

// Output is what an operation observed: the register's value (a read) or
// the value a write replaced. Unknown marks a write whose outcome the
// client could not learn; its Value is ignored.
type Output struct {
	Value   string
	Unknown bool
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
// which its infinite Return allows.)
func step(state, input, output any) (bool, any) {
	in, out, st := input.(Input), output.(Output), state.(string)
	if !in.Write {
		return out.Value == st, st
	}
	return out.Unknown || out.Value == st, in.Value
}

func describe(input, output any) string {
	in, out := input.(Input), output.(Output)
	switch {
	case !in.Write:
		return fmt.Sprintf("get(%s) -> %q", in.Key, out.Value)
	case out.Unknown:
		return fmt.Sprintf("getset(%s, %q) -> ?", in.Key, in.Value)
	}
	return fmt.Sprintf("getset(%s, %q) -> %q", in.Key, in.Value, out.Value)
}
