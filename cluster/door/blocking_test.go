package door_test

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// blockedClients reads INFO clients' blocked_clients from the door.
func blockedClients(t testing.TB, addr string) string {
	t.Helper()
	info := do(t, addr, "INFO", "clients").Text()
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "blocked_clients:"); ok {
			return v
		}
	}
	t.Fatalf("no blocked_clients in INFO clients: %q", info)
	return ""
}

func waitBlocked(t testing.TB, addr, want string) {
	t.Helper()
	waitFor(t, "blocked_clients:"+want+" on "+addr, 10*time.Second, func() bool {
		return blockedClients(t, addr) == want
	})
}

// A blocked BLPOP is woken by a push from another client, and each pushed
// element goes to exactly one of several blocked consumers.
func TestBlocking_BLPOPWokenByPush(t *testing.T) {
	_, addr := startDoor(t)
	const consumers = 4
	got := make(chan string, consumers)
	for i := 0; i < consumers; i++ {
		go func() {
			cn := dial(t, addr)
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(20 * time.Second))
			cn.Write(resp.AppendCommand(nil, "BLPOP", "jobs", "other", "0"))
			v, err := cn.rd.ReadValue()
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- v.String()
		}()
	}
	waitFor(t, "the consumers to block", 5*time.Second, func() bool {
		return strings.Contains(do(t, addr, "INFO", "clients").Text(), "blocked_clients:4")
	})
	for _, job := range []string{"j1", "j2", "j3", "j4"} {
		if v := do(t, addr, "RPUSH", "jobs", job); v.IsError() {
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
	if v := do(t, addr, "LLEN", "jobs"); v.Int() != 0 {
		t.Fatalf("LLEN after pops = %v", v)
	}
}

// A timeout answers a null array; BLMOVE moves an element between lists.
func TestBlocking_TimeoutAndMove(t *testing.T) {
	_, addr := startDoor(t)
	start := time.Now()
	if v := do(t, addr, "BLPOP", "empty", "0.2"); !v.IsNull() || v.Kind() != resp.KindArray {
		t.Fatalf("BLPOP timeout = %v, want a null array", v)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("BLPOP returned after %v, before its timeout", d)
	}
	do(t, addr, "RPUSH", "pending", "task")
	if v := do(t, addr, "BLMOVE", "pending", "processing", "LEFT", "RIGHT", "1"); v.Text() != "task" {
		t.Fatalf("BLMOVE = %v", v)
	}
	if v := do(t, addr, "LRANGE", "processing", "0", "-1"); v.Len() != 1 {
		t.Fatalf("processing = %v", v)
	}
	if v := do(t, addr, "BRPOPLPUSH", "pending", "processing", "0.1"); !v.IsNull() || v.Kind() != resp.KindBulk {
		t.Fatalf("BRPOPLPUSH timeout = %v, want a null bulk", v)
	}
}

// A leadership change ends a blocked wait with a redirect, never silently;
// a blocking pop sent to a node that does not lead is redirected at once.
func TestBlocking_LeaderChangeRedirects(t *testing.T) {
	s, addr := startDoor(t)
	cn := dial(t, addr)
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(20 * time.Second))
	cn.Write(resp.AppendCommand(nil, "BLPOP", "jobs", "0"))
	done := make(chan resp.Value, 1)
	go func() {
		v, _ := cn.rd.ReadValue()
		done <- v
	}()
	// Wait until the request is being served, then move leadership away.
	waitFor(t, "the BLPOP to block", 5*time.Second, func() bool {
		return strings.Contains(do(t, addr, "INFO", "clients").Text(), "blocked_clients:1")
	})
	const next = "127.0.0.1:7001"
	s.stepDown(next)
	select {
	case v := <-done:
		if r, ok := resp.ParseRedirect(v); !ok || r.Leader != next {
			t.Fatalf("blocked BLPOP after leadership change = %v, want a redirect to %s", v, next)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked BLPOP was not ended by the leadership change")
	}
	waitBlocked(t, addr, "0")
	if v := do(t, addr, "BLPOP", "jobs", "0"); v.String() != (&resp.RedirectError{Leader: next}).Value().String() {
		t.Fatalf("BLPOP on a follower = %v, want MOVED 0 %s", v, next)
	}
	s.lead()
	do(t, addr, "RPUSH", "jobs", "j1")
	if v := do(t, addr, "BLPOP", "jobs", "0"); v.String() != `["jobs", "j1"]` {
		t.Fatalf("BLPOP after leading again = %v", v)
	}
}

// A consumer blocked in BLPOP disconnects; the next push must stay in the
// list (it used to be popped for the vanished waiter and lost), and
// blocked_clients must fall to 0 at once, with an infinite and a finite
// timeout. (cluster's test runs it on three nodes.)
func TestBlocking_DisconnectedWaiterTakesNothing(t *testing.T) {
	_, addr := startDoor(t)
	for _, cmd := range [][]string{
		{"BLPOP", "q", "0"},
		{"BRPOP", "q", "5"},
		{"BLMOVE", "q", "processing", "LEFT", "RIGHT", "0"},
		{"BZPOPMIN", "z", "0"},
	} {
		cn := dial(t, addr)
		cn.Write(resp.AppendCommand(nil, cmd...))
		waitBlocked(t, addr, "1")
		cn.Close()
		waitBlocked(t, addr, "0")
		do(t, addr, "RPUSH", "q", "job-1")
		do(t, addr, "ZADD", "z", "1", "job-1")
		if v := do(t, addr, "LLEN", "q"); v.Int() != 1 {
			t.Fatalf("%v: LLEN q after the push = %v, want 1: the job went to a client that had left", cmd, v)
		}
		if v := do(t, addr, "ZCARD", "z"); v.Int() != 1 {
			t.Fatalf("%v: ZCARD z after the add = %v, want 1", cmd, v)
		}
		do(t, addr, "DEL", "q", "z", "processing")
	}
}

// Fifty consumers block in BLPOP and leave at random (half-closing, so
// that any reply already decided still reaches them) while producers push
// 10,000 items: every item is received by a consumer or still in the list,
// exactly once. (cluster's test runs it on three nodes.)
func TestBlocking_ConsumerChurnLosesNothing(t *testing.T) {
	_, addr := startDoor(t)
	consumerChurn(t, addr)
}

func consumerChurn(t *testing.T, addr string) {
	const items, consumers, producers = 10000, 50, 4
	var received sync.Map // item -> true
	var dups, pushedDone atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < consumers; i++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, item := range consumeOnce(t, addr, rng) {
					if _, loaded := received.LoadOrStore(item, true); loaded {
						dups.Add(1)
					}
				}
			}
		}(int64(i))
	}
	var pwg sync.WaitGroup
	for p := 0; p < producers; p++ {
		pwg.Add(1)
		go func(p int) {
			defer pwg.Done()
			cn := dial(t, addr)
			defer cn.Close()
			// Pipelined, 50 pushes a round trip, as a busy producer sends them.
			for i := p; i < items; i += 50 * producers {
				var req []byte
				n := 0
				for j := i; j < items && j < i+50*producers; j += producers {
					req = resp.AppendCommand(req, "RPUSH", "q", fmt.Sprint("item-", j))
					n++
				}
				cn.SetDeadline(time.Now().Add(20 * time.Second))
				cn.Write(req)
				for ; n > 0; n-- {
					if v, err := cn.rd.ReadValue(); err != nil || v.IsError() {
						t.Errorf("RPUSH = %v, %v", v, err)
						return
					}
				}
			}
			pushedDone.Add(1)
		}(p)
	}
	pwg.Wait()
	waitFor(t, "the consumers to drain the list", 60*time.Second, func() bool {
		return do(t, addr, "LLEN", "q").Int() == 0
	})
	close(stop)
	wg.Wait()
	waitBlocked(t, addr, "0")
	left := do(t, addr, "LRANGE", "q", "0", "-1").Elems()
	for _, v := range left {
		if _, loaded := received.LoadOrStore(v.Text(), true); loaded {
			dups.Add(1)
		}
	}
	n := 0
	received.Range(func(_, _ any) bool { n++; return true })
	if dups.Load() != 0 || n != items {
		t.Fatalf("received or left %d distinct items of %d pushed, %d duplicates (%d left in the list)", n, items, dups.Load(), len(left))
	}
	t.Logf("%d items: %d received by consumers, %d left in the list", items, items-len(left), len(left))
}

// consumeOnce connects, sends BLPOPs and either reads their replies or,
// at random, half-closes while blocked and reads whatever still comes.
// It returns the items received.
func consumeOnce(t *testing.T, addr string, rng *rand.Rand) []string {
	cn := dial(t, addr)
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(30 * time.Second))
	var got []string
	for round := 0; round < 20; round++ {
		cn.Write(resp.AppendCommand(nil, "BLPOP", "q", "0.05"))
		if rng.Intn(3) == 0 {
			time.Sleep(time.Duration(rng.Intn(2000)) * time.Microsecond) // let the request arrive, or not
			cn.Conn.(interface{ CloseWrite() error }).CloseWrite()
			for {
				v, err := cn.rd.ReadValue()
				if err != nil {
					return got
				}
				if v.Kind() == resp.KindArray && !v.IsNull() {
					got = append(got, v.Elems()[1].Text())
				}
			}
		}
		v, err := cn.rd.ReadValue()
		if err != nil {
			t.Errorf("BLPOP: %v", err)
			return got
		}
		if v.Kind() == resp.KindArray && !v.IsNull() {
			got = append(got, v.Elems()[1].Text())
		}
	}
	return got
}

// Rounds of fifty blocked consumers of which a random part closes its
// connection outright; then exactly one item per live consumer is pushed.
// Each live consumer must get one, and nothing may be taken for the ones
// that left: the list ends empty and every item was received once.
func TestBlocking_ClosedConsumersTakeNothing(t *testing.T) {
	_, addr := startDoor(t)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	const rounds, consumers = 10, 50
	next := 0
	for r := 0; r < rounds; r++ {
		conns := make([]*conn, consumers)
		for i := range conns {
			conns[i] = dial(t, addr)
			conns[i].SetDeadline(time.Now().Add(20 * time.Second))
			conns[i].Write(resp.AppendCommand(nil, "BLPOP", "q", "0"))
		}
		waitBlocked(t, addr, fmt.Sprint(consumers))
		var live []*conn
		for _, cn := range conns {
			if rng.Intn(2) == 0 {
				cn.Close()
			} else {
				live = append(live, cn)
			}
		}
		waitBlocked(t, addr, fmt.Sprint(len(live)))
		for range live {
			do(t, addr, "RPUSH", "q", fmt.Sprint("item-", next))
			next++
		}
		for _, cn := range live {
			if v, err := cn.rd.ReadValue(); err != nil || v.Len() != 2 {
				t.Fatalf("round %d: a live consumer got %v, %v", r, v, err)
			}
			cn.Close()
		}
		if v := do(t, addr, "LLEN", "q"); v.Int() != 0 {
			t.Fatalf("round %d: LLEN = %v after every live consumer got its item", r, v)
		}
	}
	waitBlocked(t, addr, "0")
}

// A blocking pop answers at once, without blocking, what Redis refuses
// before it blocks: a key of another kind, a negative or malformed timeout.
func TestBlocking_RefusedBeforeBlocking(t *testing.T) {
	_, addr := startDoor(t)
	do(t, addr, "SET", "strkey", "v")
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
		if v := do(t, addr, tc.args...); !v.IsError() || !strings.HasPrefix(v.Text(), tc.want) {
			t.Errorf("%v = %v, want %s", tc.args, v, tc.want)
		}
	}
	waitBlocked(t, addr, "0")
}

// Redis's "Linked LMOVEs": a push that wakes a chain of blocked BLMOVEs
// answers only once the chain has run, so a read right after it sees where
// the element ended up, never a state in between. (cluster's test runs it
// on three nodes, where the wake is matched by Raft's log indexes.)
func TestBlocking_LinkedMovesSettleBeforeThePushAnswers(t *testing.T) {
	_, addr := startDoor(t)
	for round := 0; round < 5; round++ {
		rd1, rd2 := dial(t, addr), dial(t, addr)
		rd1.Write(resp.AppendCommand(nil, "BLMOVE", "list1", "list2", "RIGHT", "LEFT", "0"))
		waitBlocked(t, addr, "1")
		rd2.Write(resp.AppendCommand(nil, "BLMOVE", "list2", "list3", "LEFT", "RIGHT", "0"))
		waitBlocked(t, addr, "2")
		cn := dial(t, addr)
		cn.do(t, "RPUSH", "list1", "foo")
		for key, want := range map[string]int{"list1": 0, "list2": 0, "list3": 1} {
			if v := cn.do(t, "LRANGE", key, "0", "-1"); v.Len() != want {
				t.Fatalf("round %d: LRANGE %s right after the RPUSH = %v, want %d element(s)", round, key, v, want)
			}
		}
		for _, rd := range []*conn{rd1, rd2} {
			rd.SetDeadline(time.Now().Add(10 * time.Second))
			if v, err := rd.rd.ReadValue(); err != nil || v.Text() != "foo" {
				t.Fatalf("a linked BLMOVE got %v, %v", v, err)
			}
			rd.Close()
		}
		cn.do(t, "DEL", "list3")
		cn.Close()
	}
}
