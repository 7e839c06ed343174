package regmodel_test

import (
	"math"
	"slices"
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

func cas(k, expect, v string) regmodel.Input {
	return regmodel.Input{Key: k, CAS: true, Expect: expect, Value: v}
}

var (
	swapped = regmodel.Output{Swapped: true}
	unknown = regmodel.Output{Unknown: true}
)

// changed is a CAS whose GET read expect and whose EXEC answered nil.
func changed(expect string) regmodel.Output { return regmodel.Output{Value: expect} }

// A history with every outcome of a CAS, each legal: a swap, a CAS that
// read another value, one whose EXEC found the key changed by a concurrent
// write, and one of unknown outcome that a later read may see or not.
func TestModel_CASLegal(t *testing.T) {
	for _, last := range []string{"e", "f"} { // the unknown CAS not applied, or applied
		history := []porcupine.Operation{
			op(0, write("k", "a"), saw(""), 0, 10),
			op(1, cas("k", "a", "b"), swapped, 20, 30),
			op(2, read("k"), saw("b"), 40, 50),
			op(0, cas("k", "a", "c"), saw("b"), 60, 70), // read "b": no EXEC sent
			op(1, cas("k", "b", "d"), changed("b"), 80, 100),
			op(2, write("k", "e"), saw("b"), 85, 95), // what changed it
			op(0, cas("k", "e", "f"), unknown, 110, math.MaxInt64),
			op(1, read("k"), saw(last), 120, 130),
			op(2, cas("", "", "x"), swapped, 0, 5), // a key never written holds ""
		}
		if !porcupine.CheckOperations(regmodel.Model(), history) {
			t.Errorf("last read %q: a legal history was rejected", last)
		}
	}
}

// Each history breaks compare-and-set in one way, after the same start.
func TestModel_CASIllegal(t *testing.T) {
	start := []porcupine.Operation{
		op(0, write("k", "a"), saw(""), 0, 10),
		op(1, write("k", "x"), saw("a"), 20, 30),
	}
	for name, tail := range map[string][]porcupine.Operation{
		"swapped a value no longer there": {op(2, cas("k", "a", "b"), swapped, 40, 50)},
		"a swap lost": {
			op(2, cas("k", "x", "b"), swapped, 40, 50),
			op(0, read("k"), saw("x"), 60, 70),
		},
		"two swaps from one value": {
			op(2, cas("k", "x", "b"), swapped, 40, 50),
			op(0, cas("k", "x", "c"), swapped, 40, 50),
		},
		"EXEC nil though nothing changed": {op(2, cas("k", "x", "b"), changed("x"), 40, 50)},
		"a stale compare":                 {op(2, cas("k", "b", "c"), saw("a"), 40, 50)},
		"an unknown CAS that could not swap, seen swapped": {
			op(2, cas("k", "a", "b"), unknown, 40, math.MaxInt64),
			op(0, read("k"), saw("b"), 60, 70),
		},
	} {
		history := append(slices.Clone(start), tail...)
		if porcupine.CheckOperations(regmodel.Model(), history) {
			t.Errorf("%s: accepted", name)
		}
	}
}
