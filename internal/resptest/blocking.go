package resptest

import (
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// The workloads below use the keys q, z, processing and list1 to list3 at
// addr, which must lead (or be a lone door) and hold none of them.

// DisconnectedWaiters blocks a consumer in BLPOP (infinite timeout), BRPOP
// (finite), BLMOVE and BZPOPMIN in turn and disconnects it: blocked_clients
// must fall to 0 at once, and the next push (RPUSH q, ZADD z) must stay
// where it was put instead of being taken for the consumer that left.
func DisconnectedWaiters(t testing.TB, addr string) {
	t.Helper()
	for _, cmd := range [][]string{
		{"BLPOP", "q", "0"},
		{"BRPOP", "q", "5"},
		{"BLMOVE", "q", "processing", "LEFT", "RIGHT", "0"},
		{"BZPOPMIN", "z", "0"},
	} {
		cn := Dial(t, addr)
		cn.Write(resp.AppendCommand(nil, cmd...))
		WaitBlocked(t, addr, "1")
		cn.Close()
		WaitBlocked(t, addr, "0")
		Do(t, addr, "RPUSH", "q", "job-1")
		Do(t, addr, "ZADD", "z", "1", "job-1")
		if v := Do(t, addr, "LLEN", "q"); v.Int() != 1 {
			t.Fatalf("%v: LLEN q after the push = %v, want 1: the job went to a client that had left", cmd, v)
		}
		if v := Do(t, addr, "ZCARD", "z"); v.Int() != 1 {
			t.Fatalf("%v: ZCARD z after the add = %v, want 1", cmd, v)
		}
		Do(t, addr, "DEL", "q", "z", "processing")
	}
}

// LinkedMoves is Redis's "Linked LMOVEs", five rounds: two BLMOVEs block
// in a chain (list1 -> list2 -> list3), and a read right after the RPUSH
// to list1 that wakes them must find the element at the end of the chain,
// never in between; then each BLMOVE must have answered the element.
func LinkedMoves(t testing.TB, addr string) {
	t.Helper()
	for round := 0; round < 5; round++ {
		rd1, rd2 := Dial(t, addr), Dial(t, addr)
		rd1.Write(resp.AppendCommand(nil, "BLMOVE", "list1", "list2", "RIGHT", "LEFT", "0"))
		WaitBlocked(t, addr, "1")
		rd2.Write(resp.AppendCommand(nil, "BLMOVE", "list2", "list3", "LEFT", "RIGHT", "0"))
		WaitBlocked(t, addr, "2")
		cn := Dial(t, addr)
		cn.Do(t, "RPUSH", "list1", "foo")
		for key, want := range map[string]int{"list1": 0, "list2": 0, "list3": 1} {
			if v := cn.Do(t, "LRANGE", key, "0", "-1"); v.Len() != want {
				t.Fatalf("round %d: LRANGE %s right after the RPUSH = %v, want %d element(s)", round, key, v, want)
			}
		}
		for _, rd := range []*Conn{rd1, rd2} {
			rd.SetDeadline(time.Now().Add(10 * time.Second))
			if v, err := rd.ReadValue(); err != nil || v.Text() != "foo" {
				t.Fatalf("a linked BLMOVE got %v, %v", v, err)
			}
			rd.Close()
		}
		cn.Do(t, "DEL", "list3")
		cn.Close()
	}
}

// ConsumerChurn has four producers RPUSH the values item-0 to
// item-(items-1) onto q, pipelined, while fifty consumers block in BLPOP q
// and leave at random (half-closing, so that any reply already decided
// still reaches them). Once the list is drained (it waits up to 60s),
// every item must have been received by a consumer or be still in the
// list, exactly once, and blocked_clients must be 0.
func ConsumerChurn(t testing.TB, addr string, items int) {
	t.Helper()
	const consumers, producers = 50, 4
	var received sync.Map // item -> true
	var dups atomic.Int64
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
			cn := Dial(t, addr)
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
					if v, err := cn.ReadValue(); err != nil || v.IsError() {
						t.Errorf("RPUSH = %v, %v", v, err)
						return
					}
				}
			}
		}(p)
	}
	pwg.Wait()
	WaitFor(t, "the consumers to drain the list", 60*time.Second, func() bool {
		return Do(t, addr, "LLEN", "q").Int() == 0
	})
	close(stop)
	wg.Wait()
	WaitBlocked(t, addr, "0")
	left := Do(t, addr, "LRANGE", "q", "0", "-1").Elems()
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
func consumeOnce(t testing.TB, addr string, rng *rand.Rand) []string {
	cn := Dial(t, addr)
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(30 * time.Second))
	var got []string
	for round := 0; round < 20; round++ {
		cn.Write(resp.AppendCommand(nil, "BLPOP", "q", "0.05"))
		if rng.Intn(3) == 0 {
			time.Sleep(time.Duration(rng.Intn(2000)) * time.Microsecond) // let the request arrive, or not
			cn.Conn.(interface{ CloseWrite() error }).CloseWrite()
			for {
				v, err := cn.ReadValue()
				if err != nil {
					return got
				}
				if v.Kind() == resp.KindArray && !v.IsNull() {
					got = append(got, v.Elems()[1].Text())
				}
			}
		}
		v, err := cn.ReadValue()
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
