package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kvorum/kvorum/resp"
)

// TestConcurrentClients_GroupCommit runs 50 clients at once, each sending
// 1,000 SETs one at a time (waiting for every reply, as redis-benchmark
// -P 1 does). Every write succeeds, and INFO's raft section shows far fewer
// log writes (fsyncs) than SETs: concurrent writes share disk writes,
// whether as many log entries per write or many commands per entry.
func TestConcurrentClients_GroupCommit(t *testing.T) {
	t.Parallel()
	p := start(t, t.TempDir())
	const clients, perClient = 50, 1000
	writesBefore := p.infoUint("raft_log_writes")
	entriesBefore := p.infoUint("raft_log_entries")

	began := time.Now()
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- setOneByOne(p.addr, fmt.Sprintf("c%d", c), perClient)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	took := time.Since(began)
	if t.Failed() {
		return
	}

	writes := p.infoUint("raft_log_writes") - writesBefore
	entries := p.infoUint("raft_log_entries") - entriesBefore
	t.Logf("%d SETs from %d clients in %v (%.0f/s): %d log writes (%.1f SETs per write), %d log entries",
		clients*perClient, clients, took.Round(time.Millisecond), float64(clients*perClient)/took.Seconds(),
		writes, float64(clients*perClient)/float64(max(writes, 1)), entries)
	if writes == 0 || writes >= clients*perClient/2 {
		t.Errorf("raft_log_writes grew by %d for %d SETs from %d clients at once: no group commit",
			writes, clients*perClient, clients)
	}

	c := dial(t, p.addr)
	if n := c.do("DBSIZE"); n.Int() != clients*perClient {
		t.Errorf("DBSIZE = %v, want %d", n, clients*perClient)
	}
	for _, key := range []string{"c0:0", "c17:500", "c49:999"} {
		want := key + "-value"
		if v := c.do("GET", key); v.Text() != want {
			t.Errorf("GET %s = %v, want %q", key, v, want)
		}
	}
}

// setOneByOne sends n SETs of prefix:i on its own connection, each after
// the previous reply. It runs on its own goroutine, so it returns errors
// rather than failing the test.
func setOneByOne(addr, prefix string, n int) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * ioTimeout))
	rd := resp.NewReader(conn, resp.Limits{})
	var buf []byte
	for i := 0; i < n; i++ {
		key := prefix + ":" + strconv.Itoa(i)
		buf = resp.AppendCommand(buf[:0], "SET", key, key+"-value")
		if _, err := conn.Write(buf); err != nil {
			return fmt.Errorf("SET %s: %w", key, err)
		}
		v, err := rd.ReadValue()
		if err != nil {
			return fmt.Errorf("SET %s: %w", key, err)
		}
		if v.Kind() != resp.KindInt || v.Int() != 1 {
			return fmt.Errorf("SET %s: got %v, want :1", key, v)
		}
	}
	return nil
}

func (p *proc) infoUint(name string) uint64 {
	p.t.Helper()
	n, err := strconv.ParseUint(p.infoField(name), 10, 64)
	if err != nil {
		p.t.Fatalf("INFO %s: %v", name, err)
	}
	return n
}

// TestSignals_ExitZero: SIGTERM and SIGINT shut the server down in order
// and exit 0, with clients connected and a write acknowledged.
func TestSignals_ExitZero(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			p := start(t, t.TempDir())
			c := dial(t, p.addr)
			if v := c.do("SET", "k", "v"); v.Int() != 1 {
				t.Fatalf("SET: %v", v)
			}
			if code := p.signal(sig); code != 0 {
				t.Fatalf("%v: exit code %d, want 0", sig, code)
			}
			if log := p.log.String(); !strings.Contains(log, "msg=stopped") {
				t.Errorf("no msg=stopped line in the log:\n%s", log)
			}
		})
	}
}
