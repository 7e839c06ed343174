package client_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/resp"
)

// TestClient_TutorialSession runs the tutorial's session through the typed
// helpers and checks the nested values come back as Go values.
func TestClient_TutorialSession(t *testing.T) {
	leader := startNode(t, clienttest.NewStore())
	c := newClient(t, client.Options{}, leader.Addr)
	ctx := testCtx(t)

	if err := c.MSet(ctx, map[string]any{"k1": "v1", "k2": []any{"v2-0", 1, "v2-2"}, "k3": "v3"}); err != nil {
		t.Fatalf("MSet: %v", err)
	}
	mustGet(t, c, "k2", []any{"v2-0", int64(1), "v2-2"})
	got, err := c.MGet(ctx, "k3", "k1")
	if err != nil || !reflect.DeepEqual(got, []any{"v3", "v1"}) {
		t.Fatalf("MGet(k3, k1) = %#v, %v; want [v3 v1]", got, err)
	}
	if ok, err := c.Delete(ctx, "k1"); !ok || err != nil {
		t.Fatalf("Delete(k1) = %v, %v; want true", ok, err)
	}
	mustGet(t, c, "k1", nil)
	if ok, err := c.Delete(ctx, "k1"); ok || err != nil {
		t.Fatalf("second Delete(k1) = %v, %v; want false", ok, err)
	}
	kx := map[string]any{"vx": map[string]any{"vy": 0, "vz": []any{1, 2, 3}}}
	if err := c.Set(ctx, "kx", kx); err != nil {
		t.Fatalf("Set(kx): %v", err)
	}
	mustGet(t, c, "kx", map[string]any{"vx": map[string]any{"vy": int64(0), "vz": []any{int64(1), int64(2), int64(3)}}})
	if n, err := c.Flush(ctx); n != 3 || err != nil {
		t.Fatalf("Flush = %d, %v; want 3 (k2, k3, kx)", n, err)
	}
}

func mustGet(t *testing.T, c *client.Client, key string, want any) {
	t.Helper()
	got, err := c.Get(testCtx(t), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get(%s) = %#v; want %#v", key, got, want)
	}
}

// TestClient_FollowsRedirect gives the client only a follower's address:
// it follows -MOVED to the leader, then keeps talking to the leader.
func TestClient_FollowsRedirect(t *testing.T) {
	store := clienttest.NewStore()
	leader := startNode(t, store)
	follower := &counting{next: clienttest.Follower(leader.Addr)}
	fnode := startNode(t, follower)
	var redirects [][2]string
	c := newClient(t, client.Options{OnRedirect: func(from, to string) {
		redirects = append(redirects, [2]string{from, to})
	}}, fnode.Addr)
	ctx := testCtx(t)

	if err := c.Set(ctx, "a", "1"); err != nil {
		t.Fatalf("Set via follower: %v", err)
	}
	if v, ok := store.Value("a"); !ok || v.Text() != "1" {
		t.Fatalf("leader holds a = %v, %v; want 1", v, ok)
	}
	if c.Leader() != leader.Addr {
		t.Fatalf("Leader() = %q; want %q", c.Leader(), leader.Addr)
	}
	mustGet(t, c, "a", "1")
	// The first request, the session's open, was redirected; the SET and
	// the GET went to the leader the client remembered.
	if n, opens := follower.count(), follower.sessionCount(); n != 0 || opens != 1 {
		t.Fatalf("follower saw %d requests and %d session opens; want 0 and 1 (the leader is remembered)", n, opens)
	}
	if want := [][2]string{{fnode.Addr, leader.Addr}}; !reflect.DeepEqual(redirects, want) {
		t.Fatalf("OnRedirect calls = %v; want %v", redirects, want)
	}
}

// TestClient_ErrorReply: an error reply is a *resp.ReplyError, never retried.
func TestClient_ErrorReply(t *testing.T) {
	h := &counting{next: clienttest.NewStore()}
	c := newClient(t, client.Options{}, startNode(t, h).Addr)
	v, err := c.Do(testCtx(t), "NOSUCH", "x")
	var re *resp.ReplyError
	if !errors.As(err, &re) || re.Msg != "ERR unknown command 'NOSUCH'" {
		t.Fatalf("Do(NOSUCH) error = %#v; want *resp.ReplyError ERR unknown command", err)
	}
	if !v.IsError() {
		t.Fatalf("Do(NOSUCH) value = %v; want the error value", v)
	}
	if h.count() != 1 {
		t.Fatalf("server saw %d requests; want 1", h.count())
	}
}

// TestClient_Protocol: HELLO 2 / HELLO 3 on connect shape the replies.
func TestClient_Protocol(t *testing.T) {
	node := startNode(t, clienttest.NewStore())
	ctx := testCtx(t)
	for _, tc := range []struct {
		mode     resp.Mode
		setReply string
	}{
		{resp.Native, "1"},
		{resp.RESP2, "OK"},
		{resp.RESP3, "OK"},
	} {
		c := newClient(t, client.Options{Protocol: tc.mode}, node.Addr)
		v, err := c.Do(ctx, "SET", "d", map[string]any{"f": "v"})
		if err != nil || v.Text() != tc.setReply {
			t.Fatalf("%v: SET = %v, %v; want %s", tc.mode, v, err, tc.setReply)
		}
		v, err = c.Do(ctx, "GET", "d")
		wantKind := resp.KindDict
		if tc.mode == resp.RESP2 {
			wantKind = resp.KindArray // RESP2 sends a dict as a flat array
		}
		if err != nil || v.Kind() != wantKind || v.Len() == 0 {
			t.Fatalf("%v: GET = %v, %v; want a %v", tc.mode, v, err, wantKind)
		}
	}
}

func TestOptions_Validate(t *testing.T) {
	for _, o := range []client.Options{
		{},
		{Addrs: []string{""}},
		{Addrs: []string{"127.0.0.1:1"}, Protocol: resp.Mode(9)},
	} {
		if _, err := client.New(o); err == nil {
			t.Errorf("New(%+v) succeeded; want an error", o)
		}
	}
}
