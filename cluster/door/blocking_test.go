package door_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster/door"
	"github.com/kvorum/kvorum/internal/resptest"
	"github.com/kvorum/kvorum/resp"
)

// A blocked BLPOP is woken by a push from another client, and each pushed
// element goes to exactly one of several blocked consumers.
func TestBlocking_BLPOPWokenByPush(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	const consumers = 4
	got := make(chan string, consumers)
	for i := 0; i < consumers; i++ {
		go func() {
			cn := resptest.Dial(t, addr)
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(20 * time.Second))
			cn.Write(resp.AppendCommand(nil, "BLPOP", "jobs", "other", "0"))
			v, err := cn.ReadValue()
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- v.String()
		}()
	}
	resptest.WaitBlocked(t, addr, "4")
	for _, job := range []string{"j1", "j2", "j3", "j4"} {
		if v := resptest.Do(t, addr, "RPUSH", "jobs", job); v.IsError() {
			t.Fatalf("RPUSH = %v", v)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < consumers; i++ {
		select {
		case s := <-got:
			if !strings.HasPrefix(s, `["jobs", "j`) || seen[s] {
				t.Fatalf("consumer got %s (seen %v)", s, seen)
			}
			seen[s] = true
		case <-time.After(15 * time.Second):
			t.Fatalf("only %d of %d consumers were woken", i, consumers)
		}
	}
	if v := resptest.Do(t, addr, "LLEN", "jobs"); v.Int() != 0 {
		t.Fatalf("LLEN after pops = %v", v)
	}
}

// A timeout answers a null array; BLMOVE moves an element between lists.
func TestBlocking_TimeoutAndMove(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	start := time.Now()
	if v := resptest.Do(t, addr, "BLPOP", "empty", "0.2"); !v.IsNull() || v.Kind() != resp.KindArray {
		t.Fatalf("BLPOP timeout = %v, want a null array", v)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("BLPOP returned after %v, before its timeout", d)
	}
	resptest.Do(t, addr, "RPUSH", "pending", "task")
	if v := resptest.Do(t, addr, "BLMOVE", "pending", "processing", "LEFT", "RIGHT", "1"); v.Text() != "task" {
		t.Fatalf("BLMOVE = %v", v)
	}
	if v := resptest.Do(t, addr, "LRANGE", "processing", "0", "-1"); v.Len() != 1 {
		t.Fatalf("processing = %v", v)
	}
	if v := resptest.Do(t, addr, "BRPOPLPUSH", "pending", "processing", "0.1"); !v.IsNull() || v.Kind() != resp.KindArray {
		t.Fatalf("BRPOPLPUSH timeout = %v, want a null array, as Redis 7 answers", v)
	}
}

// A leadership change ends a blocked wait: a redirect-aware client's with
// a redirect, never silently; a plain client's by closing its connection,
// as Sentinel's failover does. A blocking pop sent to a node that does not
// lead is redirected at once.
func TestBlocking_LeaderChangeRedirects(t *testing.T) {
	t.Parallel()
	s, addr := startDoor(t)
	aware := resptest.Dial(t, addr)
	defer aware.Close()
	aware.SetDeadline(time.Now().Add(20 * time.Second))
	if v := aware.Do(t, "READWRITE"); v.Text() != "OK" {
		t.Fatalf("READWRITE = %v", v)
	}
	plain := resptest.Dial(t, addr)
	defer plain.Close()
	plain.SetDeadline(time.Now().Add(20 * time.Second))
	redirected := aware.Go("BLPOP", "jobs", "0")
	closed := plain.Go("BLPOP", "jobs", "0")
	// Wait until the requests are being served, then move leadership away.
	resptest.WaitBlocked(t, addr, "2")
	const next = "127.0.0.1:7001"
	s.stepDown(next)
	for _, w := range []struct {
		name string
		done <-chan resp.Value
		ok   func(resp.Value) bool
	}{
		{"READWRITE client's", redirected, func(v resp.Value) bool {
			r, ok := resp.ParseRedirect(v)
			return ok && r.Leader == next
		}},
		{"plain client's", closed, func(v resp.Value) bool { return v.Kind() == 0 }}, // no reply: the connection closed
	} {
		select {
		case v := <-w.done:
			if !w.ok(v) {
				t.Fatalf("%s blocked BLPOP after leadership change = %v (%v)", w.name, v, v.Kind())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s blocked BLPOP was not ended by the leadership change", w.name)
		}
	}
	resptest.WaitBlocked(t, addr, "0")
	if v := resptest.Do(t, addr, "BLPOP", "jobs", "0"); v.String() != (&resp.RedirectError{Leader: next}).Value().String() {
		t.Fatalf("BLPOP on a follower = %v, want MOVED 0 %s", v, next)
	}
	s.lead()
	resptest.Do(t, addr, "RPUSH", "jobs", "j1")
	if v := resptest.Do(t, addr, "BLPOP", "jobs", "0"); v.String() != `["jobs", "j1"]` {
		t.Fatalf("BLPOP after leading again = %v", v)
	}
}

// A consumer blocked in BLPOP disconnects; the next push must stay in the
// list (it used to be popped for the vanished waiter and lost), and
// blocked_clients must fall to 0 at once, with an infinite and a finite
// timeout. (cluster's test runs it on three nodes.)
func TestBlocking_DisconnectedWaiterTakesNothing(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	resptest.DisconnectedWaiters(t, addr)
}

// Fifty consumers block in BLPOP and leave at random (half-closing, so
// that any reply already decided still reaches them) while producers push
// 10,000 items: every item is received by a consumer or still in the list,
// exactly once. (cluster's test runs it on three nodes.)
func TestBlocking_ConsumerChurnLosesNothing(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	resptest.ConsumerChurn(t, addr, 10000)
}

// Rounds of fifty blocked consumers of which a random part closes its
// connection outright; then exactly one item per live consumer is pushed.
// Each live consumer must get one, and nothing may be taken for the ones
// that left: the list ends empty and every item was received once.
func TestBlocking_ClosedConsumersTakeNothing(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	const rounds, consumers = 10, 50
	next := 0
	for r := 0; r < rounds; r++ {
		conns := make([]*resptest.Conn, consumers)
		for i := range conns {
			conns[i] = resptest.Dial(t, addr)
			conns[i].SetDeadline(time.Now().Add(20 * time.Second))
			conns[i].Write(resp.AppendCommand(nil, "BLPOP", "q", "0"))
		}
		resptest.WaitBlocked(t, addr, fmt.Sprint(consumers))
		var live []*resptest.Conn
		for _, cn := range conns {
			if rng.Intn(2) == 0 {
				cn.Close()
			} else {
				live = append(live, cn)
			}
		}
		resptest.WaitBlocked(t, addr, fmt.Sprint(len(live)))
		for range live {
			resptest.Do(t, addr, "RPUSH", "q", fmt.Sprint("item-", next))
			next++
		}
		for _, cn := range live {
			if v, err := cn.ReadValue(); err != nil || v.Len() != 2 {
				t.Fatalf("round %d: a live consumer got %v, %v", r, v, err)
			}
			cn.Close()
		}
		if v := resptest.Do(t, addr, "LLEN", "q"); v.Int() != 0 {
			t.Fatalf("round %d: LLEN = %v after every live consumer got its item", r, v)
		}
	}
	resptest.WaitBlocked(t, addr, "0")
}

// A blocking pop answers at once, without blocking, what Redis refuses
// before it blocks: a key of another kind, a negative or malformed timeout.
func TestBlocking_RefusedBeforeBlocking(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	resptest.Do(t, addr, "SET", "strkey", "v")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"BLPOP", "strkey", "0"}, "WRONGTYPE"},
		{[]string{"BZPOPMIN", "empty", "strkey", "0"}, "WRONGTYPE"},
		{[]string{"BLPOP", "k", "-10"}, "ERR timeout is negative"},
		{[]string{"BRPOP", "k", "x"}, "ERR timeout is not a float or out of range"},
		{[]string{"BLMOVE", "k", "d", "LEFT", "UP", "0"}, "ERR syntax error"},
	} {
		if v := resptest.Do(t, addr, tc.args...); !v.IsError() || !strings.HasPrefix(v.Text(), tc.want) {
			t.Errorf("%v = %v, want %s", tc.args, v, tc.want)
		}
	}
	resptest.WaitBlocked(t, addr, "0")
}

// Redis's "Linked LMOVEs": a push that wakes a chain of blocked BLMOVEs
// answers only once the chain has run, so a read right after it sees where
// the element ended up, never a state in between. (cluster's test runs it
// on three nodes, where the wake is matched by Raft's log indexes.)
func TestBlocking_LinkedMovesSettleBeforeThePushAnswers(t *testing.T) {
	t.Parallel()
	_, addr := startDoor(t)
	resptest.LinkedMoves(t, addr)
}

// holdStore is a fakeStore whose blocking *MPOP attempts are applied at
// once but answer only when the test releases them: the window in which
// a client can leave while its pop is committed.
type holdStore struct {
	*fakeStore
	held chan chan struct{} // one release channel per attempt held
}

func (h *holdStore) Propose(client uint64, mode resp.Mode, args []resp.Value) door.Proposal {
	p := h.fakeStore.Propose(client, mode, args)
	if name := strings.ToUpper(args[0].Text()); name != "BLMPOP" && name != "BZMPOP" {
		return p
	}
	release := make(chan struct{})
	h.held <- release
	return heldProposal{p, release}
}

type heldProposal struct {
	door.Proposal
	release chan struct{}
}

func (p heldProposal) Wait() (resp.Value, uint64, error) {
	<-p.release
	return p.Proposal.Wait()
}

// A BLMPOP or BZMPOP whose client leaves after its pop is committed, but
// before the reply reaches it, gives back everything the pop took: the
// list in its order, the members with their scores.
func TestBlocking_MPopOfAVanishedClientGivesBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		setup, block, check []string
		want                string
	}{
		{[]string{"RPUSH", "q", "a", "b", "c", "d"}, []string{"BLMPOP", "0", "2", "none", "q", "LEFT", "COUNT", "3"},
			[]string{"LRANGE", "q", "0", "-1"}, `["a", "b", "c", "d"]`},
		{[]string{"RPUSH", "q", "a", "b", "c"}, []string{"BLMPOP", "0", "1", "q", "RIGHT", "COUNT", "2"},
			[]string{"LRANGE", "q", "0", "-1"}, `["a", "b", "c"]`},
		{[]string{"ZADD", "z", "1", "a", "2.5", "b", "3", "c"}, []string{"BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"},
			[]string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, `["a", "1", "b", "2.5", "c", "3"]`},
	} {
		h := &holdStore{fakeStore: newFakeStore(), held: make(chan chan struct{}, 1)}
		addr := serve(t, h.fakeStore, door.New(door.Config{Store: h}))
		if v := resptest.Do(t, addr, tc.setup...); v.IsError() {
			t.Fatalf("%q = %v", tc.setup, v)
		}
		cn := resptest.Dial(t, addr)
		cn.Write(resp.AppendCommand(nil, tc.block...))
		var release chan struct{}
		select {
		case release = <-h.held:
		case <-time.After(10 * time.Second):
			t.Fatalf("%q made no attempt", tc.block)
		}
		// The pop is applied; the client leaves before its reply.
		resptest.WaitFor(t, "the pop to be applied", 10*time.Second, func() bool {
			return resptest.Do(t, addr, tc.check...).String() != tc.want
		})
		cn.Close()
		// No request is in flight but the held one: once every connection
		// is gone, so is the blocked client's.
		resptest.WaitFor(t, "the server to see the client leave", 10*time.Second, func() bool {
			for _, c := range h.Conns() {
				select {
				case <-c.Gone():
				default:
					return false
				}
			}
			return true
		})
		close(release)
		resptest.WaitFor(t, fmt.Sprintf("%q to be given back", tc.block), 10*time.Second, func() bool {
			return resptest.Do(t, addr, tc.check...).String() == tc.want
		})
		resptest.WaitBlocked(t, addr, "0")
	}
}
