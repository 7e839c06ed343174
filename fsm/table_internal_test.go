package fsm

import (
	"strings"
	"testing"
)

// A command registered twice fails when the table is built, not later at
// routing time: the second row would otherwise silently replace the first.
func TestTable_DuplicateNamePanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "GET registered twice") {
			t.Fatalf("recover() = %v, want a panic naming GET", r)
		}
	}()
	t2 := &Table{byName: make(map[string]*Command)}
	t2.add(stringCommands(), []Command{{Name: "GET", Arity: 2, Flags: Read}})
}
