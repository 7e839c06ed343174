// Command thinkload measures SET latency for clients that think between
// writes: each of -c connections sends one SET, waits for its reply, then
// sleeps for an exponentially distributed time of mean -think before the
// next, for -d. It prints throughput and the mean, median and 99th
// percentile latency. redis-benchmark's clients never think, so it cannot
// show what a write-path change costs a load that is not saturating
// (docs/BENCHMARKS.md, "Lever: linger").
//
//	go run ./bench/thinkload -addr 127.0.0.1:31337 -c 50 -think 20ms -d 8s
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/kvorum/kvorum/resp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:31337", "the node to send the SETs to (the leader)")
	clients := flag.Int("c", 50, "connections, each one write at a time")
	think := flag.Duration("think", 20*time.Millisecond, "mean think time between a reply and the next write")
	dur := flag.Duration("d", 10*time.Second, "how long to run")
	flag.Parse()
	lats, err := run(*addr, *clients, *think, *dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "thinkload:", err)
		os.Exit(1)
	}
	n := len(lats)
	if n == 0 {
		fmt.Fprintln(os.Stderr, "thinkload: no write was answered")
		os.Exit(1)
	}
	slices.Sort(lats)
	var sum time.Duration
	for _, l := range lats {
		sum += l
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	fmt.Printf("ops/s %.0f mean %.2fms p50 %.2fms p99 %.2fms\n",
		float64(n)/dur.Seconds(), ms(sum/time.Duration(n)), ms(lats[n/2]), ms(lats[n*99/100]))
}

// run drives the clients until dur has passed and returns every write's
// latency, or the first error a client met.
func run(addr string, clients int, think, dur time.Duration) ([]time.Duration, error) {
	var (
		mu    sync.Mutex
		lats  []time.Duration
		first error
		wg    sync.WaitGroup
	)
	end := time.Now().Add(dur)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine, err := client(addr, i, think, end)
			mu.Lock()
			defer mu.Unlock()
			lats = append(lats, mine...)
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return lats, first
}

// client is connection i's loop: SET, wait for the reply, think, until end.
func client(addr string, i int, think time.Duration, end time.Time) ([]time.Duration, error) {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(end.Add(30 * time.Second))
	rd := resp.NewReader(bufio.NewReader(nc), resp.Limits{})
	r := rand.New(rand.NewSource(int64(i)))
	var lats []time.Duration
	for j := 0; time.Now().Before(end); j++ {
		time.Sleep(time.Duration(r.ExpFloat64() * float64(think)))
		req := resp.AppendCommand(nil, "SET", fmt.Sprintf("thinkload:%d:%d", i, j%100), "xyz")
		start := time.Now()
		if _, err := nc.Write(req); err != nil {
			return lats, err
		}
		v, err := rd.ReadValue()
		if err != nil {
			return lats, err
		}
		if v.Kind() == resp.KindError {
			return lats, fmt.Errorf("SET: %s", v.Text())
		}
		lats = append(lats, time.Since(start))
	}
	return lats, nil
}
