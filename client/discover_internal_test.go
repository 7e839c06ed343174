package client

import (
	"slices"
	"testing"

	"github.com/kvorum/kvorum/resp"
)

func TestChooseLeader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []answer
		want    string
	}{
		{"none", nil, ""},
		{"only the failed one named", []answer{{leader: "dead", term: 5}}, ""},
		{"higher term beats majority", []answer{
			{leader: "b", term: 2}, {leader: "b", term: 2, self: true}, {leader: "c", term: 3},
		}, "c"},
		{"same term: a claim to lead beats a report", []answer{
			{leader: "b", term: 4}, {leader: "b", term: 4}, {leader: "c", term: 4, self: true},
		}, "c"},
		{"same term, no claim: majority", []answer{
			{leader: "b", term: 4}, {leader: "c", term: 4}, {leader: "c", term: 4},
		}, "c"},
		{"no terms: majority", []answer{{leader: "c"}, {leader: "b"}, {leader: "c"}}, "c"},
		{"full tie: the smaller address", []answer{{leader: "c"}, {leader: "b"}}, "b"},
		{"failed ignored even at the top term", []answer{{leader: "dead", term: 9}, {leader: "b", term: 1}}, "b"},
	} {
		if got := chooseLeader(tc.answers, "dead"); got != tc.want {
			t.Errorf("%s: chooseLeader = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseRole(t *testing.T) {
	bs := resp.BulkString
	master := resp.Array(bs("master"), resp.Int(7), resp.Array(
		resp.Array(bs("10.0.0.2"), bs("6379"), bs("7")),
		resp.Array(bs("10.0.0.3"), bs("6380"), bs("7"))))
	if l, self, peers := parseRole(master, "10.0.0.1:6379"); l != "10.0.0.1:6379" || !self ||
		!slices.Equal(peers, []string{"10.0.0.2:6379", "10.0.0.3:6380"}) {
		t.Errorf("master: %q %v %v", l, self, peers)
	}
	replica := resp.Array(bs("slave"), bs("10.0.0.9"), resp.Int(7000), bs("connected"), resp.Int(7))
	if l, self, _ := parseRole(replica, "x:1"); l != "10.0.0.9:7000" || self {
		t.Errorf("replica: %q %v", l, self)
	}
	orphan := resp.Array(bs("slave"), bs(""), resp.Int(0), bs("connect"), resp.Int(7))
	if l, _, _ := parseRole(orphan, "x:1"); l != "" {
		t.Errorf("replica without a leader: %q", l)
	}
	if l, _, _ := parseRole(resp.Err("ERR unknown command"), "x:1"); l != "" {
		t.Errorf("error: %q", l)
	}
}

func TestParseShards(t *testing.T) {
	bs := resp.BulkString
	node := func(host string, port int64, role string) []resp.Value {
		return []resp.Value{bs("port"), resp.Int(port), bs("ip"), bs(host), bs("endpoint"), bs(host), bs("role"), bs(role)}
	}
	for _, mode := range []string{"dict", "flat"} {
		mk := resp.Dict
		if mode == "flat" {
			mk = func(v ...resp.Value) resp.Value { return resp.Array(v...) } // RESP2
		}
		v := resp.Array(mk(bs("slots"), resp.Array(resp.Int(0), resp.Int(16383)),
			bs("nodes"), resp.Array(mk(node("h1", 1, "replica")...), mk(node("h2", 2, "master")...))))
		l, nodes := parseShards(v)
		if l != "h2:2" || !slices.Equal(nodes, []string{"h1:1", "h2:2"}) {
			t.Errorf("%s: leader %q nodes %v", mode, l, nodes)
		}
	}
}

func TestParseTerm(t *testing.T) {
	for in, want := range map[string]uint64{
		"# Raft\r\nraft_state:follower\r\nraft_term:42\r\n": 42,
		"# Server\r\nredis_version:7\r\n":                   0,
		"raft_term:x\r\n":                                   0,
	} {
		if got := parseTerm(resp.BulkString(in)); got != want {
			t.Errorf("parseTerm(%q) = %d; want %d", in, got, want)
		}
	}
}
