package fsm_test

import (
	"testing"

	"github.com/kvorum/kvorum/resp"
)

// TestFSM_Tutorial plays the tutorial's example session, with the nested
// list and dict arguments its client sends, and checks every reply as the
// connection would write it: the tutorial's replies in native mode (FLUSH
// answers 3, the keys its own code counts), Redis's in resp2 and resp3,
// where GET of a list or hash is WRONGTYPE (SPEC §2).
func TestFSM_Tutorial(t *testing.T) {
	const (
		wrong  = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
		k2Wire = "*3\r\n$4\r\nv2-0\r\n:1\r\n$4\r\nv2-2\r\n"
		kxWire = "%1\r\n$2\r\nvx\r\n%2\r\n$2\r\nvy\r\n:0\r\n$2\r\nvz\r\n*3\r\n:1\r\n:2\r\n:3\r\n"
	)
	k2 := arr("v2-0", 1, "v2-2")
	kx := dict("vx", dict("vy", 0, "vz", arr(1, 2, 3)))
	session := []struct {
		args                 []any
		native, resp2, resp3 string
	}{
		{req("mset", "k1", "v1", "k2", k2, "k3", "v3"), ":3\r\n", "+OK\r\n", "+OK\r\n"},
		{req("get", "k2"), k2Wire, wrong, wrong},
		{req("mget", "k3", "k1"), "*2\r\n$2\r\nv3\r\n$2\r\nv1\r\n", "*2\r\n$2\r\nv3\r\n$2\r\nv1\r\n", "*2\r\n$2\r\nv3\r\n$2\r\nv1\r\n"},
		{req("delete", "k1"), ":1\r\n", ":1\r\n", ":1\r\n"},
		{req("get", "k1"), "$-1\r\n", "$-1\r\n", "_\r\n"},
		{req("delete", "k1"), ":0\r\n", ":0\r\n", ":0\r\n"},
		{req("set", "kx", kx), ":1\r\n", "+OK\r\n", "+OK\r\n"},
		{req("get", "kx"), kxWire, wrong, wrong},
		{req("mget", "k2", "kx", "k3"), "*3\r\n" + k2Wire + kxWire + "$2\r\nv3\r\n", "*3\r\n$-1\r\n$-1\r\n$2\r\nv3\r\n", "*3\r\n_\r\n_\r\n$2\r\nv3\r\n"},
		{req("flush"), ":3\r\n", ":3\r\n", ":3\r\n"},
		{req("get", "k2"), "$-1\r\n", "$-1\r\n", "_\r\n"},
		{req("flush"), ":0\r\n", ":0\r\n", ":0\r\n"},
	}
	for _, m := range []resp.Mode{resp.Native, resp.RESP2, resp.RESP3} {
		t.Run(m.String(), func(t *testing.T) {
			n := newNode(t, m)
			for i, s := range session {
				want := map[resp.Mode]string{resp.Native: s.native, resp.RESP2: s.resp2, resp.RESP3: s.resp3}[m]
				if got := resp.AppendReply(nil, n.do(s.args...), m); string(got) != want {
					t.Errorf("step %d %v:\n got %q\nwant %q", i, vals(s.args), got, want)
				}
			}
		})
	}
}

// TestFSM_StoredKinds: values are stored as they were sent. Native mode
// answers them so (integers as ':', nested arrays and dicts as they came);
// Redis modes answer a stored integer as the bulk string Redis would hold.
func TestFSM_StoredKinds(t *testing.T) {
	nested := arr(1, arr(2, dict("x", 3, 4, arr())), "", dict())
	binary := "a\r\nb\x00\xff"
	runModes(t, []step{
		{args: req("SET", "n", 10), want: num(1)},
		{args: req("GET", "n"), want: num(10)},
		{args: req("MSET", "a", -7, "b", nested, "c", binary, 42, "int key"), want: num(4)},
		{args: req("MGET", "a", "b", "c", "42", "missing"), want: arr(-7, nested, binary, "int key", nil)},
		{args: req("GET", 42), want: bulk("int key")},
		{args: req("SET", "d", resp.Double(1.5)), want: num(1)},
		{args: req("GET", "d"), want: resp.Double(1.5)},
		{args: req("SET", "s", resp.Simple("simple")), want: num(1)},
		{args: req("GET", "s"), want: resp.Simple("simple")},
		{args: req("INCR", "n"), want: num(11)},
		{args: req("GET", "n"), want: num(11)},
	}, resp.Native)
	runModes(t, []step{
		{args: req("SET", "n", 10), want: plusOK},
		{args: req("GET", "n"), want: bulk("10")},
		{args: req("MSET", "a", -7, "b", nested, "c", binary), want: plusOK},
		{args: req("MGET", "a", "b", "c", "missing"), want: arr("-7", nil, binary, nil)},
		{args: req("GET", "b"), want: wrongType},
		{args: req("SET", "d", resp.Double(1.5)), want: plusOK},
		{args: req("GET", "d"), want: bulk("1.5")},
		{args: req("INCR", "n"), want: num(11)},
		{args: req("GET", "n"), want: bulk("11")},
		{args: req("MSET", "x", "1", "y"), want: arity("mset")},
	}, resp.RESP2, resp.RESP3)
}

// TestFSM_ModeRidesInTheEntry: the reply's shape follows the mode stamped
// into each entry, not the FSM: one state serves connections of every mode.
func TestFSM_ModeRidesInTheEntry(t *testing.T) {
	n := newNode(t, resp.Native)
	for _, c := range []struct {
		mode resp.Mode
		args []any
		want resp.Value
	}{
		{resp.Native, req("SET", "k", 5), num(1)},
		{resp.RESP2, req("SET", "k", 6), plusOK},
		{resp.RESP3, req("MSET", "k", 7, "j", 8), plusOK},
		{resp.Native, req("MSET", "k", 7, "j", 8), num(2)},
		{resp.Native, req("GET", "k"), num(7)},
		{resp.RESP2, req("GET", "k"), bulk("7")},
	} {
		n.mode = c.mode
		if got := n.do(c.args...); !resp.Equal(got, c.want) {
			t.Errorf("%v in %v: got %v, want %v", vals(c.args), c.mode, got, c.want)
		}
	}
}
