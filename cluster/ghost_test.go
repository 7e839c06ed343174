package cluster_test

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvorum/kvorum/cluster"
	"github.com/kvorum/kvorum/internal/testcluster"
	"github.com/kvorum/kvorum/resp"
)

// blockedClients reads INFO clients' blocked_clients from a node.
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
	testcluster.WaitFor(t, "blocked_clients:"+want+" on "+addr, 10*time.Second, func() bool {
		return blockedClients(t, addr) == want
	})
}

// A consumer blocked in BLPOP on the leader of three disconnects; the next
// push must stay in the list, and blocked_clients must fall to 0 at once,
// with an infinite and a finite timeout. (cluster/door's test runs it on
// one node.)
func TestBlocking_DisconnectedWaiterTakesNothing(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	addr := c.Leader(10 * time.Second).ClientAddr()
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

// The same across a leader kill: a consumer leaves while blocked on the
// leader, the leader dies, and the push to the new leader stays queued.
func TestBlocking_DisconnectedWaiterAcrossLeaderKill(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	old := c.Leader(10 * time.Second)
	cn := dial(t, old.ClientAddr())
	cn.Write(resp.AppendCommand(nil, "BLPOP", "q", "0"))
	waitBlocked(t, old.ClientAddr(), "1")
	cn.Close()
	waitBlocked(t, old.ClientAddr(), "0")
	c.Kill(old.Index)
	leader := c.Leader(10 * time.Second)
	do(t, leader.ClientAddr(), "RPUSH", "q", "job-1")
	if v := do(t, leader.ClientAddr(), "LLEN", "q"); v.Int() != 1 {
		t.Fatalf("LLEN q on the new leader = %v, want 1", v)
	}
	for _, n := range c.Followers() {
		if got := blockedClients(t, n.ClientAddr()); got != "0" {
			t.Fatalf("blocked_clients on %s = %s, want 0", n.ClientAddr(), got)
		}
	}
}

// Fifty consumers block in BLPOP on the leader of three and leave at
// random (half-closing, so that any reply already decided still reaches
// them) while producers push 10,000 items: every item is received by a
// consumer or still in the list, exactly once. (cluster/door's test runs
// it on one node.)
//
// Leadership is not the subject here: the election timeouts are long, so
// that a loaded machine (-race, two cores) does not move it mid-run.
func TestBlocking_ConsumerChurnLosesNothing(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Configure: func(_ int, cfg *cluster.Config) {
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 2*time.Second, 2*time.Second, time.Second
	}})
	consumerChurn(t, c.Leader(20*time.Second).ClientAddr(), 3000) // 10,000 on one node: cluster/door
}

func consumerChurn(t *testing.T, addr string, items int) {
	const consumers, producers = 50, 4
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
	testcluster.WaitFor(t, "the consumers to drain the list", 60*time.Second, func() bool {
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

// Redis's "Linked LMOVEs": a push that wakes a chain of blocked BLMOVEs
// answers only once the chain has run, so a read right after it sees where
// the element ended up, never a state in between. On the leader of three,
// the wake is matched by the Raft log indexes of the push's batch, which
// cluster/door's test (on a fake store) cannot exercise.
func TestBlocking_LinkedMovesSettleBeforeThePushAnswers(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	addr := c.Leader(10 * time.Second).ClientAddr()
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
