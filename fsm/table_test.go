package fsm_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/kvorum/kvorum/fsm"
	"github.com/kvorum/kvorum/resp"
)

func TestFSM_WrongArity(t *testing.T) {
	var steps []step
	for _, c := range []struct {
		name string
		args []any
	}{
		{"get", req("GET")},
		{"get", req("gEt", "a", "b")},
		{"set", req("SET", "k")},
		{"mget", req("MGET")},
		{"mset", req("MSET")},
		{"mset", req("MSET", "k")},
		{"mset", req("MSET", "k", "v", "k2")},
		{"delete", req("DELETE")},
		{"delete", req("DELETE", "a", "b")},
		{"flush", req("FLUSH", "x")},
		{"dbsize", req("DBSIZE", "x")},
		{"keys", req("KEYS")},
		{"keys", req("KEYS", "a", "b")},
		{"exists", req("EXISTS")},
		{"del", req("DEL")},
		{"unlink", req("UNLINK")},
		{"type", req("TYPE")},
		{"ttl", req("TTL")},
		{"pttl", req("PTTL", "a", "b")},
		{"expire", req("EXPIRE", "k")},
		{"pexpireat", req("PEXPIREAT", "k")},
		{"persist", req("PERSIST")},
		{"rename", req("RENAME", "a")},
		{"strlen", req("STRLEN")},
		{"setnx", req("SETNX", "k")},
		{"getset", req("GETSET", "k")},
		{"getdel", req("GETDEL")},
		{"incr", req("INCR")},
		{"decr", req("DECR", "a", "b")},
		{"incrby", req("INCRBY", "k")},
		{"decrby", req("DECRBY", "k", 1, 2)},
		{"append", req("APPEND", "k")},
	} {
		steps = append(steps, step{args: c.args, want: arity(c.name)})
	}
	runModes(t, steps, resp.Native, resp.RESP2)
}

func TestFSM_UnknownCommand(t *testing.T) {
	n := newNode(t, resp.RESP2)
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		args   []any
		prefix string
	}{
		{req("foo"), "ERR unknown command 'foo'"},
		{req("FOO", "bar"), "ERR unknown command 'FOO'"},
		{req("getx", "k"), "ERR unknown command 'getx'"},
		{req(""), "ERR unknown command ''"},
		{req(long), "ERR unknown command '" + long[:128]},
		{req(arr("GET"), "k"), "ERR unknown command ''"},
		{req("ſet", "k", "v"), "ERR unknown command 'ſet'"}, // no Unicode case folding
	} {
		got := n.apply(c.args...)
		if got.Code() != "ERR" || !strings.HasPrefix(got.Text(), c.prefix) || got.Len() > 400 {
			t.Errorf("%v: got %v, want an error starting %q", vals(c.args), got, c.prefix)
		}
	}
	if got := n.do("DBSIZE"); !resp.Equal(got, num(0)) {
		t.Errorf("after unknown commands DBSIZE = %v, want 0", got)
	}
}

// TestTable_Rows checks every row's shape and that the commands the FSM
// must serve are there, routed as reads or writes.
func TestTable_Rows(t *testing.T) {
	table := fsm.New(fsm.Config{}).Table()
	for _, cmd := range table.All() {
		isRead, isWrite := cmd.Flags&fsm.Read != 0, cmd.Flags&fsm.Write != 0
		switch {
		case cmd.Name != strings.ToUpper(cmd.Name) || cmd.Name == "":
			t.Errorf("%q: names are upper case", cmd.Name)
		case cmd.Arity == 0 || cmd.Run == nil:
			t.Errorf("%s: arity %d, run %v", cmd.Name, cmd.Arity, cmd.Run != nil)
		case isRead == isWrite:
			t.Errorf("%s: flags %b, want exactly one of Read and Write", cmd.Name, cmd.Flags)
		case cmd.IsWrite() != isWrite:
			t.Errorf("%s: IsWrite() = %v", cmd.Name, cmd.IsWrite())
		case table.Lookup([]byte(cmd.Name)) != cmd:
			t.Errorf("%s: Lookup does not find its own row", cmd.Name)
		}
	}
	for _, name := range strings.Fields("GET MGET EXISTS DBSIZE TYPE KEYS TTL PTTL STRLEN") {
		if cmd := table.Lookup([]byte(name)); cmd == nil || cmd.IsWrite() {
			t.Errorf("%s: want a read command, got %+v", name, cmd)
		}
	}
	for _, name := range strings.Fields("SET MSET DELETE FLUSH DEL UNLINK FLUSHALL FLUSHDB SETNX GETSET GETDEL " +
		"INCR DECR INCRBY DECRBY APPEND EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST RENAME") {
		if cmd := table.Lookup([]byte(name)); cmd == nil || !cmd.IsWrite() {
			t.Errorf("%s: want a write command, got %+v", name, cmd)
		}
	}
}

func TestTable_Lookup(t *testing.T) {
	table := fsm.New(fsm.Config{}).Table()
	set := table.Lookup([]byte("SET"))
	for _, name := range []string{"set", "Set", "sEt"} {
		if got := table.Lookup([]byte(name)); got != set {
			t.Errorf("Lookup(%q) = %v, want SET's row", name, got)
		}
	}
	for _, name := range []string{"", "SE", "SETT", " SET", "SET\x00", strings.Repeat("SET", 10)} {
		if got := table.Lookup([]byte(name)); got != nil {
			t.Errorf("Lookup(%q) = %s, want nil", name, got.Name)
		}
	}
	name := []byte("get")
	if allocs := testing.AllocsPerRun(100, func() { table.Lookup(name) }); allocs != 0 {
		t.Errorf("Lookup allocates %v times, want 0", allocs)
	}
}

func TestCommand_Keys(t *testing.T) {
	table := fsm.New(fsm.Config{}).Table()
	for _, c := range []struct {
		args []any
		want []resp.Value
	}{
		{req("GET", "k"), vals(req("k"))},
		{req("SET", "k", "v", "EX", 5), vals(req("k"))},
		{req("MSET", "a", 1, "b", 2, "c", 3), vals(req("a", "b", "c"))},
		{req("MGET", "a", "b"), vals(req("a", "b"))},
		{req("DEL", "a", "b", "c"), vals(req("a", "b", "c"))},
		{req("RENAME", "a", "b"), vals(req("a", "b"))},
		{req("DBSIZE"), nil},
		{req("KEYS", "*"), nil},
		{req("FLUSH"), nil},
	} {
		a := vals(c.args)
		got := table.Lookup([]byte(a[0].Text())).Keys(a)
		if len(got) != len(c.want) {
			t.Errorf("Keys(%v) = %v, want %v", a, got, c.want)
			continue
		}
		for i := range got {
			if !resp.Equal(got[i], c.want[i]) {
				t.Errorf("Keys(%v) = %v, want %v", a, got, c.want)
				break
			}
		}
	}
}

func TestNumKeys(t *testing.T) {
	for _, c := range []struct {
		at   int
		lead []int
		args []any
		want []resp.Value
	}{
		{1, nil, req("ZUNION", 2, "a", "b", "WITHSCORES"), vals(req("a", "b"))},
		{2, []int{1}, req("ZUNIONSTORE", "d", 2, "a", "b"), vals(req("d", "a", "b"))},
		{2, nil, req("BLMPOP", 0, 2, "a", "b", "LEFT"), vals(req("a", "b"))},
		{1, nil, req("ZUNION", 3, "a", "b"), nil},                 // runs past the arguments
		{1, nil, req("ZUNION", -1, "a"), nil},                     // not positive
		{1, nil, req("ZUNION", "x", "a"), nil},                    // not a number
		{2, []int{1}, req("ZUNIONSTORE", "d", 0), vals(req("d"))}, // only the lead
		{5, nil, req("ZUNION", 1, "a"), nil},                      // no count at all
	} {
		got := fsm.NumKeys(c.at, c.lead...)(vals(c.args))
		if len(got) != len(c.want) {
			t.Errorf("NumKeys(%d, %v)(%v) = %v, want %v", c.at, c.lead, c.args, got, c.want)
			continue
		}
		for i := range got {
			if !resp.Equal(got[i], c.want[i]) {
				t.Errorf("NumKeys(%d, %v)(%v) = %v, want %v", c.at, c.lead, c.args, got, c.want)
				break
			}
		}
	}
	// The timeout of a blocking row may sit anywhere.
	cmd := fsm.Command{TimeoutAt: 1}
	if ms, errv, ok := cmd.BlockArgs(vals(req("BLMPOP", "1.5", 1, "a", "LEFT"))); !ok || ms != 1500 {
		t.Errorf("BlockArgs with TimeoutAt 1 = %d, %v, %v; want 1500 ms", ms, errv, ok)
	}
	if _, _, ok := cmd.BlockArgs(vals(req("BLMPOP", "-1", 1, "a", "LEFT"))); ok {
		t.Error("BlockArgs took a negative timeout at position 1")
	}
}

// TestFSM_OddArguments sends every command every kind of argument in every
// position, against every kind of stored value, in every mode: the FSM
// answers (errors are fine) and never panics.
func TestFSM_OddArguments(t *testing.T) {
	odd := []resp.Value{
		resp.Null(), resp.NullBulk(), resp.NullArray(), resp.Array(), arr("k", 1), dict("k", arr()),
		resp.Int(-1), resp.Int(maxInt), resp.Double(1.5), resp.Bool(true), resp.Err("ERR x"),
		resp.Simple("NX"), bulk(""), bulk("k"), bulk("EX"), bulk("*"),
	}
	stored := []resp.Value{bulk("5"), resp.Int(5), arr(1), dict("f", 1), resp.NullBulk(), resp.Null(), resp.Double(2)}
	table := fsm.New(fsm.Config{}).Table()
	for _, mode := range []resp.Mode{resp.Native, resp.RESP2} { // RESP3 shapes replies as RESP2 does here
		n := newNode(t, mode)
		for _, cmd := range table.All() {
			for argc := 1; argc <= 5; argc++ {
				for pos := 1; pos < argc; pos++ {
					for _, o := range odd {
						for _, s := range stored {
							n.apply("SET", "k", s, "PX", 1_000_000)
							args := []any{cmd.Name}
							for i := 1; i < argc; i++ {
								args = append(args, map[bool]any{true: o, false: "k"}[i == pos])
							}
							n.do(args...) // must not panic; any reply will do
						}
					}
				}
			}
		}
	}
}

func TestFSM_UndecodableEntries(t *testing.T) {
	good := entry(resp.RESP2, t0, vals(req("SET", "k", "v")))
	body := good[11:]
	header := good[:11]
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", good[:10]},
		{"header only", header},
		{"version 0", append([]byte{0}, good[1:]...)},
		{"version 2", append([]byte{2}, good[1:]...)},
		{"kind 0", append([]byte{1, 0}, good[2:]...)},
		{"unknown kind 9", append([]byte{1, 9}, good[2:]...)},
		{"truncated body", good[:len(good)-1]},
		{"simple string body", append(bytes.Clone(header), "+SET k v\r\n"...)},
		{"integer body", append(bytes.Clone(header), ":1\r\n"...)},
		{"empty array", append(bytes.Clone(header), "*0\r\n"...)},
		{"null array", append(bytes.Clone(header), "*-1\r\n"...)},
		{"garbage", append(bytes.Clone(header), "hello\r\n"...)},
		{"bad length", append(bytes.Clone(header), "*1\r\n$5\r\nab\r\n"...)},
	} {
		n := newNode(t, resp.RESP2)
		got := n.applyData(c.data)
		if !resp.Equal(got, resp.Err("ERR undecodable log entry")) {
			t.Errorf("%s: Apply = %v, want ERR undecodable log entry", c.name, got)
		}
		if got := n.applyData(good); !resp.Equal(got, plusOK) {
			t.Errorf("%s: the next good entry got %v", c.name, got)
		}
	}
	// The body is one request: bytes after it are ignored.
	n := newNode(t, resp.RESP2)
	if got := n.applyData(append(append(bytes.Clone(header), body...), "*1\r\n$5\r\nFLUSH\r\n"...)); !resp.Equal(got, plusOK) {
		t.Errorf("entry with trailing bytes: %v", got)
	}
}

func TestAppendEntry_Layout(t *testing.T) {
	args := vals(req("SET", "k", arr(1, dict("a", "b"))))
	data := fsm.AppendEntry([]byte("prefix"), fsm.EntryHeader{Kind: fsm.EntryCommand, Mode: resp.RESP3, Now: -2}, args)
	want := append([]byte("prefix\x01\x01\x02"), binary.BigEndian.AppendUint64(nil, uint64(1<<64-2))...)
	want = resp.AppendValue(want, resp.Array(args...))
	if !bytes.Equal(data, want) {
		t.Errorf("AppendEntry:\n got %q\nwant %q", data, want)
	}
}

// TestFSM_NonCommandLogs: raft's own entries answer nil and still count as
// applied; a batch's replies line up with its entries.
func TestFSM_NonCommandLogs(t *testing.T) {
	f := fsm.New(fsm.Config{})
	set := entry(resp.RESP2, t0, vals(req("SET", "k", "v")))
	get := entry(resp.RESP2, t0, vals(req("GET", "k")))
	logs := []*raft.Log{
		{Index: 1, Type: raft.LogConfiguration},
		{Index: 2, Type: raft.LogNoop},
		{Index: 3, Type: raft.LogCommand, Data: set},
		{Index: 4, Type: raft.LogBarrier},
		{Index: 5, Type: raft.LogCommand, Data: get},
	}
	out := f.ApplyBatch(logs)
	want := []any{nil, nil, plusOK, nil, bulk("v")}
	if len(out) != len(want) {
		t.Fatalf("ApplyBatch returned %d replies for %d entries", len(out), len(logs))
	}
	for i := range out {
		if w, isValue := want[i].(resp.Value); isValue {
			if got, ok := out[i].(resp.Value); !ok || !resp.Equal(got, w) {
				t.Errorf("reply %d = %v, want %v", i, out[i], w)
			}
		} else if out[i] != nil {
			t.Errorf("reply %d = %v, want nil", i, out[i])
		}
	}
	if f.Applied() != 5 {
		t.Errorf("Applied() = %d, want 5", f.Applied())
	}
	if got := f.Apply(&raft.Log{Index: 6, Type: raft.LogNoop}); got != nil || f.Applied() != 6 {
		t.Errorf("Apply(noop) = %v, Applied() = %d; want nil, 6", got, f.Applied())
	}
	if got := f.ApplyBatch(nil); len(got) != 0 || f.Applied() != 6 {
		t.Errorf("ApplyBatch(nil) = %v, Applied() = %d", got, f.Applied())
	}
}

// TestFSM_ReadRefusesWrites: Read never runs a write (which would change the
// state under the read lock) and answers arity errors itself.
func TestFSM_ReadRefusesWrites(t *testing.T) {
	n := newNode(t, resp.RESP2)
	table := n.f.Table()
	for _, name := range []string{"SET", "DEL", "FLUSH", "INCR"} {
		got := n.f.Read(table.Lookup([]byte(name)), vals(req(name, "k", "v")), t0, resp.RESP2)
		if got.Code() != "ERR" {
			t.Errorf("Read(%s) = %v, want an error", name, got)
		}
	}
	if got := n.f.Read(table.Lookup([]byte("GET")), vals(req("GET")), t0, resp.RESP2); !resp.Equal(got, arity("get")) {
		t.Errorf("Read(GET) with no key = %v", got)
	}
	if n.f.Keys() != 0 {
		t.Errorf("Read changed the state: %d keys", n.f.Keys())
	}
}

// A batch entry applies each command with its own mode and answers one
// reply per command, in order; a malformed item fails alone.
func TestFSM_BatchEntry(t *testing.T) {
	f := fsm.New(fsm.Config{})
	var body []byte
	body = fsm.AppendBatchItem(body, resp.Native, []resp.Value{resp.BulkString("SET"), resp.BulkString("a"), resp.Int(1)})
	body = fsm.AppendBatchItem(body, resp.RESP2, []resp.Value{resp.BulkString("SET"), resp.BulkString("b"), resp.BulkString("2")})
	body = append(body, resp.AppendValue(nil, resp.Array(resp.Int(0)))...) // malformed item
	body = fsm.AppendBatchItem(body, resp.RESP2, []resp.Value{resp.BulkString("INCR"), resp.BulkString("a")})
	data := fsm.AppendBatchEntry(nil, 1000, 4, body)
	got, ok := f.Apply(&raft.Log{Type: raft.LogCommand, Index: 1, Data: data}).([]resp.Value)
	if !ok || len(got) != 4 {
		t.Fatalf("batch reply = %#v", got)
	}
	want := []resp.Value{resp.Int(1), resp.OK(), resp.Err("ERR undecodable command in batch entry"), resp.Int(2)}
	for i := range want {
		if !resp.Equal(got[i], want[i]) {
			t.Errorf("reply %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// An EntryBatch written by an earlier version (an array of [mode, request]
// pairs, KVORUM.SEQ requests as they came) is still applied as it was.
func TestFSM_OldBatchEntry(t *testing.T) {
	n := newNode(t, resp.RESP2)
	id := n.apply("KVORUM.SESSION", "OPEN").Int()
	pair := func(mode resp.Mode, args ...any) resp.Value {
		return resp.Array(resp.Int(int64(mode)), resp.Array(vals(args)...))
	}
	data := append([]byte{1, byte(fsm.EntryBatch), 0}, binary.BigEndian.AppendUint64(nil, uint64(t0))...)
	data = resp.AppendValue(data, resp.Array(
		pair(resp.Native, "SET", "a", 1),
		pair(resp.RESP2, "KVORUM.SEQ", id, 1, 1, "INCR", "a"),
		resp.Array(resp.Int(0)),
		pair(resp.RESP2, "KVORUM.SEQ", id, 1, 1, "INCR", "a"),
	))
	// AppendPairsEntry writes exactly that form (a leader writes it while
	// an older node is in its configuration).
	var body []byte
	body = fsm.AppendPairsItem(body, resp.Native, vals([]any{"SET", "a", 1}))
	body = fsm.AppendPairsItem(body, resp.RESP2, vals([]any{"KVORUM.SEQ", id, 1, 1, "INCR", "a"}))
	body = resp.AppendValue(body, resp.Array(resp.Int(0)))
	body = fsm.AppendPairsItem(body, resp.RESP2, vals([]any{"KVORUM.SEQ", id, 1, 1, "INCR", "a"}))
	if legacy := fsm.AppendPairsEntry(nil, t0, 4, body); !bytes.Equal(legacy, data) {
		t.Fatalf("AppendPairsEntry = %q, want the earlier versions' %q", legacy, data)
	}
	n.index++
	got, _ := n.f.Apply(&raft.Log{Type: raft.LogCommand, Index: n.index, Data: data}).([]resp.Value)
	want := []resp.Value{resp.Int(1), resp.Int(2), resp.Err("ERR undecodable command in batch entry"), resp.Int(2)}
	if len(got) != len(want) {
		t.Fatalf("old batch entry answered %v", got)
	}
	for i := range want {
		if !resp.Equal(got[i], want[i]) {
			t.Errorf("reply %d = %v, want %v", i, got[i], want[i])
		}
	}
}
