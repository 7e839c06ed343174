package regmodel_test

import (
	"math"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/kvorum/kvorum/internal/regmodel"
)

func op(client int, in regmodel.Input, out regmodel.Output, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
}

func write(k, v string) regmodel.Input { return regmodel.Input{Key: k, Write: true, Value: v} }
func read(k string) regmodel.Input     { return regmodel.Input{Key: k} }
func saw(v string) regmodel.Output     { return regmodel.Output{Value: v} }

// A read that returns the old value after a write to the same key has
// completed is not linearizable; a write to another key does not excuse it.
func TestModel_StaleReadIllegal(t *testing.T) {
	history := []porcupine.Operation{
		op(0, write("k", "a"), saw(""), 0, 10), // a missing key reads as ""
		op(1, write("k", "b"), saw("a"), 20, 30),
		op(2, write("other", "a"), saw(""), 20, 30),
		op(2, read("k"), saw("a"), 40, 50), // stale: "b" was written at 30
	}
	if got := porcupine.CheckOperations(regmodel.Model(), history); got {
		t.Fatal("a stale read was accepted")
	}
	history[3].Output = saw("b")
	if got := porcupine.CheckOperations(regmodel.Model(), history); !got {
		t.Fatal("the same history with a fresh read was rejected")
	}
}

// A write of unknown outcome may have taken effect or not: a later read
// may see its value or the one before it, but not a value never written.
func TestModel_UnknownWriteEitherWay(t *testing.T) {
	for _, tc := range []struct {
		read string
		ok   bool
	}{
		{"a", true},  // the unknown write never took effect
		{"b", true},  // it did
		{"c", false}, // nobody wrote "c"
	} {
		history := []porcupine.Operation{
			op(0, write("k", "a"), saw(""), 0, 10),
			op(1, write("k", "b"), regmodel.Output{Unknown: true}, 20, math.MaxInt64),
			op(2, read("k"), saw(tc.read), 40, 50),
		}
		if got := porcupine.CheckOperations(regmodel.Model(), history); got != tc.ok {
			t.Errorf("read %q after an unknown write of \"b\": linearizable %v, want %v", tc.read, got, tc.ok)
		}
	}
}
