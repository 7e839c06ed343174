package client_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/kvorum/kvorum/resp"
)

// wrapped is one KVORUM.SEQ request as a node received it.
type wrapped struct {
	name            string // the wrapped command's name
	id, seq, floor  int64
	plain, sessions bool // a request not wrapped; a KVORUM.SESSION request
}

// recorder records the requests a handler serves, unwrapping KVORUM.SEQ.
type recorder struct {
	next resp.Handler
	mu   sync.Mutex
	reqs []wrapped
}

func (h *recorder) Serve(c *resp.Conn, args []resp.Value) resp.Reply {
	w := wrapped{name: strings.ToUpper(unwrap(args)[0].Text())}
	switch strings.ToUpper(args[0].Text()) {
	case "KVORUM.SEQ":
		for i, p := range []*int64{&w.id, &w.seq, &w.floor} {
			*p, _ = resp.ParseInt([]byte(args[1+i].Text()))
		}
	case "KVORUM.SESSION":
		w.sessions = true
	default:
		w.plain = true
	}
	h.mu.Lock()
	h.reqs = append(h.reqs, w)
	h.mu.Unlock()
	return h.next.Serve(c, args)
}

// named returns the requests of the command name ("" for all), in
// arrival order.
func (h *recorder) named(name string) []wrapped {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []wrapped
	for _, w := range h.reqs {
		if name == "" || w.name == name {
			out = append(out, w)
		}
	}
	return out
}

// TestSession_CutOffWriteAppliedOnce: the reply of an INCR sent with Do is
// cut off after the store applied it; the client resends it with the same
// session and seq, and the store answers the first application's reply
// without applying it again.
func TestSession_CutOffWriteAppliedOnce(t *testing.T) {
	store := clienttest.NewStore()
	rec := &recorder{next: store}
	f := newFaulty(rec, cutAfterNth("INCR", 1))
	c := newClient(t, client.Options{}, startNode(t, f).Addr)
	ctx := testCtx(t)
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 1 {
		t.Fatalf("INCR with its reply cut off = %v, %v; want 1 (applied once)", v, err)
	}
	if v, _ := store.Value("n"); v.Int() != 1 {
		t.Fatalf("n = %v; want 1", v)
	}
	sends := rec.named("INCR")
	if len(sends) != 2 || sends[0].plain || sends[0].id != sends[1].id || sends[0].seq != sends[1].seq {
		t.Fatalf("INCR sends %+v; want two under the same session and seq", sends)
	}
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 2 {
		t.Fatalf("next INCR = %v, %v; want 2", v, err)
	}
	if got := rec.named("INCR"); got[2].seq != sends[0].seq+1 || got[2].floor != got[2].seq {
		t.Fatalf("next INCR sent as %+v; want seq %d with floor %[2]d (nothing else in flight)", got[2], sends[0].seq+1)
	}
	if get := rec.named("GET"); len(get) != 0 {
		t.Fatalf("unexpected GETs %v", get)
	}
	st := c.Stats()
	if st.SessionsOpened != 1 || st.SessionResends != 1 || st.UnknownOutcomes != 0 || st.Retries != 1 {
		t.Fatalf("Stats = %+v; want 1 session, 1 session resend after 1 retry, no unknown outcome", st)
	}
}

// TestSession_Pipeline: each write of a pipeline gets its own seq, reads go
// plain, and a reply cut off in the middle of the batch is resent with the
// rest: every write applied once, every reply in order. The fake node does
// not name KVORUM.SEQS in COMMAND INFO, as a node of an earlier version
// would not, so the writes go wrapped one by one (a frame would reach it
// as an unknown command).
func TestSession_Pipeline(t *testing.T) {
	store := clienttest.NewStore()
	rec := &recorder{next: store}
	f := newFaulty(rec, cutAfterNth("INCR", 2))
	c := newClient(t, client.Options{}, startNode(t, f).Addr)
	p := c.Pipeline()
	p.Do("SET", "a", "x")
	p.Do("INCR", "n")
	p.Do("INCR", "n")
	p.Do("GET", "a")
	p.Do("INCR", "n")
	vals, err := p.Exec(testCtx(t))
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if got := fmt.Sprint(vals); got != `[1 1 2 "x" 3]` {
		t.Fatalf(`replies %s; want [1 1 2 "x" 3]`, got)
	}
	if v, _ := store.Value("n"); v.Int() != 3 {
		t.Fatalf("n = %v; want 3 (each INCR applied once)", v)
	}
	var seqs []int64
	for _, w := range rec.named("INCR") {
		seqs = append(seqs, w.seq)
	}
	// The second INCR's reply was cut: it and the commands after it were
	// sent again, with the seqs they had.
	if want := []int64{2, 3, 3, 4}; !slices.Equal(seqs, want) {
		t.Fatalf("INCR seqs %v; want %v", seqs, want)
	}
	if set := rec.named("SET"); len(set) != 1 || set[0].seq != 1 || set[0].floor != 1 {
		t.Fatalf("SET sent as %+v; want seq 1, floor 1", set)
	}
	if get := rec.named("GET"); len(get) == 0 || !get[0].plain {
		t.Fatalf("GET sent as %+v; want plain", get)
	}
}

// TestSession_Expired: a session that expires under a write whose first
// send may have been applied leaves that write's outcome unknown; a write
// that only meets the expiry is sent again under a new session.
func TestSession_Expired(t *testing.T) {
	store := clienttest.NewStore()
	var once sync.Once
	node := startNode(t, resp.HandlerFunc(func(c *resp.Conn, args []resp.Value) resp.Reply {
		inner := unwrap(args)
		if strings.EqualFold(inner[0].Text(), "INCR") && inner[1].Text() == "cut" {
			cut := false
			once.Do(func() { cut = true })
			if cut {
				// Applied; then the session expires and the reply is lost.
				store.Serve(c, args)
				id, _ := resp.ParseInt([]byte(args[1].Text()))
				store.ExpireSession(id)
				c.CloseAfterReply()
				return resp.NoReply()
			}
		}
		return store.Serve(c, args)
	}))
	c := newClient(t, client.Options{}, node.Addr)
	ctx := testCtx(t)
	_, err := c.Do(ctx, "INCR", "cut")
	var ue *client.UnknownOutcomeError
	var re *resp.ReplyError
	if !errors.As(err, &ue) || !errors.As(err, &re) || !strings.HasPrefix(re.Msg, "NOSESSION") {
		t.Fatalf("INCR whose session expired after it was applied: err = %v; want an unknown outcome from NOSESSION", err)
	}
	if v, _ := store.Value("cut"); v.Int() != 1 {
		t.Fatalf("cut = %v; want 1 (applied once, not resent)", v)
	}
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 1 {
		t.Fatalf("INCR under a new session = %v, %v; want 1", v, err)
	}
	// An expiry between two writes is invisible: NOSESSION on a first send
	// means not applied.
	for _, id := range store.Sessions() {
		store.ExpireSession(id)
	}
	if v, err := c.Do(ctx, "INCR", "n"); err != nil || v.Int() != 2 {
		t.Fatalf("INCR after an expiry = %v, %v; want 2", v, err)
	}
	if st := c.Stats(); st.SessionsOpened != 3 || st.UnknownOutcomes != 1 {
		t.Fatalf("Stats = %+v; want 3 sessions opened, 1 unknown outcome", st)
	}
}

// TestSession_Disabled: with sessions off, no session is opened, writes go
// plain, and a cut-off INCR is of unknown outcome.
func TestSession_Disabled(t *testing.T) {
	store := clienttest.NewStore()
	rec := &recorder{next: store}
	f := newFaulty(rec, cutAfterNth("INCR", 2))
	c := newClient(t, client.Options{DisableSessions: true}, startNode(t, f).Addr)
	ctx := testCtx(t)
	if _, err := c.Do(ctx, "INCR", "n"); err != nil {
		t.Fatalf("INCR: %v", err)
	}
	if _, err := c.Do(ctx, "INCR", "n"); !errors.Is(err, client.ErrUnknownOutcome) {
		t.Fatalf("cut-off INCR: err = %v; want ErrUnknownOutcome", err)
	}
	for _, w := range rec.named("") {
		if !w.plain {
			t.Fatalf("request %+v; want every request plain", w)
		}
	}
	if st := c.Stats(); st.SessionsOpened != 0 || st.UnknownOutcomes != 1 {
		t.Fatalf("Stats = %+v; want no session, 1 unknown outcome", st)
	}
}

// TestSession_ConcurrentFloor: many goroutines INCR one counter while every
// seventh request's reply is cut off. The floor each request carries must
// never pass a seq still in flight (the store would then answer "seq below
// the acknowledged floor", or forget a reply and apply a resend twice): the
// counter ends at exactly the number of INCRs, and the store forgot the
// replies below the floor.
func TestSession_ConcurrentFloor(t *testing.T) {
	store := clienttest.NewStore()
	f := newFaulty(store, func(name string, n int) action {
		if name == "INCR" && n%7 == 0 {
			return cutAfter
		}
		return pass
	})
	c := newClient(t, client.Options{PoolSize: 4}, startNode(t, f).Addr)
	ctx := testCtx(t)
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for range goroutines {
		wg.Go(func() {
			for range each {
				if _, err := c.Do(ctx, "INCR", "n"); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("INCR: %v", err)
	}
	// While one write is being resent the others go on, so the floor may
	// lag during the run; once every reply is in, the next write's floor
	// acknowledges all of them, and the session keeps only its own reply.
	if _, err := c.Do(ctx, "INCR", "n"); err != nil {
		t.Fatalf("INCR after the run: %v", err)
	}
	const writes = goroutines*each + 1
	if v, _ := store.Value("n"); v.Int() != writes {
		t.Fatalf("n = %v; want %d", v, writes)
	}
	ids := store.Sessions()
	if len(ids) != 1 {
		t.Fatalf("sessions %v; want one", ids)
	}
	if floor, cached, _ := store.SessionState(ids[0]); floor != writes || cached != 1 {
		t.Fatalf("floor %d with %d replies kept; want floor %d (every earlier reply acknowledged) and 1 reply", floor, cached, writes)
	}
	if st := c.Stats(); st.SessionResends == 0 {
		t.Fatalf("Stats = %+v; want session resends", st)
	}
}

// TestSession_CloseEndsSession: Close ends the session on the server.
func TestSession_CloseEndsSession(t *testing.T) {
	store := clienttest.NewStore()
	c := newClient(t, client.Options{SessionTTL: 90 * time.Second}, startNode(t, store).Addr)
	if err := c.Set(testCtx(t), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if ids := store.Sessions(); len(ids) != 1 {
		t.Fatalf("sessions %v; want one", ids)
	}
	c.Close()
	if ids := store.Sessions(); len(ids) != 0 {
		t.Fatalf("sessions %v after Close; want none", ids)
	}
}
