package cluster

import (
	"errors"
	"testing"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/resp"
)

// Member metadata round-trips, TLS address included; a member without one
// sends exactly the five elements older versions decode; this version
// decodes an older node's five and ignores elements added after the
// sixth; malformed metadata is refused.
func TestMeta_RoundTripAndCompatibility(t *testing.T) {
	full := Member{ID: "n1", RaftAddr: "10.0.0.1:31338", ClientAddr: "10.0.0.1:31337", TLSAddr: "10.0.0.1:31336",
		HasState: true, Items: true}
	for _, m := range []Member{full, {ID: "n1", RaftAddr: "10.0.0.1:31338", ClientAddr: "10.0.0.1:31337", Leaving: true}} {
		got, err := decodeMeta("n1", encodeMeta(m))
		if err != nil || got != m {
			t.Fatalf("decodeMeta(encodeMeta(%+v)) = %+v, %v", m, got, err)
		}
	}

	// Without a TLS address the encoding is the older one, element for
	// element, so nodes from before the field still read it.
	plain := full
	plain.TLSAddr = ""
	v, err := resp.NewReader(bytesReader(encodeMeta(plain)), resp.Limits{}).ReadValue()
	if err != nil || len(v.Elems()) != 5 {
		t.Fatalf("metadata without a TLS address = %v, %v; want the five elements older versions decode", v, err)
	}
	if v, _ := resp.NewReader(bytesReader(encodeMeta(full)), resp.Limits{}).ReadValue(); len(v.Elems()) != 6 ||
		v.Elems()[5].Text() != full.TLSAddr {
		t.Fatalf("metadata with a TLS address = %v; want it as the sixth element", v)
	}

	// An older node's metadata, as it writes it.
	old := resp.AppendValue(nil, resp.Array(resp.Int(1), resp.BulkString("n2"), resp.BulkString("10.0.0.2:31338"),
		resp.BulkString("10.0.0.2:31337"), resp.Int(metaHasState|metaItems)))
	want := Member{ID: "n2", RaftAddr: "10.0.0.2:31338", ClientAddr: "10.0.0.2:31337", HasState: true, Items: true}
	if got, err := decodeMeta("n2", old); err != nil || got != want {
		t.Fatalf("an older node's metadata decodes as %+v, %v; want %+v", got, err, want)
	}
	// A later version's, with a field this one does not know.
	later := resp.AppendValue(nil, resp.Array(resp.Int(1), resp.BulkString("n2"), resp.BulkString("10.0.0.2:31338"),
		resp.BulkString("10.0.0.2:31337"), resp.Int(0), resp.BulkString("10.0.0.2:31336"), resp.BulkString("later")))
	if got, err := decodeMeta("n2", later); err != nil || got.TLSAddr != "10.0.0.2:31336" {
		t.Fatalf("a later version's metadata decodes as %+v, %v; want its TLS address and the rest ignored", got, err)
	}

	for name, b := range map[string][]byte{
		"four elements": resp.AppendValue(nil, resp.Array(resp.Int(1), resp.BulkString("n3"), resp.BulkString("r:1"),
			resp.BulkString("c:1"))),
		"version 2": resp.AppendValue(nil, resp.Array(resp.Int(2), resp.BulkString("n3"), resp.BulkString("r:1"),
			resp.BulkString("c:1"), resp.Int(0))),
		"another id":   encodeMeta(Member{ID: "n4", RaftAddr: "r:1", ClientAddr: "c:1"}),
		"no client":    encodeMeta(Member{ID: "n3", RaftAddr: "r:1", TLSAddr: "t:1"}),
		"not an array": resp.AppendValue(nil, resp.BulkString("n3")),
		"truncated":    encodeMeta(full)[:10],
	} {
		if m, err := decodeMeta("n3", b); !errors.Is(err, errBadMeta) {
			t.Errorf("%s: decodeMeta = %+v, %v; want errBadMeta", name, m, err)
		}
	}
}

// A follower proxy dials the leader's client address in clear text, and
// under mutual TLS the TLS address the leader advertises; a leader that
// advertises none is refused with door.ErrNoUpstream, never dialed in
// clear text.
func TestRegistry_Upstream(t *testing.T) {
	r := newRegistry()
	r.upsert(Member{ID: "new", RaftAddr: "h1:31338", ClientAddr: "h1:31337", TLSAddr: "h1:31336", Status: StatusAlive})
	r.upsert(Member{ID: "old", RaftAddr: "h2:31338", ClientAddr: "h2:31337", Status: StatusAlive})
	for _, tc := range []struct {
		leader    string
		mutualTLS bool
		want      string
		noRoute   bool
	}{
		{"h1:31337", false, "h1:31337", false},
		{"h2:31337", false, "h2:31337", false},
		{"h1:31337", true, "h1:31336", false},
		{"h2:31337", true, "", true},
		{"h3:31337", true, "", false}, // no such member (yet): an error, but not a lasting one
	} {
		got, err := r.upstream(tc.leader, tc.mutualTLS)
		if got != tc.want || (err != nil) != (tc.want == "") || errors.Is(err, door.ErrNoUpstream) != tc.noRoute {
			t.Errorf("upstream(%s, mutual TLS %v) = %q, %v; want %q (ErrNoUpstream: %v)", tc.leader, tc.mutualTLS, got, err, tc.want, tc.noRoute)
		}
	}
}
